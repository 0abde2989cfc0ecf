// One library folder in the Details view: what it holds and what is protected, its scan
// and protection progress, Look again, Remove (with the honest confirmation), and its files.
import { useQuery } from '@tanstack/react-query';
import { useId, useState } from 'react';
import { getBridge } from './bridge';
import { useClient } from './client-context';
import type { FolderView, RemovalImpact } from './engine-client';
import { errorText } from './errors-text';
import { FileTable } from './FileTable';
import { formatBytes, formatTime } from './format';
import { useLibraryActions } from './queries';

const KIND_LABELS: Record<string, string> = {
  video: 'videos',
  photo: 'photos',
  audio: 'audio',
  other: 'other',
};

export function FolderCard({ folder }: { folder: FolderView }) {
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
      {folder.leftOut && (
        <p className="muted small" data-testid="folder-left-out">
          {folder.leftOut} These are not in your library: keep their originals.
        </p>
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
