// One clip in "Clips on this tape": its place on the tape in clock time, its title and date
// (typed in place when it is the chosen one); and the buttons for the chosen clip.
import { useId } from 'react';
import { clock, joinNext, moveEdge, relabel, removeClip, type Clip } from './clip-edits';

/** What a row asks of the panel: to be chosen, or an edit of the clips. */
export type ClipEdit =
  | { kind: 'select' }
  | { kind: 'edit'; apply: (clips: Clip[]) => Clip[] }
  /** Typing in `field` ("2:title"): one Undo step for a run of keystrokes in one field. */
  | { kind: 'label'; field: string; apply: (clips: Clip[]) => Clip[] }
  | { kind: 'removed'; apply: (clips: Clip[]) => Clip[] };

interface ClipRowProps {
  clip: Clip;
  index: number;
  selected: boolean;
  /** The video is inside this clip. */
  playing: boolean;
  onChange: (change: ClipEdit) => void;
}

export function ClipRow(props: ClipRowProps) {
  const { clip, index, selected, playing, onChange } = props;
  const range = `${clock(clip.start)} – ${clock(clip.end)}`;
  return (
    <li
      className={`clip-row${selected ? ' selected' : ''}${playing ? ' playing' : ''}`}
      data-testid="clip-row"
    >
      <button
        type="button"
        className="clip-pick"
        aria-pressed={selected}
        onClick={() => onChange({ kind: 'select' })}
      >
        <span className="clip-n">{index + 1}.</span> <span data-testid="clip-range">{range}</span>{' '}
        <span className="clip-title">{clip.title ?? ''}</span>{' '}
        <span className="muted small">{clip.date ?? ''}</span>
      </button>
      {selected && <ClipLabels clip={clip} index={index} onChange={onChange} />}
    </li>
  );
}

/** What can be done to the chosen clip at the moment the video shows. */
export function ClipTools(props: {
  index: number;
  count: number;
  now: number;
  fps: number | undefined;
  onChange: (change: ClipEdit) => void;
}) {
  const { index, count, now, fps, onChange } = props;
  return (
    <div className="clip-buttons" role="group" aria-label={`Clip ${index + 1}`}>
      <span className="muted small">Clip {index + 1}:</span>
      <button
        type="button"
        onClick={() =>
          onChange({ kind: 'edit', apply: (c) => moveEdge(c, index, 'start', now, fps) })
        }
      >
        Start here
      </button>
      <button
        type="button"
        onClick={() =>
          onChange({ kind: 'edit', apply: (c) => moveEdge(c, index, 'end', now, fps) })
        }
      >
        End here
      </button>
      <button
        type="button"
        disabled={index >= count - 1}
        onClick={() => onChange({ kind: 'edit', apply: (c) => joinNext(c, index) })}
      >
        Join with next
      </button>
      <button
        type="button"
        title="The tape keeps it; this only leaves it out of the clips."
        onClick={() => onChange({ kind: 'removed', apply: (c) => removeClip(c, index) })}
      >
        Remove clip
      </button>
    </div>
  );
}

/** Title and date: each keystroke is an edit, and Undo takes back a field's typing at once. */
function ClipLabels(props: { clip: Clip; index: number; onChange: (change: ClipEdit) => void }) {
  const { clip, index, onChange } = props;
  const titleId = useId();
  const dateId = useId();
  const set = (field: 'title' | 'date', value: string) =>
    onChange({
      kind: 'label',
      field: `${index}:${field}`,
      apply: (c) => relabel(c, index, { [field]: value }),
    });
  return (
    <div className="clip-labels">
      <label htmlFor={titleId}>Title</label>
      <input
        id={titleId}
        value={clip.title ?? ''}
        maxLength={200}
        autoComplete="off"
        placeholder="Grandma's 80th birthday"
        onChange={(e) => set('title', e.target.value)}
      />
      <label htmlFor={dateId}>Date</label>
      <input
        id={dateId}
        value={clip.date ?? ''}
        maxLength={40}
        autoComplete="off"
        placeholder="1989-12-24"
        onChange={(e) => set('date', e.target.value)}
      />
    </div>
  );
}
