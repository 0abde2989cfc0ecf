// Adding to the library: drop folders or files, the native folder picker, a path typed in,
// or uploads from the browser (encrypted as they stream in, with progress, and the files a
// closed page did not finish named on return). Shown in both Library views.
import { useQuery, useQueryClient } from '@tanstack/react-query';
import { useId, useRef, useState } from 'react';
import type { DragEvent, FormEvent, ReactNode } from 'react';
import { getBridge, pathForFile } from './bridge';
import { useClient } from './client-context';
import { collectFiles, isJunk, itemsOf, relPathOf } from './dropped-files';
import type { PickedFile } from './dropped-files';
import { EngineError } from './engine-client';
import { errorText } from './errors-text';
import { formatBytes, formatEta } from './format';
import { keys, useFolders, useLibraryActions, useSettings, useSettingsActions } from './queries';
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

/**
 * `compact`: one line (the drop zone and a button that opens the rest), so the timeline
 * below keeps the room; messages and upload progress show either way.
 */
export function LibraryAdd({ compact = false }: { compact?: boolean }) {
  const [opened, setOpened] = useState(false);
  const open = !compact || opened;
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
    await queryClient.invalidateQueries({ queryKey: keys.libraryItems });
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
    <div className="library-add">
      <DropZone onDrop={(dt) => void addDropped(dt)}>
        {!open && (
          <button type="button" className="link" onClick={() => setOpened(true)}>
            Add photos and videos…
          </button>
        )}
      </DropZone>

      {open && (
        <>
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
        </>
      )}

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
    </div>
  );
}

const isStopped = (err: unknown) => err instanceof EngineError && err.code === 'SCAN_CANCELLED';

function DropZone({
  onDrop,
  children,
}: {
  onDrop: (dt: DataTransfer) => void;
  children?: ReactNode;
}) {
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
      {children}
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
