// The Make screen's goals as large plain cards ("Preserve this tape"), for the items
// chosen: what each makes, how long it should take and how much room it needs, a warning
// when the room is short, and Start. A goal shows only when it fits some of the items.
import { useEffect, useState } from 'react';
import type { GoalInfo } from './engine-client';
import { errorText } from './errors-text';
import { useGoalEstimate, useGoals, useStartGoal } from './goal-queries';
import { estimateBasis, estimateText, itemsWords, roomWarning, startedText } from './goal-text';
import { useServers } from './queries';

/** One library item a goal may be started on. */
export interface MakeTarget {
  id: string;
  name: string;
  kind: GoalInfo['kinds'][number];
  encrypted: boolean;
}

/** How long the "started" line stays before it goes by itself. */
const CONFIRMATION_MS = 6000;

export function GoalCards({ targets }: { targets: readonly MakeTarget[] }) {
  const goals = useGoals();
  const servers = useServers(false);
  const [where, setWhere] = useState(''); // '' = this computer
  const [confirmation, setConfirmation] = useState<string>();

  useEffect(() => {
    if (!confirmation) return;
    const timer = setTimeout(() => setConfirmation(undefined), CONFIRMATION_MS);
    return () => clearTimeout(timer);
  }, [confirmation]);

  const fitting = (goals.data ?? []).filter((g) => targets.some((t) => g.kinds.includes(t.kind)));

  return (
    <div className="goals">
      {goals.isError && (
        <p role="alert" className="error">
          {errorText(goals.error)}
        </p>
      )}
      {(servers.data?.length ?? 0) > 0 && (
        <div className="field">
          <label htmlFor="goal-where">Where the work is done</label>
          <select id="goal-where" value={where} onChange={(e) => setWhere(e.target.value)}>
            <option value="">This computer</option>
            {servers.data?.map((s) => (
              <option key={s.name} value={s.name}>
                {s.name}
              </option>
            ))}
          </select>
        </div>
      )}
      {confirmation && (
        <p role="status" className="goal-started">
          {confirmation}
        </p>
      )}
      {goals.data && fitting.length === 0 && (
        <p className="empty">
          None of these fits the chosen items. “Advanced” below has settings for every kind of file.
        </p>
      )}
      <div className="goal-cards">
        {fitting.map((goal) => (
          <GoalCard
            key={goal.id}
            goal={goal}
            targets={targets}
            remote={where || undefined}
            onStarted={setConfirmation}
          />
        ))}
      </div>
    </div>
  );
}

function GoalCard(props: {
  goal: GoalInfo;
  targets: readonly MakeTarget[];
  remote: string | undefined;
  onStarted: (text: string) => void;
}) {
  const { goal, targets, remote } = props;
  const fits = targets.filter((t) => goal.kinds.includes(t.kind));
  const ready = fits.filter((t) => t.encrypted);
  const ids = ready.map((t) => t.id);
  const estimate = useGoalEstimate(goal.id, ids, remote);
  const start = useStartGoal();
  const leftOut = targets.length - fits.length;
  const waiting = fits.length - ready.length;
  const warning = estimate.data && roomWarning(estimate.data);
  const basis = estimate.data && estimateBasis(estimate.data);
  const makes = goal.steps.map((s) => s.label.toLowerCase());
  if (goal.poster) makes.push('a picture for the library');

  const run = () =>
    start.mutate(
      { goal: goal.id, fileIds: ids, mode: 'manual', ...(remote ? { remote } : {}) },
      { onSuccess: (started) => props.onStarted(startedText(goal, started)) },
    );

  return (
    <article className="goal-card" aria-label={goal.name}>
      <h3>{goal.name}</h3>
      <p>{goal.description}</p>
      <p className="muted small">Makes: {listWords(makes)}.</p>
      <p className="goal-for">
        For {itemsWords(ready.length, goal.kinds)}
        {leftOut > 0 && ` (${leftOut} other ${leftOut === 1 ? 'item is' : 'items are'} left out)`}
        {waiting > 0 &&
          `; ${waiting} more ${waiting === 1 ? 'is' : 'are'} not protected yet and left out`}
        .
      </p>
      <p className="goal-estimate">
        <span className="muted">Time and room: </span>
        <span data-testid="goal-estimate">
          {ids.length === 0
            ? 'none until the items are protected'
            : estimate.data
              ? estimateText(estimate.data)
              : estimate.isError
                ? `No estimate: ${errorText(estimate.error)}`
                : 'working it out…'}
        </span>
      </p>
      {basis && <p className="muted small">{basis}</p>}
      {warning && (
        <p role="alert" className="goal-warning">
          {warning}
        </p>
      )}
      {start.isError && (
        <p role="alert" className="error">
          {errorText(start.error)}
        </p>
      )}
      <button
        type="button"
        className="primary goal-start"
        aria-label={`Start: ${goal.name}`}
        // Not before the estimate is in: Start must not skip the room check.
        disabled={ids.length === 0 || start.isPending || estimate.data?.enough !== true}
        onClick={run}
      >
        {start.isPending ? 'Starting…' : 'Start'}
      </button>
    </article>
  );
}

/** "a, b and c". */
function listWords(items: readonly string[]): string {
  if (items.length <= 1) return items.join('');
  return `${items.slice(0, -1).join(', ')} and ${items[items.length - 1]}`;
}
