// What a finished job leaves: "Save a copy…" of its results into a folder the family picks
// (the app's folder picker, or a typed path in a plain browser), with progress, and a
// Remove that first says exactly what goes and that it cannot be undone.
import { useId } from 'react';
import { useClient } from './client-context';
import { DeliveredNote } from './DeliveredNote';
import type { DesktopJob } from './engine-client';
import { formatBytes } from './format';
import { SaveCopyButton } from './SaveCopy';

const PICTURE = /\.(jpe?g|png|webp|avif|gif)$/i;

/** A job's outputs that are pictures (a photo-web result, thumbnails). */
export function pictures(job: DesktopJob): DesktopJob['outputs'] {
  return job.outputs.filter((o) => PICTURE.test(o.name));
}

/** Whether the Player can show what a succeeded job made: a video, or pictures. */
export function canOpen(job: DesktopJob): boolean {
  return job.playUrl !== undefined || (job.filesUrl !== undefined && pictures(job).length > 0);
}

/**
 * "Save a copy…" of a succeeded job's results (the engine never replaces a file), and,
 * when automated delivery already saved one into the family's folder, where it went.
 */
export function SaveResultsButton({ job, title }: { job: DesktopJob; title: string }) {
  const client = useClient();
  return (
    <>
      <SaveCopyButton name={title} save={(dir) => client.saveJob(job.id, dir)} />
      {job.delivery && <DeliveredNote delivery={job.delivery} />}
    </>
  );
}

export function ConfirmRemove(props: {
  job: DesktopJob;
  title: string;
  busy: boolean;
  onRemove: () => void;
  onCancel: () => void;
}) {
  const { job } = props;
  const titleId = useId();
  const total = job.outputs.reduce((sum, o) => sum + o.size, 0);
  const shown = job.outputs.slice(0, 8);
  return (
    <div
      className="confirm-box"
      role="alertdialog"
      aria-labelledby={titleId}
      data-testid="job-remove-confirm"
    >
      <h4 id={titleId}>Delete what this job made?</h4>
      <p>
        This deletes {job.outputs.length === 1 ? 'its result' : `its ${job.outputs.length} results`}{' '}
        ({formatBytes(total)}) from your vault:
      </p>
      <ul className="small">
        {shown.map((o) => (
          <li key={o.name}>
            {o.name} · {formatBytes(o.size)}
          </li>
        ))}
        {job.outputs.length > shown.length && <li>and {job.outputs.length - shown.length} more</li>}
      </ul>
      <p>
        <strong>This cannot be undone.</strong> The file it was made from stays in your library.
        Save a copy first if you want to keep the result.
      </p>
      <div className="actions">
        <button type="button" className="danger" disabled={props.busy} onClick={props.onRemove}>
          Delete {job.outputs.length === 1 ? 'the result' : 'the results'}
        </button>
        <button type="button" onClick={props.onCancel}>
          Keep {job.outputs.length === 1 ? 'it' : 'them'}
        </button>
      </div>
    </div>
  );
}
