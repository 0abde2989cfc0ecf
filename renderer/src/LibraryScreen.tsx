// Library: add folders (drop, native picker, a path, or browser uploads), see what each
// holds and what is protected (encrypted into the vault), encoded or still to protect; a
// removed folder's protected copies stay until the family deletes them on purpose.
import { useQuery, useQueryClient } from '@tanstack/react-query';
import { useId, useRef, useState } from 'react';
import type { DragEvent, FormEvent } from 'react';
import { getBridge, pathForFile } from './bridge';
import { useClient } from './client-context';
import { collectFiles, isJunk, itemsOf, relPathOf } from './dropped-files';
import type { PickedFile } from './dropped-files';
import { EngineError } from './engine-client';
import type { FileView, FolderView, ItemInfo, RemovalImpact } from './engine-client';
import { errorText } from './errors-text';
import { formatBytes, formatEta, formatTime } from './format';
import {
  keys,
  useFolderFiles,
  useFolders,
  useLibraryActions,
  useSettings,
  useSettingsActions,
} from './queries';
import { SaveCopyButton } from './SaveCopy';
import { useUiStore } from './ui-store';
import {
  UploadTracker,
  forgetUnfinished,
  readUnfinished,
  type UploadFile,
  type UploadProgressView,
} from './upload-tracker';

interface UploadState extends UploadProgressView {
  failed: { rel: string; message: string }[];
  kept: number;
  finished: boolean;
}

const browserStorage = (): Storage | undefined => {
  try {
    return globalThis.localStorage;
  } catch {
    return undefined;
  }
};

export function LibraryScreen() {
  const actions = useLibraryActions();
  const folders = useFolders(actions.add.isPending);
  const client = useClient();
  const queryClient = useQueryClient();
  const [upload, setUpload] = useState<UploadState>();
  const [unfinished, setUnfinished] = useState<UploadFile[]>(() =>
    readUnfinished(browserStorage()),
  );
  const abort = useRef<AbortController>(undefined);
  const bridge = getBridge();
  // What the engine did receive of an upload whose page was closed is not "unfinished":
  // the browser may have sent every byte and only missed the answer.
  const uploadFolder = folders.data?.find((f) => f.source === 'upload');
  const stillMissing = useQuery({
    queryKey: ['unfinished-uploads', uploadFolder?.id ?? '', unfinished],
    enabled: unfinished.length > 0 && folders.data !== undefined,
    queryFn: async () => {
      const there = uploadFolder ? await client.folderFiles(uploadFolder.id) : [];
      return unfinished.filter((u) => !there.some((f) => f.rel === u.rel && f.size === u.size));
    },
  });
  const missing = stillMissing.data ?? [];

  const uploadAll = async (files: PickedFile[]) => {
    const wanted = files.filter((f) => !isJunk(f.rel));
    if (wanted.length === 0) return;
    setUnfinished([]);
    const controller = new AbortController();
    abort.current = controller;
    const tracker = new UploadTracker(
      wanted.map((f) => ({ rel: f.rel, size: f.file.size })),
      browserStorage(),
    );
    const failed: UploadState['failed'] = [];
    let kept = 0;
    const show = (finished = false) =>
      setUpload({ ...tracker.view(), failed: [...failed], kept, finished });
    show();
    for (const { file, rel } of wanted) {
      if (controller.signal.aborted) break;
      tracker.begin(rel);
      show();
      try {
        await client.upload(file, rel, {
          signal: controller.signal,
          onProgress: (sent) => {
            tracker.sent(sent);
            show();
          },
        });
        kept += 1;
      } catch (err) {
        if (controller.signal.aborted) break;
        failed.push({ rel, message: errorText(err) });
      }
      tracker.finish({ rel, size: file.size });
      show();
    }
    if (controller.signal.aborted) tracker.stop();
    show(true);
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

      <ProtectOnAddSetting />

      {actions.add.isPending && !folders.data?.some((f) => f.scanning) && (
        <p role="status">Adding the folder…</p>
      )}
      {actions.add.data?.notice && !actions.add.isPending && (
        <p className="notice" role="status">
          {actions.add.data.notice}
        </p>
      )}
      {actions.add.isError &&
        (isStopped(actions.add.error) ? (
          <p role="status" className="notice">
            Stopped. Nothing new was added.
          </p>
        ) : (
          <p role="alert" className="error">
            Could not add the folder: {errorText(actions.add.error)}
          </p>
        ))}
      {missing.length > 0 && !upload && (
        <div className="notice" role="alert" data-testid="unfinished-uploads">
          <span>
            {missing.length === 1
              ? `“${missing[0]!.rel}” was not finished uploading`
              : `${missing.length} files were not finished uploading (${missing
                  .slice(0, 3)
                  .map((f) => `“${f.rel}”`)
                  .join(', ')}${missing.length > 3 ? '…' : ''})`}{' '}
            last time: the page was closed or Keepsake stopped, and nothing of{' '}
            {missing.length === 1 ? 'it' : 'them'} was kept. Add{' '}
            {missing.length === 1 ? 'it' : 'them'} again to finish.
          </span>
          <button
            type="button"
            className="link"
            onClick={() => {
              forgetUnfinished(browserStorage());
              setUnfinished([]);
            }}
          >
            Dismiss
          </button>
        </div>
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

const isStopped = (err: unknown) => err instanceof EngineError && err.code === 'SCAN_CANCELLED';

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
      <progress max={100} value={state.percent} aria-label="Upload progress" />
      <span>
        {state.finished
          ? `Uploaded and protected ${state.kept} of ${state.total} files.`
          : `Uploading ${state.done + 1} of ${state.total}: ${state.current ?? ''} — ` +
            `${Math.floor(state.percent)}% · ${formatBytes(state.bytesDone)} of ` +
            `${formatBytes(state.bytesTotal)} · ${formatEta(state.etaSeconds)}`}
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

/** "Added" means "protected": the setting, on by default. */
function ProtectOnAddSetting() {
  const settings = useSettings();
  const update = useSettingsActions();
  const id = useId();
  if (!settings.data) return null;
  return (
    <p className="setting">
      <input
        id={id}
        type="checkbox"
        checked={settings.data.encryptOnAdd}
        disabled={update.isPending}
        onChange={(e) => update.mutate({ encryptOnAdd: e.currentTarget.checked })}
      />{' '}
      <label htmlFor={id}>Protect new files as soon as they are added (recommended)</label>
    </p>
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
  const scan = folder.scanning;
  const uploads = folder.source === 'upload';
  // Until its first scan ends a folder is not added yet: Stop is the only thing to do.
  const firstScan = folder.scannedAt === 0;
  const busy = actions.encrypt.isPending || actions.rescan.isPending || enc !== undefined || !!scan;
  const error =
    actions.encrypt.error ?? actions.rescan.error ?? actions.remove.error ?? actions.add.error;
  const bridge = getBridge();

  return (
    <li className="folder" aria-labelledby={headingId} data-testid="folder">
      <div className="folder-head">
        <h3 id={headingId}>{folder.name}</h3>
        {!uploads && <span className="path">{folder.path}</span>}
        {!folder.watching && (
          <span className="badge badge-cancelled" data-testid="folder-unwatched">
            No longer watched
          </span>
        )}
      </div>
      {uploads && (
        <p className="muted small">
          Sent from this browser. The copy in your vault is the only copy Keepsake has.
        </p>
      )}
      {!folder.watching && (
        <p className="small">
          Keepsake no longer looks at this folder on your disk. Its {folder.encrypted} protected{' '}
          {folder.encrypted === 1 ? 'copy stays' : 'copies stay'} in your vault: you can still watch
          them and save copies.
        </p>
      )}
      <dl className="counts">
        <div>
          <dt>Files</dt>
          <dd>
            {folder.total.files.toLocaleString()} · {formatBytes(folder.total.bytes)}
          </dd>
        </div>
        {Object.entries(folder.kinds)
          .filter(([, c]) => c.files > 0)
          .map(([kind, c]) => (
            <div key={kind}>
              <dt>{KIND_LABELS[kind] ?? kind}</dt>
              <dd>
                {c.files.toLocaleString()} · {formatBytes(c.bytes)}
              </dd>
            </div>
          ))}
        <div>
          <dt>Protected</dt>
          <dd data-testid="folder-encrypted">{folder.encrypted.toLocaleString()}</dd>
        </div>
        <div>
          <dt>Encoded</dt>
          <dd>{folder.encoded}</dd>
        </div>
        {folder.watching && !uploads && !firstScan && (
          <div>
            <dt>Not yet protected</dt>
            <dd data-testid="folder-pending">{folder.pending.toLocaleString()}</dd>
          </div>
        )}
        {folder.vaultOnly > 0 && !uploads && (
          <div>
            <dt>Only in the vault</dt>
            <dd data-testid="folder-vault-only">{folder.vaultOnly}</dd>
          </div>
        )}
      </dl>
      {scan && (
        <div className="encrypting" role="status" data-testid="folder-scanning">
          <progress aria-label={`Looking through ${folder.name}`} />
          <span>
            Looking through the folder… {scan.files.toLocaleString()} files,{' '}
            {formatBytes(scan.bytes)} found
          </span>
          <button type="button" onClick={() => actions.cancelScan.mutate(folder.id)}>
            Stop
          </button>
        </div>
      )}
      {enc && (
        <div className="encrypting" role="status">
          <progress
            max={Math.max(enc.total, 1)}
            value={enc.done}
            aria-label={`Protecting ${folder.name}`}
          />
          <span>
            Protecting {enc.done} of {enc.total}
            {enc.failed > 0 ? ` · ${enc.failed} could not be read` : ''}
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
      {folder.scannedAt > 0 && !uploads && (
        <p className="muted small">Last looked at {formatTime(folder.scannedAt)}</p>
      )}
      <div className="actions" hidden={firstScan}>
        {folder.watching && !uploads && (
          <>
            <button
              type="button"
              className="primary"
              disabled={busy || folder.pending === 0}
              onClick={() => actions.encrypt.mutate(folder.id)}
            >
              {enc
                ? 'Protecting…'
                : folder.pending === 0
                  ? 'All protected'
                  : `Protect ${folder.pending.toLocaleString()}`}
            </button>
            <button type="button" disabled={busy} onClick={() => actions.rescan.mutate(folder.id)}>
              {actions.rescan.isPending ? 'Looking…' : 'Look again'}
            </button>
          </>
        )}
        {!folder.watching && (
          <button
            type="button"
            disabled={actions.add.isPending}
            onClick={() => actions.add.mutate(folder.path)}
          >
            Watch again
          </button>
        )}
        {bridge?.reveal && !uploads && (
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
        {!confirmRemove && (
          <button type="button" disabled={!!scan} onClick={() => setConfirmRemove(true)}>
            {folder.watching && !uploads ? 'Remove…' : 'Delete copies…'}
          </button>
        )}
      </div>
      {confirmRemove && (
        <RemoveConfirm
          folder={folder}
          onDone={() => setConfirmRemove(false)}
          onRemove={(deleteEncrypted) =>
            actions.remove.mutate(
              { id: folder.id, deleteEncrypted },
              { onSettled: () => setConfirmRemove(false) },
            )
          }
        />
      )}
      <div id={filesId} hidden={!open}>
        {open && (
          <FileTable folder={folder} watch={enc !== undefined || folder.readingInfo === true} />
        )}
      </div>
    </li>
  );
}

/**
 * The truth before a Remove: a watched folder stops being watched and keeps its
 * protected copies unless the family ticks the box; it is told when a copy is the only
 * one left. A folder that is already unwatched (or the uploads) can only lose its copies.
 */
function RemoveConfirm(props: {
  folder: FolderView;
  onRemove: (deleteEncrypted: boolean) => void;
  onDone: () => void;
}) {
  const { folder } = props;
  const client = useClient();
  // Asked afresh each time: whether a copy is the only one depends on the disk right now.
  const asked = useQuery({
    queryKey: ['removal', folder.id],
    queryFn: () => client.removalImpact(folder.id),
    gcTime: 0,
  });
  const impact: RemovalImpact | undefined = asked.data;
  const onlyDelete = !folder.watching || folder.source === 'upload';
  const [alsoDelete, setAlsoDelete] = useState(false);
  const tickId = useId();
  const titleId = useId();
  const deleting = onlyDelete || alsoDelete;
  const copies = impact?.encrypted.files ?? 0;
  const copiesText = impact
    ? `${copies} ${copies === 1 ? 'file' : 'files'}, ${formatBytes(impact.encrypted.bytes)}`
    : '…';
  return (
    <div
      className="confirm-box"
      role="alertdialog"
      aria-labelledby={titleId}
      data-testid="remove-confirm"
    >
      <h4 id={titleId}>
        {onlyDelete
          ? `Delete the protected copies of “${folder.name}”?`
          : `Stop watching “${folder.name}”?`}
      </h4>
      {asked.isError && <p className="error">{errorText(asked.error)}</p>}
      {!onlyDelete && (
        <p>
          Keepsake will stop looking at this folder. The files on your disk are not touched.{' '}
          {copies > 0
            ? `Its protected copies (${copiesText}) stay in your vault, where you can still watch them and save copies.`
            : 'None of its files are protected yet, so nothing of it is kept in the vault.'}
        </p>
      )}
      {!onlyDelete && copies > 0 && (
        <p>
          <input
            id={tickId}
            type="checkbox"
            checked={alsoDelete}
            onChange={(e) => setAlsoDelete(e.currentTarget.checked)}
          />{' '}
          <label htmlFor={tickId}>Also delete the protected copies ({copiesText})</label>
        </p>
      )}
      {onlyDelete && <p>This deletes {copiesText} from your vault. It cannot be undone.</p>}
      {deleting && impact && impact.onlyCopies.files > 0 && (
        <p className="warning" role="alert" data-testid="only-copies-warning">
          {impact.onlyCopies.files === impact.encrypted.files
            ? `${impact.onlyCopies.files === 1 ? 'This file is' : `All ${impact.onlyCopies.files} files are`} no longer anywhere else: the vault copy is the only one left.`
            : `${impact.onlyCopies.files} of these files (${formatBytes(impact.onlyCopies.bytes)}) are no longer on your disk: the vault copy is the only one left.`}{' '}
          Deleting loses {impact.onlyCopies.files === 1 ? 'it' : 'them'} for good. Save a copy first
          if you are not sure.
        </p>
      )}
      <div className="actions">
        <button
          type="button"
          className={deleting ? 'danger' : 'primary'}
          disabled={!impact}
          onClick={() => props.onRemove(deleting)}
        >
          {onlyDelete
            ? 'Delete copies'
            : alsoDelete
              ? 'Stop watching and delete copies'
              : 'Stop watching'}
        </button>
        <button type="button" onClick={props.onDone}>
          Cancel
        </button>
      </div>
    </div>
  );
}

const ATTENTION: Record<NonNullable<ItemInfo['attention']>, string> = {
  damaged: 'Needs attention',
  unsupported: 'Cannot be shown yet',
  'too-large': 'Too large to show',
};

const CAPTURED_FROM: Record<ItemInfo['capturedFrom'], string> = {
  exif: "from the camera's record in the photo",
  quicktime: "from the phone's record in the video",
  recording: 'from the recording',
  filename: "from the file's name",
  mtime: 'when the file was last changed (no better date was found)',
};

/** The day an item was taken, as written where it was taken (not moved to this time zone). */
function takenOn(iso: string): string {
  const m = /^(\d{4})-(\d{2})-(\d{2})/.exec(iso);
  if (!m) return iso;
  return new Date(Date.UTC(+m[1]!, +m[2]! - 1, +m[3]!)).toLocaleDateString(undefined, {
    day: 'numeric',
    month: 'short',
    year: 'numeric',
    timeZone: 'UTC',
  });
}

function FileTable({ folder, watch }: { folder: FolderView; watch: boolean }) {
  const client = useClient();
  const files = useFolderFiles(folder.id, watch);
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
          <th scope="col">Taken</th>
          <th scope="col">Kind</th>
          <th scope="col">Size</th>
          <th scope="col">Protected</th>
          <th scope="col">Jobs</th>
          <th scope="col">
            <span className="visually-hidden">Actions</span>
          </th>
        </tr>
      </thead>
      <tbody>
        {files.data.map((file: FileView) => (
          <tr key={file.id}>
            <td className="rel">
              {file.rel}
              {!file.sourceExists && folder.source === 'disk' && (
                <>
                  {' '}
                  <span
                    className="badge badge-cancelled"
                    title="The original is no longer on your disk"
                  >
                    Only in the vault
                  </span>
                </>
              )}
              {file.info?.attention && (
                <>
                  {' '}
                  <span
                    className="badge badge-failed"
                    title={file.info.attentionDetail}
                    data-testid="needs-attention"
                  >
                    {ATTENTION[file.info.attention]}
                  </span>
                </>
              )}
            </td>
            <td className="taken">
              {file.info ? (
                <span title={`Date ${CAPTURED_FROM[file.info.capturedFrom]}`}>
                  {takenOn(file.info.capturedAt)}
                </span>
              ) : (
                '—'
              )}
            </td>
            <td>{file.kind}</td>
            <td className="size">{formatBytes(file.size)}</td>
            <td>{file.encrypted ? 'Yes' : 'Not yet'}</td>
            <td>
              {file.jobs.length === 0
                ? '—'
                : file.jobs
                    .slice(0, 3)
                    .map((j) => `${j.preset} (${j.state})`)
                    .join(', ')}
            </td>
            <td className="row-actions">
              {file.encrypted && (
                <button
                  type="button"
                  onClick={() => makeFrom(folder.id, file.id)}
                  aria-label={`Make something from ${file.rel}`}
                >
                  Make…
                </button>
              )}
              {file.encrypted && (
                <SaveCopyButton name={file.rel} save={(dir) => client.saveFile(file.id, dir)} />
              )}
            </td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}
