// Library: every picture and video on a timeline (Timeline.tsx), or the folders as before
// (Details: what each holds and what is protected, with Look again, Remove and the files).
// Adding folders or files (LibraryAdd.tsx) stays in view in both.
import { useQueryClient } from '@tanstack/react-query';
import { useEffect, useMemo, useRef } from 'react';
import type { FolderView, LibraryItem } from './engine-client';
import { errorText } from './errors-text';
import { FolderCard } from './FolderCard';
import { LibraryAdd } from './LibraryAdd';
import { keys, useFolders, useLibraryItems } from './queries';
import { Timeline } from './Timeline';
import { useTimelineStore } from './timeline-store';
import type { LibraryView } from './timeline-store';
import './timeline.css';

const VIEWS: { id: LibraryView; label: string }[] = [
  { id: 'timeline', label: 'Timeline' },
  { id: 'details', label: 'Details' },
];

export function LibraryScreen() {
  const folders = useFolders();
  const view = useTimelineStore((s) => s.view);
  const setView = useTimelineStore((s) => s.setView);
  const empty = folders.data?.length === 0;

  return (
    <section className="panel library" aria-labelledby="library-heading">
      <div className="heading-row">
        <h2 id="library-heading">Library</h2>
        {folders.data && (
          <div className="filters view-toggle" role="group" aria-label="View">
            {VIEWS.map((v) => (
              <button
                key={v.id}
                type="button"
                aria-pressed={view === v.id}
                onClick={() => setView(v.id)}
              >
                {v.label}
              </button>
            ))}
          </div>
        )}
      </div>
      {empty && (
        <div className="callout start" data-testid="library-start">
          <h3>Add a folder of photos and videos to begin</h3>
          <p>
            Drop it below, choose it, or type where it is. Keepsake keeps a protected copy of every
            photo and video in your vault and shows them here by the day they were taken. The files
            on your computer are never changed.
          </p>
        </div>
      )}
      <LibraryAdd />

      {folders.isPending && folders.fetchStatus !== 'idle' && (
        <p role="status">Loading the library…</p>
      )}
      {folders.isError && (
        <p role="alert" className="error">
          {errorText(folders.error)}
        </p>
      )}
      {folders.data && !empty && view === 'timeline' && <TimelineView folders={folders.data} />}
      {view === 'details' && (
        <ul className="folders" aria-label="Folders">
          {folders.data?.map((folder) => (
            <FolderCard key={folder.id} folder={folder} />
          ))}
        </ul>
      )}
    </section>
  );
}

/**
 * Photos and videos still waiting for their date or picture: the engine reads and makes
 * them in the background after protecting (not at all for a file left unprotected, which
 * PICTURE_PATIENCE_MS below covers).
 */
const awaitingPicture = (i: LibraryItem) =>
  (i.kind === 'photo' || i.kind === 'video') &&
  !i.attention &&
  (!i.pictures.thumb || i.capturedAt === undefined);

/** How often the timeline asks again while folders are read or pictures are made. */
const FOLLOW_MS = 2_000;
/** Pictures that stop coming (one the engine cannot make and has not flagged) stop the asking. */
const PICTURE_PATIENCE_MS = 60_000;

function TimelineView({ folders }: { folders: FolderView[] }) {
  const items = useLibraryItems();
  const queryClient = useQueryClient();
  // While a folder is looked through, protected or read, and while pictures are still being
  // made, the timeline fills in by itself.
  const foldersBusy = folders.some(
    (f) => f.scanning || f.encrypting !== undefined || f.readingInfo,
  );
  const waiting = items.data?.some(awaitingPicture) ?? false;
  // When the folders' work ends, ask once more: its last items may have landed after the
  // last ask.
  const wasBusy = useRef(foldersBusy);
  useEffect(() => {
    if (wasBusy.current && !foldersBusy) {
      void queryClient.invalidateQueries({ queryKey: keys.libraryItems });
    }
    wasBusy.current = foldersBusy;
  }, [foldersBusy, queryClient]);
  useEffect(() => {
    if (!foldersBusy && !waiting) return;
    let seen = -1;
    let since = Date.now();
    const timer = setInterval(() => {
      const data = queryClient.getQueryData<LibraryItem[]>(keys.libraryItems);
      const count = data?.filter(awaitingPicture).length ?? 0;
      if (count !== seen) {
        seen = count;
        since = Date.now();
      }
      if (foldersBusy || Date.now() - since < PICTURE_PATIENCE_MS) {
        void queryClient.invalidateQueries({ queryKey: keys.libraryItems });
      }
    }, FOLLOW_MS);
    return () => clearInterval(timer);
  }, [foldersBusy, waiting, queryClient]);
  const folderNames = useMemo(() => folders.map((f) => ({ id: f.id, name: f.name })), [folders]);

  if (items.isPending) {
    return items.fetchStatus === 'idle' ? null : <p role="status">Loading the pictures…</p>;
  }
  if (items.isError) {
    return (
      <p role="alert" className="error">
        {errorText(items.error)}
      </p>
    );
  }
  return <Timeline items={items.data} folders={folderNames} />;
}
