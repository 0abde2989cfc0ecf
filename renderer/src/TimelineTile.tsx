// One item on the timeline: its picture (or, until there is one, its kind and name), how
// long a video runs, a mark when it needs attention, and a tick box for selecting.
import { memo, useState } from 'react';
import type { MouseEvent } from 'react';
import type { LibraryItem } from './engine-client';
import { formatClock } from './format';
import { dayWords, durationWords } from './item-words';

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
  const [wanted, setWanted] = useState(!props.deferPicture);
  if (!props.deferPicture && !wanted) setWanted(true);
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
      >
        {thumb && wanted ? (
          <img src={thumb} alt={label} loading="lazy" decoding="async" draggable={false} />
        ) : (
          <span className="tile-placeholder">
            <KindIcon kind={item.kind} />
            <span className="tile-placeholder-name">{item.name}</span>
          </span>
        )}
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
