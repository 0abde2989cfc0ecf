// "Save a copy…": decrypts a library item or a job's results into a folder the family
// picks (the app's folder picker, or a typed path in a plain browser), with progress, and
// says where the copy went. Nothing is ever replaced: the engine picks the next free name.
import { useQuery } from '@tanstack/react-query';
import { useId, useState } from 'react';
import type { FormEvent } from 'react';
import { getBridge } from './bridge';
import { useClient } from './client-context';
import type { SaveTaskView } from './engine-client';
import { ErrorMessage } from './ErrorMessage';
import { formatBytes } from './format';

/** `save` starts the engine's save into a folder (a library item's, or a job's results). */
export function SaveCopyButton(props: {
  name: string;
  save: (dir: string) => Promise<SaveTaskView>;
}) {
  const { name } = props;
  const client = useClient();
  const bridge = getBridge();
  const [asking, setAsking] = useState(false);
  const [started, setStarted] = useState<SaveTaskView>();
  const [error, setError] = useState<unknown>();
  const { data: task } = useQuery({
    queryKey: ['save', started?.id ?? ''],
    queryFn: () => client.saveTask(started!.id),
    enabled: started !== undefined,
    initialData: started,
    refetchInterval: (q) => (q.state.data?.state === 'running' ? 500 : false),
  });

  const start = async (dir: string) => {
    setError(undefined);
    setAsking(false);
    try {
      setStarted(await props.save(dir));
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
      {!asking && task?.state !== 'running' && (
        <button type="button" onClick={() => void choose()} aria-label={`Save a copy of ${name}`}>
          Save a copy…
        </button>
      )}
      {asking && (
        <FolderPathForm
          name={name}
          onSave={(dir) => void start(dir)}
          onCancel={() => setAsking(false)}
        />
      )}
      {task && <SaveProgress task={task} />}
      {error !== undefined && (
        <span className="error" role="alert">
          <ErrorMessage error={error} />
        </span>
      )}
    </span>
  );
}

function FolderPathForm(props: {
  name: string;
  onSave: (dir: string) => void;
  onCancel: () => void;
}) {
  const [dir, setDir] = useState('');
  const id = useId();
  const submit = (e: FormEvent) => {
    e.preventDefault();
    if (dir.trim()) props.onSave(dir.trim());
  };
  return (
    <form className="inline-form" onSubmit={submit} aria-label={`Where to save ${props.name}`}>
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

function SaveProgress({ task }: { task: SaveTaskView }) {
  const bridge = getBridge();
  if (task.state === 'failed') {
    return (
      <span className="error" role="alert">
        Could not save {task.label}: {task.error?.message}
      </span>
    );
  }
  if (task.state === 'done') {
    return (
      <span role="status" data-testid="save-done">
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
  const pct = task.total > 0 ? Math.floor((100 * task.bytes) / task.total) : 0;
  return (
    <span role="status">
      <progress max={100} value={pct} aria-label={`Saving ${task.label}`} /> Saving {task.label}…{' '}
      {pct}% ({formatBytes(task.bytes)} of {formatBytes(task.total)})
    </span>
  );
}
