// Library: add folders (drop, native picker, a path, or browser uploads), see what each
// holds and what is encrypted, encoded or pending, encrypt, rescan, remove.
import { useQueryClient } from '@tanstack/react-query';
import { useId, useRef, useState } from 'react';
import type { DragEvent, FormEvent } from 'react';
import { getBridge, pathForFile } from './bridge';
import { useClient } from './client-context';
import { collectFiles, isJunk, itemsOf, relPathOf } from './dropped-files';
import type { PickedFile } from './dropped-files';
import type { FileView, FolderView } from './engine-client';
import { errorText } from './errors-text';
import { formatBytes, formatTime } from './format';
import { keys, useFolderFiles, useFolders, useLibraryActions } from './queries';
import { useUiStore } from './ui-store';

interface UploadState {
  total: number;
  done: number;
  current: string | undefined;
  failed: { rel: string; message: string }[];
  finished: boolean;
}

export function LibraryScreen() {
  const folders = useFolders();
  const actions = useLibraryActions();
  const client = useClient();
  const queryClient = useQueryClient();
  const [upload, setUpload] = useState<UploadState>();
  const abort = useRef<AbortController>(undefined);
  const bridge = getBridge();

  const uploadAll = async (files: PickedFile[]) => {
    const wanted = files.filter((f) => !isJunk(f.rel));
    if (wanted.length === 0) return;
    const controller = new AbortController();
    abort.current = controller;
    const state: UploadState = {
      total: wanted.length,
      done: 0,
      current: undefined,
      failed: [],
      finished: false,
    };
    setUpload({ ...state });
    for (const { file, rel } of wanted) {
      if (controller.signal.aborted) break;
      state.current = rel;
      setUpload({ ...state });
      try {
        await client.upload(file, rel, controller.signal);
      } catch (err) {
        if (controller.signal.aborted) break;
        state.failed.push({ rel, message: errorText(err) });
      }
      state.done++;
      setUpload({ ...state });
    }
    state.current = undefined;
    state.finished = true;
    setUpload({ ...state });
    await queryClient.invalidateQueries({ queryKey: keys.folders });
  };

  /** Electron gives real paths: add dropped folders in place. Otherwise, upload. */
  const addDropped = async (dt: DataTransfer) => {
    const items = itemsOf(dt);
    const toUpload: typeof items = [];
    for (const item of items) {
      const path = item.file ? pathForFile(item.file) : undefined;
      if (path && (item.entry?.isDirectory ?? false)) actions.add.mutate(path);
      else toUpload.push(item);
    }
    await uploadAll(await collectFiles(toUpload));
  };

  return (
    <section className="panel" aria-labelledby="library-heading">
      <h2 id="library-heading">Library</h2>
      <DropZone onDrop={(dt) => void addDropped(dt)} />

      <div className="add-row">
        {bridge?.pickFolder && (
          <button
            type="button"
            onClick={() =>
              void bridge.pickFolder?.().then((path) => path && actions.add.mutate(path))
            }
          >
            Choose a folder…
          </button>
        )}
        <AddByPath onAdd={(path) => actions.add.mutate(path)} busy={actions.add.isPending} />
        <UploadInputs
          onFiles={(files) => void uploadAll(files)}
          busy={!!upload && !upload.finished}
        />
      </div>

      {actions.add.isPending && <p role="status">Adding and scanning the folder…</p>}
      {actions.add.isError && (
        <p role="alert" className="error">
          Could not add the folder: {errorText(actions.add.error)}
        </p>
      )}
      {upload && (
        <UploadProgress
          state={upload}
          onCancel={() => abort.current?.abort()}
          onDismiss={() => setUpload(undefined)}
        />
      )}

      {folders.isPending && folders.fetchStatus !== 'idle' && (
        <p role="status">Loading the library…</p>
      )}
      {folders.isError && (
        <p role="alert" className="error">
          {errorText(folders.error)}
        </p>
      )}
      {folders.data?.length === 0 && (
        <p className="empty">
          Nothing here yet. Drop a folder of home videos or photos above, or type its path.
        </p>
      )}
      <ul className="folders" aria-label="Folders">
        {folders.data?.map((folder) => (
          <FolderCard key={folder.id} folder={folder} />
        ))}
      </ul>
    </section>
  );
}

function DropZone({ onDrop }: { onDrop: (dt: DataTransfer) => void }) {
  const [over, setOver] = useState(false);
  const accept = (e: DragEvent) => {
    if (!e.dataTransfer.types.includes('Files')) return;
    e.preventDefault();
    e.dataTransfer.dropEffect = 'copy';
    setOver(true);
  };
  return (
    <div
      className={over ? 'dropzone over' : 'dropzone'}
      data-testid="dropzone"
      role="group"
      aria-label="Drop folders or files here"
      onDragEnter={accept}
      onDragOver={accept}
      onDragLeave={() => setOver(false)}
      onDrop={(e) => {
        e.preventDefault();
        setOver(false);
        onDrop(e.dataTransfer);
      }}
    >
      <p>
        <strong>Drop folders or files here</strong>
      </p>
      <p className="muted">Folders are scanned with everything inside them.</p>
    </div>
  );
}

function AddByPath({ onAdd, busy }: { onAdd: (path: string) => void; busy: boolean }) {
  const [path, setPath] = useState('');
  const id = useId();
  const submit = (e: FormEvent) => {
    e.preventDefault();
    if (path.trim()) onAdd(path.trim());
  };
  return (
    <form className="inline-form" onSubmit={submit} aria-label="Add a folder by path">
      <label htmlFor={id}>Folder path</label>
      <input
        id={id}
        type="text"
        placeholder="/home/me/Videos/Tapes"
        spellCheck={false}
        value={path}
        onChange={(e) => setPath(e.target.value)}
      />
      <button type="submit" disabled={busy || !path.trim()}>
        Add folder
      </button>
    </form>
  );
}

function UploadInputs({ onFiles, busy }: { onFiles: (f: PickedFile[]) => void; busy: boolean }) {
  const files = useRef<HTMLInputElement>(null);
  const folder = useRef<HTMLInputElement>(null);
  const take = (input: HTMLInputElement | null) => {
    if (!input?.files) return;
    onFiles([...input.files].map((file) => ({ file, rel: relPathOf(file) })));
    input.value = '';
  };
  return (
    <div className="upload-inputs">
      <input
        ref={files}
        type="file"
        multiple
        hidden
        data-testid="upload-files"
        aria-label="Upload files"
        onChange={(e) => take(e.currentTarget)}
      />
      <input
        ref={folder}
        type="file"
        multiple
        hidden
        data-testid="upload-folder"
        aria-label="Upload a folder"
        {...{ webkitdirectory: '' }}
        onChange={(e) => take(e.currentTarget)}
      />
      <button type="button" disabled={busy} onClick={() => files.current?.click()}>
        Upload files…
      </button>
      <button type="button" disabled={busy} onClick={() => folder.current?.click()}>
        Upload a folder…
      </button>
    </div>
  );
}

function UploadProgress(props: {
  state: UploadState;
  onCancel: () => void;
  onDismiss: () => void;
}) {
  const { state } = props;
  return (
    <div className="upload" role="status" aria-live="polite" data-testid="upload-progress">
      <progress max={state.total} value={state.done} aria-label="Upload progress" />
      <span>
        {state.finished
          ? `Uploaded ${state.done - state.failed.length} of ${state.total} files.`
          : `Uploading ${state.done + 1} of ${state.total}: ${state.current ?? ''}`}
      </span>
      {state.failed.length > 0 && (
        <ul className="error">
          {state.failed.map((f) => (
            <li key={f.rel}>
              {f.rel}: {f.message}
            </li>
          ))}
        </ul>
      )}
      {state.finished ? (
        <button type="button" className="link" onClick={props.onDismiss}>
          Dismiss
        </button>
      ) : (
        <button type="button" onClick={props.onCancel}>
          Stop uploading
        </button>
      )}
    </div>
  );
}

const KIND_LABELS: Record<string, string> = {
  video: 'videos',
  photo: 'photos',
  audio: 'audio',
  other: 'other',
};

function FolderCard({ folder }: { folder: FolderView }) {
  const actions = useLibraryActions();
  const [open, setOpen] = useState(false);
  const [confirmRemove, setConfirmRemove] = useState(false);
  const headingId = useId();
  const filesId = useId();
  const enc = folder.encrypting;
  const busy = actions.encrypt.isPending || actions.rescan.isPending || enc !== undefined;
  const error = actions.encrypt.error ?? actions.rescan.error ?? actions.remove.error;
  const bridge = getBridge();

  return (
    <li className="folder" aria-labelledby={headingId} data-testid="folder">
      <div className="folder-head">
        <h3 id={headingId}>{folder.name}</h3>
        <span className="path">{folder.path}</span>
      </div>
      <dl className="counts">
        <div>
          <dt>Files</dt>
          <dd>
            {folder.total.files} · {formatBytes(folder.total.bytes)}
          </dd>
        </div>
        {Object.entries(folder.kinds)
          .filter(([, c]) => c.files > 0)
          .map(([kind, c]) => (
            <div key={kind}>
              <dt>{KIND_LABELS[kind] ?? kind}</dt>
              <dd>
                {c.files} · {formatBytes(c.bytes)}
              </dd>
            </div>
          ))}
        <div>
          <dt>Encrypted</dt>
          <dd data-testid="folder-encrypted">{folder.encrypted}</dd>
        </div>
        <div>
          <dt>Encoded</dt>
          <dd>{folder.encoded}</dd>
        </div>
        <div>
          <dt>Pending</dt>
          <dd data-testid="folder-pending">{folder.pending}</dd>
        </div>
      </dl>
      {enc && (
        <div className="encrypting" role="status">
          <progress
            max={Math.max(enc.total, 1)}
            value={enc.done}
            aria-label={`Encrypting ${folder.name}`}
          />
          <span>
            Encrypting {enc.done} of {enc.total}
            {enc.failed > 0 ? ` · ${enc.failed} failed` : ''}
          </span>
        </div>
      )}
      {folder.lastError && (
        <p className="error" role="alert">
          {folder.lastError.message}
        </p>
      )}
      {error && (
        <p className="error" role="alert">
          {errorText(error)}
        </p>
      )}
      <p className="muted small">Scanned {formatTime(folder.scannedAt)}</p>
      <div className="actions">
        <button
          type="button"
          className="primary"
          disabled={busy || folder.pending === 0}
          onClick={() => actions.encrypt.mutate(folder.id)}
        >
          {enc
            ? 'Encrypting…'
            : folder.pending === 0
              ? 'All encrypted'
              : `Encrypt ${folder.pending}`}
        </button>
        <button type="button" disabled={busy} onClick={() => actions.rescan.mutate(folder.id)}>
          {actions.rescan.isPending ? 'Scanning…' : 'Rescan'}
        </button>
        {bridge?.reveal && (
          <button type="button" onClick={() => void bridge.reveal?.(folder.path).catch(() => {})}>
            Show in file manager
          </button>
        )}
        <button
          type="button"
          aria-expanded={open}
          aria-controls={filesId}
          onClick={() => setOpen(!open)}
        >
          {open ? 'Hide files' : 'Show files'}
        </button>
        {confirmRemove ? (
          <span className="confirm">
            Remove from the library? (Your files stay where they are.)
            <button
              type="button"
              className="danger"
              onClick={() => actions.remove.mutate(folder.id)}
            >
              Remove
            </button>
            <button type="button" onClick={() => setConfirmRemove(false)}>
              Keep
            </button>
          </span>
        ) : (
          <button type="button" onClick={() => setConfirmRemove(true)}>
            Remove…
          </button>
        )}
      </div>
      <div id={filesId} hidden={!open}>
        {open && <FileTable folderId={folder.id} watch={enc !== undefined} />}
      </div>
    </li>
  );
}

function FileTable({ folderId, watch }: { folderId: string; watch: boolean }) {
  const files = useFolderFiles(folderId, watch);
  const makeFrom = useUiStore((s) => s.makeFrom);
  if (files.isPending) return <p role="status">Loading files…</p>;
  if (files.isError)
    return (
      <p role="alert" className="error">
        {errorText(files.error)}
      </p>
    );
  if (files.data.length === 0) return <p className="empty">This folder has no files.</p>;
  return (
    <table className="files">
      <thead>
        <tr>
          <th scope="col">File</th>
          <th scope="col">Kind</th>
          <th scope="col">Size</th>
          <th scope="col">Encrypted</th>
          <th scope="col">Jobs</th>
          <th scope="col">
            <span className="visually-hidden">Actions</span>
          </th>
        </tr>
      </thead>
      <tbody>
        {files.data.map((file: FileView) => (
          <tr key={file.id}>
            <td className="rel">{file.rel}</td>
            <td>{file.kind}</td>
            <td>{formatBytes(file.size)}</td>
            <td>{file.encrypted ? 'Yes' : 'Not yet'}</td>
            <td>
              {file.jobs.length === 0
                ? '—'
                : file.jobs
                    .slice(0, 3)
                    .map((j) => `${j.preset} (${j.state})`)
                    .join(', ')}
            </td>
            <td>
              <button
                type="button"
                onClick={() => makeFrom(folderId, file.id)}
                aria-label={`Make something from ${file.rel}`}
              >
                Make…
              </button>
            </td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}
