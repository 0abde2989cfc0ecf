// What a finished job leaves: "Save a copy…" of its results into a folder the family picks
// (the app's folder picker, or a typed path in a plain browser), with progress, and a
// Remove that first says exactly what goes and that it cannot be undone.
import { useQuery } from '@tanstack/react-query';
import { useId, useState } from 'react';
import type { FormEvent } from 'react';
import { getBridge } from './bridge';
import { useClient } from './client-context';
import type { DesktopJob, SaveTaskView } from './engine-client';
import { errorText } from './errors-text';
import { formatBytes } from './format';

const PICTURE = /\.(jpe?g|png|webp|avif|gif)$/i;

/** A job's outputs that are pictures (a photo-web result, thumbnails). */
export function pictures(job: DesktopJob): DesktopJob['outputs'] {
  return job.outputs.filter((o) => PICTURE.test(o.name));
}

/** Whether the Player can show what a succeeded job made: a video, or pictures. */
export function canOpen(job: DesktopJob): boolean {
  return job.playUrl !== undefined || (job.filesUrl !== undefined && pictures(job).length > 0);
}

/** "Save a copy…" of a succeeded job's results; the engine never replaces a file. */
export function SaveResultsButton({ job, title }: { job: DesktopJob; title: string }) {
  const client = useClient();
  const bridge = getBridge();
  const [asking, setAsking] = useState(false);
  const [task, setTask] = useState<SaveTaskView>();
  const [error, setError] = useState<unknown>();

  const start = async (dir: string) => {
    setError(undefined);
    setAsking(false);
    try {
      setTask(await client.saveJob(job.id, dir));
    } catch (err) {
      setError(err);
    }
  };
  const choose = async () => {
    if (bridge?.pickFolder) {
      const dir = await bridge.pickFolder();
      if (dir) await start(dir);
    } else {
      setAsking(true);
    }
  };

  return (
    <span className="save-copy">
      {!asking && (
        <button type="button" onClick={() => void choose()} aria-label={`Save a copy of ${title}`}>
          Save a copy…
        </button>
      )}
      {asking && (
        <FolderForm
          title={title}
          onSave={(dir) => void start(dir)}
          onCancel={() => setAsking(false)}
        />
      )}
      {task && <SaveProgress key={task.id} first={task} />}
      {error !== undefined && (
        <span className="error" role="alert">
          {errorText(error)}
        </span>
      )}
    </span>
  );
}

function FolderForm(props: { title: string; onSave: (dir: string) => void; onCancel: () => void }) {
  const [dir, setDir] = useState('');
  const id = useId();
  const submit = (e: FormEvent) => {
    e.preventDefault();
    if (dir.trim()) props.onSave(dir.trim());
  };
  return (
    <form className="inline-form" onSubmit={submit} aria-label={`Where to save ${props.title}`}>
      <label htmlFor={id}>Save into folder</label>
      <input
        id={id}
        type="text"
        placeholder="/home/me/Desktop"
        spellCheck={false}
        value={dir}
        autoFocus
        onChange={(e) => setDir(e.target.value)}
      />
      <button type="submit" className="primary" disabled={!dir.trim()}>
        Save
      </button>
      <button type="button" onClick={props.onCancel}>
        Cancel
      </button>
    </form>
  );
}

function SaveProgress({ first }: { first: SaveTaskView }) {
  const client = useClient();
  const bridge = getBridge();
  const { data } = useQuery({
    queryKey: ['save', first.id],
    queryFn: () => client.saveTask(first.id),
    initialData: first,
    refetchInterval: (q) => (q.state.data?.state === 'running' ? 500 : false),
  });
  const task = data ?? first;
  if (task.state === 'failed') {
    return (
      <span className="error" role="alert">
        Could not save {task.label}: {task.error?.message}
      </span>
    );
  }
  if (task.state === 'done') {
    return (
      <span role="status" data-testid="job-save-done">
        Saved to {task.path}
        {bridge?.reveal && task.path && (
          <button
            type="button"
            className="link"
            onClick={() => void bridge.reveal?.(task.path!).catch(() => {})}
          >
            Show in file manager
          </button>
        )}
      </span>
    );
  }
  const pct = task.total > 0 ? Math.min(100, Math.floor((100 * task.bytes) / task.total)) : 0;
  return (
    <span role="status">
      <progress max={100} value={pct} aria-label={`Saving ${task.label}`} /> Saving {task.label}…{' '}
      {pct}% ({formatBytes(Math.min(task.bytes, task.total))} of {formatBytes(task.total)})
    </span>
  );
}

/** Asks before a finished job's results are deleted, naming each file and its size. */
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
