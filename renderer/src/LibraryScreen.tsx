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
            Nothing here yet. Drop a folder of home videos or photos below, or type where it is.
            Keepsake keeps a protected copy of each in your vault and shows them here by the day
            they were taken. The files on your computer are never changed.
          </p>
        </div>
      )}
      <LibraryAdd compact={!empty && view === 'timeline'} />

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

/**
 * How often the timeline asks again while folders are read or pictures are made: every
 * 2 s, and 1 s more per 1,000 items (each answer is the whole library, and a library of
 * 10,000 items costs the page some work to take in).
 */
const followMs = (items: number) => Math.max(2_000, items);
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
  // In thousands, so the asking slows down as the library grows, not at every new item.
  const count = Math.round((items.data?.length ?? 0) / 1000) * 1000;
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
      const left = data?.filter(awaitingPicture).length ?? 0;
      if (left !== seen) {
        seen = left;
        since = Date.now();
      }
      if (foldersBusy || Date.now() - since < PICTURE_PATIENCE_MS) {
        void queryClient.invalidateQueries({ queryKey: keys.libraryItems });
      }
    }, followMs(count));
    return () => clearInterval(timer);
  }, [foldersBusy, waiting, count, queryClient]);
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
  return (
    <>
      <FolderWork folders={folders} />
      <Timeline items={items.data} folders={folderNames} />
    </>
  );
}

/** What the folders are busy with, in one line each (Details shows it on each folder). */
function FolderWork({ folders }: { folders: FolderView[] }) {
  const lines = folders.flatMap((f) => {
    if (f.scanning) {
      return [`Looking through “${f.name}”… ${f.scanning.files.toLocaleString()} files found`];
    }
    if (f.encrypting) {
      return [`Protecting “${f.name}”: ${f.encrypting.done} of ${f.encrypting.total}`];
    }
    if (f.readingInfo) return [`Reading the dates in “${f.name}”…`];
    return [];
  });
  if (lines.length === 0) return null;
  return (
    <ul className="folder-work" role="status" data-testid="folder-work">
      {lines.map((line) => (
        <li key={line}>{line}</li>
      ))}
    </ul>
  );
}
