// One viewer for any library item, over whatever screen is showing: a photo full size
// with zoom, a video playing at once (or a copy being prepared), and beside it what the
// item is and everything made from it. Arrow keys go to the previous or next item in the
// library's order (newest first); Escape closes; focus stays inside while it is open and
// goes back where it was after.
import { useEffect, useId, useRef } from 'react';
import type { DesktopJob, LibraryItem } from './engine-client';
import { errorText } from './errors-text';
import { ItemPanel } from './ItemPanel';
import { JobStage } from './JobStage';
import { PhotoStage } from './PhotoStage';
import { useJob, useLibraryItems } from './queries';
import { useUiStore } from './ui-store';
import { VideoStage } from './VideoStage';
import './viewer.css';
import { mayLeave } from './unsaved-work';

const FOCUSABLE =
  'a[href], button:not([disabled]), input:not([disabled]), select:not([disabled]), textarea:not([disabled]), video[controls], [tabindex]:not([tabindex="-1"])';

/** Keys the arrow keys belong to while focused there (typing, a slider, a video's seek). */
function ownsArrows(target: EventTarget | null): boolean {
  return (
    target instanceof HTMLElement &&
    (target.isContentEditable || /^(INPUT|TEXTAREA|SELECT|VIDEO)$/.test(target.tagName))
  );
}

export function ItemViewer() {
  const viewing = useUiStore((s) => s.viewing);
  const playJobId = useUiStore((s) => s.playJobId);
  if (viewing === undefined && playJobId === undefined) return null;
  return <ViewerDialog viewing={viewing} playJobId={playJobId} />;
}

function ViewerDialog({ viewing, playJobId }: { viewing?: string; playJobId?: string }) {
  const view = useUiStore((s) => s.view);
  const items = useLibraryItems();
  const playJob = useJob(playJobId);
  const fileId = viewing ?? playJob?.fileId;
  const list = items.data ?? [];
  const at = list.findIndex((i) => i.id === fileId);
  const item = at >= 0 ? list[at] : undefined;
  const prev = at > 0 ? list[at - 1] : undefined;
  const next = at >= 0 ? list[at + 1] : undefined;
  const headingId = useId();
  const dialog = useRef<HTMLDivElement>(null);
  const close = () => {
    if (mayLeave()) view(undefined);
  };

  // Focus in on open; on close, to the tile of the item last shown (browsing may have
  // moved on from the one opened) when the timeline shows it, else back to what had it.
  const shownId = useRef(fileId);
  useEffect(() => {
    shownId.current = fileId;
  }, [fileId]);
  useEffect(() => {
    const opener = document.activeElement instanceof HTMLElement ? document.activeElement : null;
    dialog.current?.querySelector<HTMLElement>('[data-autofocus]')?.focus();
    const overflow = document.body.style.overflow;
    document.body.style.overflow = 'hidden';
    return () => {
      document.body.style.overflow = overflow;
      const id = shownId.current;
      const tile = id
        ? document.querySelector<HTMLElement>(`.tile[data-id="${CSS.escape(id)}"] button`)
        : null;
      (tile ?? (opener?.isConnected ? opener : null))?.focus();
    };
  }, []);

  const onKeyDown = (e: KeyboardEvent) => {
    if (e.key === 'Escape') {
      e.preventDefault();
      close();
    } else if ((e.key === 'ArrowLeft' || e.key === 'ArrowRight') && !ownsArrows(e.target)) {
      if (e.altKey || e.ctrlKey || e.metaKey || e.shiftKey) return;
      const to = e.key === 'ArrowLeft' ? prev : next;
      if (to) {
        e.preventDefault();
        if (mayLeave()) view(to.id);
      }
    } else if (e.key === 'Tab') {
      const all = [...(dialog.current?.querySelectorAll<HTMLElement>(FOCUSABLE) ?? [])].filter(
        (el) => el.getClientRects().length > 0,
      );
      const first = all[0];
      const last = all[all.length - 1];
      if (!first || !last) return;
      const active = document.activeElement;
      if (e.shiftKey && (active === first || !dialog.current?.contains(active))) {
        e.preventDefault();
        last.focus();
      } else if (!e.shiftKey && (active === last || !dialog.current?.contains(active))) {
        e.preventDefault();
        first.focus();
      }
    }
  };

  // On the document, not the dialog: a button that removes itself (Keep it, Cancel) leaves
  // the focus on the page's body, and Escape must still close.
  const keys = useRef(onKeyDown);
  useEffect(() => {
    keys.current = onKeyDown;
  });
  useEffect(() => {
    const listener = (e: KeyboardEvent) => keys.current(e);
    document.addEventListener('keydown', listener);
    return () => document.removeEventListener('keydown', listener);
  }, []);

  const label = item ? (item.title ?? item.name) : 'Item';
  return (
    <div className="viewer-backdrop">
      <div
        ref={dialog}
        className="viewer"
        role="dialog"
        aria-modal="true"
        aria-labelledby={headingId}
        data-testid="viewer"
        tabIndex={-1}
      >
        <div className="viewer-bar">
          <button
            type="button"
            onClick={() => prev && mayLeave() && view(prev.id)}
            disabled={!prev}
            aria-label="Previous item"
            title="Previous (←)"
          >
            ‹
          </button>
          <span className="muted small" aria-live="polite">
            {at >= 0 ? `${at + 1} of ${list.length}` : ''}
          </span>
          <button
            type="button"
            onClick={() => next && mayLeave() && view(next.id)}
            disabled={!next}
            aria-label="Next item"
            title="Next (→)"
          >
            ›
          </button>
          <button
            type="button"
            className="viewer-close"
            onClick={close}
            aria-label="Close the viewer"
            title="Close (Esc)"
            data-autofocus
          >
            ×
          </button>
        </div>
        <div className="viewer-stage">
          {playJobId && !playJob ? (
            <p role="status">Opening…</p>
          ) : (
            <Stage item={item} job={playJobId ? playJob : undefined} label={label} />
          )}
        </div>
        {item ? (
          <ItemPanel item={item} headingId={headingId} />
        ) : (
          <aside className="viewer-panel">
            <h2 id={headingId}>{items.isError ? 'The library could not be read' : 'Opening…'}</h2>
            {items.isError && <p className="error">{errorText(items.error)}</p>}
            {items.data && !item && (playJob || viewing) && (
              <p>This item is no longer in the library.</p>
            )}
          </aside>
        )}
      </div>
    </div>
  );
}

function Stage(props: {
  item: LibraryItem | undefined;
  job: DesktopJob | undefined;
  label: string;
}) {
  const { item, job, label } = props;
  if (job) return <JobStage key={job.id} job={job} fileId={item?.id ?? job.fileId} label={label} />;
  if (!item) return null;
  if (item.kind === 'photo') {
    return (
      <PhotoStage
        key={item.id}
        preview={item.pictures.preview ?? item.pictures.thumb}
        original={item.browserPlayable ? item.mediaUrl : undefined}
        label={label}
      />
    );
  }
  if (item.kind === 'video' || item.kind === 'audio') {
    return <VideoStage key={item.id} item={item} label={label} />;
  }
  return (
    <div className="stage-message">
      <p>Keepsake cannot show this kind of file. Save a copy to open it elsewhere.</p>
    </div>
  );
}
