// A folder's files as a table (the Details view): when each was taken and how Keepsake
// knows, whether it is protected, what jobs read it, and Make… / Save a copy.
import { useClient } from './client-context';
import type { FileView, FolderView, ItemInfo } from './engine-client';
import { errorText } from './errors-text';
import { formatBytes } from './format';
import { useFolderFiles } from './queries';
import { SaveCopyButton } from './SaveCopy';
import { useUiStore } from './ui-store';

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

export function FileTable({ folder, watch }: { folder: FolderView; watch: boolean }) {
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
