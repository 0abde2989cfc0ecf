// One item on the timeline: its picture (or, until there is one, its kind and name), how
// long a video runs, a mark when it needs attention, and a tick box for selecting.
import { memo, useEffect, useState } from 'react';
import type { MouseEvent, PointerEvent } from 'react';
import type { LibraryItem } from './engine-client';
import { formatClock } from './format';
import { dayWords, durationWords } from './item-words';
import { PictureCache, PictureLetGo } from './picture-cache';
import type { CachedPicture } from './picture-cache';
import { frameAt, spriteView } from './sprite-scrub';

/**
 * The sprite strips of the videos scrubbed lately, in memory only; a strip is fetched the
 * first time the pointer moves over its tile, never for a tile merely scrolled past. The
 * timeline clears it when it goes away (as when the vault is locked).
 */
export const timelineSprites = new PictureCache({ limit: 24, measure: true });

/**
 * The thumbnails shown lately, in memory only, so that a tile scrolled out of the page and
 * back (or the first screen, after a jump down and up again) shows its picture at once,
 * with no new request for the engine to decrypt. More than a few screens of tiles, so a
 * picture in the page is never the one let go. Cleared with the timeline, as above.
 */
export const timelineThumbs = new PictureCache({ limit: 400 });

const KIND_WORDS: Record<LibraryItem['kind'], string> = {
  photo: 'Photo',
  video: 'Video',
  audio: 'Sound recording',
  other: 'File',
};

const ATTENTION_WORDS: Record<NonNullable<LibraryItem['attention']>, string> = {
  damaged: 'Needs attention',
  unsupported: 'Cannot be shown yet',
  'too-large': 'Too large to show',
  'no-picture': 'No picture',
};

const itemLabel = (item: LibraryItem) => item.title ?? item.name;

/** What a screen reader says for a tile: "Christmas 1989, tape, 24 December 1989, 1 h 5 min". */
function spokenName(item: LibraryItem): string {
  const parts = [itemLabel(item), item.tape ? 'tape' : KIND_WORDS[item.kind].toLowerCase()];
  const day = item.capturedAt ? dayWords(item.capturedAt) : undefined;
  parts.push(day ?? 'date not known yet');
  const runs = item.kind === 'video' ? durationWords(item.durationSeconds) : undefined;
  if (runs) parts.push(runs);
  if (item.attention) parts.push(ATTENTION_WORDS[item.attention].toLowerCase());
  return parts.join(', ');
}

function KindIcon({ kind }: { kind: LibraryItem['kind'] }) {
  // Simple line drawings: a landscape, a film frame, a note, a page.
  const paths: Record<LibraryItem['kind'], string> = {
    photo: 'M3 5h18v14H3z M3 16l5-5 4 4 3-3 6 6 M16 9.5a1.5 1.5 0 1 0 0.01 0',
    video: 'M3 6h13v12H3z M16 10l5-3v10l-5-3',
    audio:
      'M9 18V6l10-2v12 M9 18a2.5 2.5 0 1 1-5 0a2.5 2.5 0 1 1 5 0 M19 16a2.5 2.5 0 1 1-5 0a2.5 2.5 0 1 1 5 0',
    other: 'M6 3h8l4 4v14H6z M14 3v4h4',
  };
  return (
    <svg viewBox="0 0 24 24" width="36" height="36" aria-hidden="true" className="kind-icon">
      <path
        d={paths[kind]}
        fill="none"
        stroke="currentColor"
        strokeWidth="1.5"
        strokeLinejoin="round"
      />
    </svg>
  );
}

export interface TileProps {
  item: LibraryItem;
  /** Position in the timeline order. */
  index: number;
  selected: boolean;
  /** The one tile Tab lands on (roving tab index). */
  tabbable: boolean;
  /** Something is selected: every tick box shows, not only on hover. */
  selecting: boolean;
  /** The timeline is being flung past: a tile new to the page waits to fetch its picture. */
  deferPicture: boolean;
  onOpen: (index: number, e: MouseEvent) => void;
  onTick: (index: number, shift: boolean) => void;
  onFocusTile: (index: number) => void;
}

export const TimelineTile = memo(function TimelineTile(props: TileProps) {
  const { item, index } = props;
  const label = itemLabel(item);
  const thumb = item.pictures.thumb;
  // Once asked for, a picture stays: a later fling does not blank a tile already shown.
  // One already in memory is shown even in a fling: it costs no request.
  const [wanted, setWanted] = useState(
    () => !props.deferPicture || (thumb !== undefined && timelineThumbs.has(thumb)),
  );
  if (!props.deferPicture && !wanted) setWanted(true);
  const src = useThumbnail(wanted ? thumb : undefined);
  const scrubbing = useSpriteScrub(item);
  const className = ['tile', props.selected && 'selected', props.selecting && 'selecting']
    .filter(Boolean)
    .join(' ');
  return (
    <div className={className} data-testid="tile" data-id={item.id}>
      <button
        type="button"
        className="tile-open"
        data-index={index}
        tabIndex={props.tabbable ? 0 : -1}
        aria-label={spokenName(item)}
        onFocus={() => props.onFocusTile(index)}
        onClick={(e) => props.onOpen(index, e)}
        onPointerMove={scrubbing.onPointerMove}
        onPointerLeave={scrubbing.onPointerLeave}
      >
        {thumb && wanted ? (
          src && <img src={src} alt={label} decoding="async" draggable={false} />
        ) : (
          <span className="tile-placeholder">
            <KindIcon kind={item.kind} />
            <span className="tile-placeholder-name">{item.name}</span>
          </span>
        )}
        {scrubbing.view}
        {item.kind === 'video' && item.durationSeconds !== undefined && (
          <span className="tile-duration">{formatClock(item.durationSeconds)}</span>
        )}
        {item.tape && <span className="tile-tape">Tape</span>}
      </button>
      {item.attention && (
        <span
          className="tile-attention"
          title={item.attentionDetail ?? ATTENTION_WORDS[item.attention]}
          data-testid="tile-attention"
        >
          <span aria-hidden="true">!</span>
          <span className="visually-hidden">{ATTENTION_WORDS[item.attention]}</span>
        </span>
      )}
      <input
        type="checkbox"
        className="tile-tick"
        tabIndex={-1}
        checked={props.selected}
        aria-label={`Select ${label}`}
        onChange={() => {}}
        onClick={(e) => {
          e.stopPropagation();
          props.onTick(index, e.shiftKey);
        }}
      />
      <span className="tile-name" title={label}>
        {label}
      </span>
    </div>
  );
});

/**
 * The object URL of a thumbnail from the in-memory cache: at once when held, else once
 * fetched. A thumbnail that cannot be fetched that way is left to the <img> itself.
 */
function useThumbnail(thumb: string | undefined): string | undefined {
  const [shown, setShown] = useState(() =>
    thumb === undefined ? undefined : { thumb, url: timelineThumbs.peek(thumb)?.url },
  );
  const current = shown !== undefined && shown.thumb === thumb ? shown.url : undefined;
  useEffect(() => {
    if (thumb === undefined || current !== undefined) return;
    let live = true;
    timelineThumbs.get(thumb).then(
      (picture) => live && setShown({ thumb, url: picture.url }),
      (err: unknown) => live && !(err instanceof PictureLetGo) && setShown({ thumb, url: thumb }),
    );
    return () => {
      live = false;
    };
  }, [thumb, current]);
  return current;
}

/**
 * Hover-scrubbing: while a mouse moves across a video's tile, the frame of its sprite
 * strip for that place across (the left edge is the start, the right edge the end), with
 * a thin bar marking the place; the poster again when the pointer leaves. Touch and the
 * keyboard are left as they are: a tap or Enter opens the video.
 */
function useSpriteScrub(item: LibraryItem) {
  const src = item.pictures.sprite;
  const frames = item.pictures.spriteFrames ?? 0;
  // Where across the tile the pointer is (0 to 1), and the tile's shape (width / height).
  const [pos, setPos] = useState<{ at: number; box: number } | undefined>();
  const [strip, setStrip] = useState<CachedPicture | undefined>();
  const active = src !== undefined && frames > 1;

  const onPointerMove = (e: PointerEvent<HTMLElement>) => {
    if (!active || e.pointerType === 'touch') return;
    const rect = e.currentTarget.getBoundingClientRect();
    if (rect.width <= 0 || rect.height <= 0) return;
    const box = rect.width / rect.height;
    // A quarter of a percent is finer than a pixel on any tile: no re-render below it.
    const next = Math.round(Math.min(1, Math.max(0, (e.clientX - rect.left) / rect.width)) * 400);
    setPos((prev) =>
      prev?.at === next / 400 && prev.box === box ? prev : { at: next / 400, box },
    );
    if (pos === undefined) {
      // Just arrived: take the strip from the cache, or fetch it (once, however many
      // moves come before it arrives). A strip evicted since the last visit is fetched again.
      const held = timelineSprites.peek(src);
      setStrip(held);
      if (!held) {
        timelineSprites.get(src).then(
          (loaded) => setStrip(loaded),
          () => {}, // No strip (not made, or the vault locked): the poster stays.
        );
      }
    }
  };
  const onPointerLeave = () => setPos(undefined);

  let view = null;
  if (active && pos !== undefined) {
    const { at } = pos;
    const frame = frameAt(at, frames);
    const css = strip ? spriteView(frame, { ...strip, frames }, pos.box) : undefined;
    view = (
      <>
        {css && strip && (
          <span
            className="tile-scrub"
            data-testid="tile-scrub"
            data-frame={frame}
            aria-hidden="true"
            style={{
              backgroundImage: `url("${strip.url}")`,
              backgroundSize: css.size,
              backgroundPosition: css.position,
            }}
          />
        )}
        <span
          className="tile-scrub-bar"
          aria-hidden="true"
          style={{ width: `${(at * 100).toFixed(2)}%` }}
        />
      </>
    );
  }
  return { onPointerMove, onPointerLeave, view };
}
