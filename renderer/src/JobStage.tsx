// What a job made, on the viewer's stage: a video plays, pictures (a photo for sharing,
// a poster and contact sheet) show one at a time.
import { useState } from 'react';
import type { DesktopJob } from './engine-client';
import { pictures } from './JobResults';
import { outputName } from './output-names';
import { VideoPlayer } from './VideoPlayer';
import { useRememberWatched } from './watched-queries';

export function JobStage(props: { job: DesktopJob; fileId: string | undefined; label: string }) {
  const { job, fileId } = props;
  const rememberWatched = useRememberWatched();
  const name = `${outputName(job.preset)} of ${props.label}`;
  const shown = pictures(job);
  const [at, setAt] = useState(0);
  if (job.state !== 'succeeded') {
    return (
      <div className="stage-message" role="status">
        <p>This is not ready yet.</p>
      </div>
    );
  }
  if (job.playUrl) {
    return (
      <VideoPlayer
        url={job.playUrl}
        label={name}
        autoPlay
        onPlay={() => fileId && rememberWatched(fileId)}
      />
    );
  }
  const picture = shown[at];
  if (!job.filesUrl || !picture) {
    return (
      <div className="stage-message">
        <p>There is nothing to show here. Save a copy to open it elsewhere.</p>
      </div>
    );
  }
  const base = job.filesUrl;
  const src = (file: string) => `${base}${file.split('/').map(encodeURIComponent).join('/')}`;
  return (
    <div className="job-stage">
      <figure className="job-picture" data-testid="viewer-picture">
        <img src={src(picture.name)} alt={shown.length > 1 ? `${name}, picture ${at + 1}` : name} />
        {shown.length > 1 && (
          <figcaption className="muted small">
            {at + 1} of {shown.length}
          </figcaption>
        )}
      </figure>
      {shown.length > 1 && (
        <ul className="job-picture-strip" aria-label="Pictures in this result">
          {shown.map((p, i) => (
            <li key={p.name}>
              <button
                type="button"
                aria-label={`Show picture ${i + 1}`}
                aria-current={i === at ? 'true' : undefined}
                onClick={() => setAt(i)}
              >
                <img src={src(p.name)} alt={`Picture ${i + 1}`} loading="lazy" />
              </button>
            </li>
          ))}
        </ul>
      )}
    </div>
  );
}
