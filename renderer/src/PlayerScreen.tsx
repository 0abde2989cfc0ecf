// Player: opens a finished job through the engine's /play capability URLs. A video plays:
// HLS through hls.js (loaded only here, with a dynamic import) where Media Source works,
// else natively; MP4 always natively; seeking works in both. Pictures are shown: one photo
// large, several (thumbnails) as a grid, any of them large on a click.
import { useEffect, useRef, useState } from 'react';
import type { DesktopJob } from './engine-client';
import { errorText } from './errors-text';
import { canOpen, pictures } from './JobResults';
import { formatClock, formatTime } from './format';
import { useJobs } from './queries';
import { useUiStore } from './ui-store';

export function isHls(url: string): boolean {
  return /\.m3u8(?:$|[?#])/i.test(url);
}

function Pictures({ job, base }: { job: DesktopJob; base: string }) {
  const shown = pictures(job);
  const [open, setOpen] = useState(shown.length === 1 ? shown[0]?.name : undefined);
  const src = (name: string) => `${base}${name.split('/').map(encodeURIComponent).join('/')}`;
  if (open) {
    const at = shown.findIndex((o) => o.name === open);
    return (
      <figure className="picture" data-testid="viewer-picture">
        <img src={src(open)} alt={`${job.preset}: ${open}`} />
        <figcaption className="muted small">
          {open}
          {shown.length > 1 && (
            <>
              {' '}
              · {at + 1} of {shown.length}{' '}
              <button type="button" className="link" onClick={() => setOpen(undefined)}>
                Show all
              </button>
              <button
                type="button"
                className="link"
                disabled={at <= 0}
                onClick={() => setOpen(shown[at - 1]?.name)}
              >
                Previous
              </button>
              <button
                type="button"
                className="link"
                disabled={at >= shown.length - 1}
                onClick={() => setOpen(shown[at + 1]?.name)}
              >
                Next
              </button>
            </>
          )}
        </figcaption>
      </figure>
    );
  }
  return (
    <ul className="picture-grid" aria-label={`Pictures made by ${job.preset}`}>
      {shown.map((o) => (
        <li key={o.name}>
          <button type="button" onClick={() => setOpen(o.name)} aria-label={`Show ${o.name}`}>
            <img src={src(o.name)} alt="" loading="lazy" />
          </button>
        </li>
      ))}
    </ul>
  );
}

export default function PlayerScreen() {
  const jobs = useJobs();
  const playJobId = useUiStore((s) => s.playJobId);
  const play = useUiStore((s) => s.play);
  const go = useUiStore((s) => s.go);
  const playable = (jobs.data ?? []).filter((j) => j.state === 'succeeded' && canOpen(j));
  const job = playable.find((j) => j.id === playJobId) ?? playable[0];

  return (
    <section className="panel" aria-labelledby="player-heading">
      <h2 id="player-heading">Player</h2>
      {jobs.isError && (
        <p role="alert" className="error">
          {errorText(jobs.error)}
        </p>
      )}
      {jobs.data && playable.length === 0 && (
        <div className="empty">
          <p>
            Nothing to show yet. Finished jobs that make a video (such as hls-playback or web-h264)
            or pictures (photo-web, thumbnails) appear here.
          </p>
          <button type="button" onClick={() => go('make')}>
            Make something
          </button>
        </div>
      )}
      {playable.length > 0 && (
        <div className="field">
          <label htmlFor="player-pick">Result</label>
          <select id="player-pick" value={job?.id ?? ''} onChange={(e) => play(e.target.value)}>
            {playable.map((j) => (
              <option key={j.id} value={j.id}>
                {j.preset} · {formatTime(j.finishedAt ?? j.createdAt)} · {j.id}
              </option>
            ))}
          </select>
        </div>
      )}
      {job?.playUrl && <Video key={job.id} job={job} url={job.playUrl} />}
      {job && !job.playUrl && job.filesUrl && (
        <Pictures key={job.id} job={job} base={job.filesUrl} />
      )}
    </section>
  );
}

function Video({ job, url }: { job: DesktopJob; url: string }) {
  const video = useRef<HTMLVideoElement>(null);
  // Keyed by job, so a new video starts from fresh state.
  const [engine, setEngine] = useState<'hls.js' | 'native' | undefined>(
    isHls(url) ? undefined : 'native',
  );
  const [error, setError] = useState<string>();
  const [time, setTime] = useState({ current: 0, duration: 0 });

  useEffect(() => {
    const el = video.current;
    if (!el) return;
    let destroyed = false;
    let destroy: (() => void) | undefined;

    if (!isHls(url)) {
      el.src = url;
    } else {
      void import('hls.js').then(
        ({ default: Hls }) => {
          if (destroyed) return;
          if (Hls.isSupported()) {
            const hls = new Hls({ enableWorker: true });
            hls.on(Hls.Events.ERROR, (_e, data) => {
              if (!data.fatal) return;
              if (data.type === Hls.ErrorTypes.MEDIA_ERROR) hls.recoverMediaError();
              else setError(`Playback stopped: ${data.details}.`);
            });
            hls.loadSource(url);
            hls.attachMedia(el);
            destroy = () => hls.destroy();
            setEngine('hls.js');
          } else if (el.canPlayType('application/vnd.apple.mpegurl')) {
            el.src = url;
            setEngine('native');
          } else {
            setError('This browser can play neither HLS nor Media Source streams.');
          }
        },
        (err: unknown) => setError(`The player could not load: ${errorText(err)}`),
      );
    }
    return () => {
      destroyed = true;
      destroy?.();
      el.removeAttribute('src');
      el.load();
    };
  }, [url]);

  return (
    <div className="player">
      <video
        ref={video}
        controls
        playsInline
        preload="metadata"
        data-testid="player-video"
        aria-label={`Video: ${job.preset}`}
        onTimeUpdate={(e) =>
          setTime({ current: e.currentTarget.currentTime, duration: e.currentTarget.duration })
        }
        onLoadedMetadata={(e) =>
          setTime({ current: e.currentTarget.currentTime, duration: e.currentTarget.duration })
        }
        onError={() => {
          const code = video.current?.error?.code;
          setError(`The video could not be played${code ? ` (media error ${code})` : ''}.`);
        }}
      />
      <p className="muted small" aria-live="off">
        {formatClock(time.current)} / {formatClock(time.duration)}
        {engine ? ` · ${engine === 'hls.js' ? 'HLS via hls.js' : 'native playback'}` : ''}
      </p>
      {error && (
        <p role="alert" className="error">
          {error}
        </p>
      )}
    </div>
  );
}
