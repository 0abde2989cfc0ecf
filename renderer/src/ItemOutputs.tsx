// Everything made from an item (a restored copy, an archive master, a copy to watch…),
// named in plain words, each with Play or View, "Save a copy…" and a confirmed Delete.
import { useId, useState } from 'react';
import { useClient } from './client-context';
import type { LibraryItem } from './engine-client';
import { errorText } from './errors-text';
import { formatBytes } from './format';
import { DeliveredNote } from './DeliveredNote';
import { canOpen } from './JobResults';
import { checkedNote } from './output-check-note';
import { missingLabelsNote } from './output-labels-note';
import { PLAYBACK_PRESETS, TAPE_CHECK, outputName } from './output-names';
import { useJob, useJobActions } from './queries';
import { SaveCopyButton } from './SaveCopy';
import { useUiStore } from './ui-store';
import { declineAutoCopy } from './VideoStage';

const STATE_WORDS: Record<string, string> = {
  queued: 'waiting to be made',
  running: 'being made…',
  failed: 'could not be made',
  cancelled: 'stopped before it was done',
};

export function ItemOutputs({ item }: { item: LibraryItem }) {
  const headingId = useId();
  // A tape's analysis is what Keepsake found, shown with its clips, not a copy to keep.
  const made = item.jobs.filter((j) => j.preset !== TAPE_CHECK);
  if (made.length === 0) return null;
  return (
    <section className="item-outputs" aria-labelledby={headingId}>
      <h3 id={headingId}>Made from this</h3>
      <ul data-testid="item-outputs">
        {made.map((j) => (
          <OutputRow key={j.id} jobId={j.id} preset={j.preset} item={item} />
        ))}
      </ul>
    </section>
  );
}

function OutputRow(props: { jobId: string; preset: string; item: LibraryItem }) {
  const client = useClient();
  const job = useJob(props.jobId);
  const { remove } = useJobActions();
  const play = useUiStore((s) => s.play);
  const shown = useUiStore((s) => s.playJobId);
  const [confirming, setConfirming] = useState(false);
  const confirmId = useId();
  const name = outputName(props.preset);
  const of = props.item.title ?? props.item.name;
  const state = job?.state;
  const size = job?.outputs.reduce((sum, o) => sum + o.size, 0) ?? 0;
  const labelsNote = missingLabelsNote(props.item, job);
  const checked = checkedNote(job);

  return (
    <li aria-label={name} data-current={shown === props.jobId ? 'true' : undefined}>
      <div className="output-top">
        <strong>{name}</strong>
        <span className="muted small">
          {state === 'succeeded' ? formatBytes(size) : state ? STATE_WORDS[state] : ''}
        </span>
      </div>
      {checked && (
        <div className="output-check" data-testid="output-check">
          <p className="muted small" data-testid="output-check-note">
            {checked.sentence}
          </p>
          {checked.details && (
            <details className="attention-details muted small">
              <summary>Details</summary>
              <span data-testid="output-check-scores">{checked.details}</span>
            </details>
          )}
        </div>
      )}
      {labelsNote && (
        <p className="muted small" data-testid="output-labels-note">
          {labelsNote}
        </p>
      )}
      <div className="output-actions">
        {job && state === 'succeeded' && canOpen(job) && (
          <button
            type="button"
            onClick={() => play(props.jobId)}
            aria-label={`${job.playUrl ? 'Play' : 'View'} the ${name.toLowerCase()}`}
          >
            {job.playUrl ? 'Play' : 'View'}
          </button>
        )}
        {state === 'succeeded' && (
          <SaveCopyButton
            name={`${name} of ${of}`}
            save={(dir) => client.saveJob(props.jobId, dir)}
          />
        )}
        {state !== 'running' && state !== 'queued' && !confirming && (
          <button
            type="button"
            className="link"
            onClick={() => setConfirming(true)}
            aria-label={`Delete the ${name.toLowerCase()}`}
          >
            Delete…
          </button>
        )}
      </div>
      {job?.delivery && <DeliveredNote delivery={job.delivery} />}
      {confirming && (
        <div className="confirm-box" role="alertdialog" aria-labelledby={confirmId}>
          <p id={confirmId}>
            Delete the {name.toLowerCase()}
            {size > 0 ? ` (${formatBytes(size)})` : ''}? <strong>This cannot be undone.</strong>{' '}
            {of} itself stays in your library.
          </p>
          <div className="actions">
            <button
              type="button"
              className="danger"
              disabled={remove.isPending}
              onClick={() =>
                remove.mutate(props.jobId, {
                  onSuccess: () => {
                    setConfirming(false);
                    if (PLAYBACK_PRESETS.includes(props.preset)) declineAutoCopy(props.item.id);
                    // What it made is gone from the stage too.
                    if (useUiStore.getState().playJobId === props.jobId) {
                      useUiStore.getState().view(props.item.id);
                    }
                  },
                })
              }
            >
              Delete it
            </button>
            <button type="button" onClick={() => setConfirming(false)}>
              Keep it
            </button>
          </div>
          {remove.isError && (
            <p className="error" role="alert">
              Could not delete it: {errorText(remove.error)}
            </p>
          )}
        </div>
      )}
    </li>
  );
}
