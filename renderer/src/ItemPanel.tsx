// The viewer's side panel: what the item is (title, date and how it is known, length,
// size) and a small form to give it a title and a date, which the engine checks.
import { useId, useState } from 'react';
import type { FormEvent } from 'react';
import type { LibraryItem } from './engine-client';
import { errorText } from './errors-text';
import { formatBytes } from './format';
import { capturedWords, durationWords } from './item-words';
import { AttentionNote } from './AttentionNote';
import { ItemOutputs } from './ItemOutputs';
import { useSetLabels } from './queries';

export function ItemPanel({ item, headingId }: { item: LibraryItem; headingId: string }) {
  const [editing, setEditing] = useState(false);
  const when = capturedWords(item.capturedAt, item.capturedFrom);
  const length = durationWords(item.durationSeconds);
  return (
    <aside className="viewer-panel" aria-label="About this item">
      <h2 id={headingId} data-testid="viewer-title">
        {item.title ?? item.name}
      </h2>
      <dl className="facts">
        {item.title && (
          <>
            <dt>File</dt>
            <dd className="wrap-anywhere">{item.name}</dd>
          </>
        )}
        <dt>When</dt>
        <dd data-testid="viewer-date">{when ?? 'Not known yet'}</dd>
        {length && (
          <>
            <dt>Length</dt>
            <dd>{length}</dd>
          </>
        )}
        <dt>Size</dt>
        <dd>
          {formatBytes(item.size)}
          {item.width && item.height ? ` · ${item.width} × ${item.height} pixels` : ''}
        </dd>
        <dt>Folder</dt>
        <dd className="wrap-anywhere">{item.folderName}</dd>
      </dl>
      <AttentionNote item={item} className="notice-inline" />
      {editing ? (
        <LabelsForm item={item} onDone={() => setEditing(false)} />
      ) : (
        <button type="button" onClick={() => setEditing(true)}>
          Edit title and date
        </button>
      )}
      <ItemOutputs item={item} />
    </aside>
  );
}

/** The date as the form shows it: the day (or the month, or the year alone) that was set. */
function dateText(item: LibraryItem): string {
  if (!item.capturedAt) return '';
  const day = /^\d{4}(?:-\d{2}(?:-\d{2})?)?/.exec(item.capturedAt)?.[0] ?? '';
  return item.capturedFrom === 'user' ? day : '';
}

function LabelsForm({ item, onDone }: { item: LibraryItem; onDone: () => void }) {
  const setLabels = useSetLabels();
  const [title, setTitle] = useState(item.title ?? '');
  const [date, setDate] = useState(dateText(item));
  const titleId = useId();
  const dateId = useId();
  const hintId = useId();
  const submit = (e: FormEvent) => {
    e.preventDefault();
    const body: { id: string; title?: string | null; date?: string | null } = { id: item.id };
    if (title.trim() !== (item.title ?? '')) body.title = title.trim() ? title : null;
    if (date.trim() !== dateText(item)) body.date = date.trim() ? date.trim() : null;
    if (body.title === undefined && body.date === undefined) return onDone();
    setLabels.mutate(body, { onSuccess: onDone });
  };
  return (
    // autoComplete off: Chromium otherwise keeps what was typed in a submitted form in the
    // profile's autocomplete store ("Web Data"), in plaintext, and titles are private.
    <form className="labels-form" onSubmit={submit} aria-label="Title and date" autoComplete="off">
      <div className="field">
        <label htmlFor={titleId}>Title</label>
        <input
          id={titleId}
          type="text"
          value={title}
          autoComplete="off"
          autoFocus
          maxLength={200}
          placeholder="Christmas 1989"
          onChange={(e) => setTitle(e.target.value)}
        />
      </div>
      <div className="field">
        <label htmlFor={dateId}>Date</label>
        <input
          id={dateId}
          type="text"
          value={date}
          autoComplete="off"
          inputMode="numeric"
          placeholder="1989-12-24"
          aria-describedby={hintId}
          onChange={(e) => setDate(e.target.value)}
        />
        <p id={hintId} className="muted small">
          Year-month-day, like 1989-12-24, or just the year (1989) or the month (1989-12). Leave it
          empty to use the date Keepsake found.
        </p>
      </div>
      {setLabels.isError && (
        <p className="error" role="alert" data-testid="labels-error">
          {errorText(setLabels.error)}
        </p>
      )}
      <div className="actions">
        <button type="submit" className="primary" disabled={setLabels.isPending}>
          {setLabels.isPending ? 'Saving…' : 'Save'}
        </button>
        <button type="button" onClick={onDone}>
          Cancel
        </button>
      </div>
    </form>
  );
}
