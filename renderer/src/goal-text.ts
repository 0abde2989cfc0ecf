// The Make screen's goals in words: how long, how much room, whether it fits, and what
// was started. Kept apart from the cards so the wording is tested on its own.

import type { GoalEstimate, GoalInfo, StartedGoal } from './engine-client';
import { formatBytes } from './format';

/** "under a minute", "about 40 min", "about 2 h 10 min": rounded as a person would. */
export function durationWords(seconds: number): string {
  if (!Number.isFinite(seconds) || seconds < 0) return 'an unknown time';
  if (seconds < 60) return 'under a minute';
  const minutes = Math.round(seconds / 60);
  if (minutes < 60) return `about ${minutes} min`;
  // Long jobs: to the nearest 5 minutes (the estimate is not exact to the minute).
  const rounded = Math.round(minutes / 5) * 5;
  const h = Math.floor(rounded / 60);
  const m = rounded % 60;
  return m === 0 ? `about ${h} h` : `about ${h} h ${m} min`;
}

/** "about 2 h 10 min, about 3.4 GB; 120 GB free". */
export function estimateText(e: GoalEstimate): string {
  // Nothing known yet: "under a minute, about 0 B" would be wrong, not just rough.
  if (e.unknownItems > 0 && e.seconds === 0 && e.bytes === 0) {
    return `not known yet, still looking at ${e.unknownItems === 1 ? 'the item' : 'the items'}; ${formatBytes(e.freeBytes)} free`;
  }
  const left =
    e.unknownItems > 0
      ? ` (not counting ${e.unknownItems === 1 ? 'one item' : `${e.unknownItems} items`} still being looked at)`
      : '';
  return `${durationWords(e.seconds)}, about ${formatBytes(e.bytes)}; ${formatBytes(e.freeBytes)} free${left}`;
}

/** Said when the results would not fit, or undefined when they do. */
export function roomWarning(e: GoalEstimate): string | undefined {
  if (e.enough) return undefined;
  return (
    `Not enough room on this computer: this needs about ${formatBytes(e.bytes)} and ` +
    `${formatBytes(e.freeBytes)} is free. Make some room first, or choose fewer items.`
  );
}

/** A first estimate rests on assumed speeds; say so once, quietly. */
export function estimateBasis(e: GoalEstimate): string | undefined {
  return e.measured
    ? undefined
    : 'A first guess: it gets closer once this computer has made a few copies.';
}

/** "3 videos", "1 photo", for what a goal applies to. */
export function itemsWords(count: number, kinds: readonly string[]): string {
  const noun = kinds.length === 1 ? (kinds[0] === 'photo' ? 'photo' : kinds[0]!) : 'item';
  return `${count} ${noun}${count === 1 ? '' : 's'}`;
}

/** The confirmation after Start: what was started, and where to follow it. */
export function startedText(goal: GoalInfo, started: StartedGoal): string {
  const jobs = started.jobs.length;
  const made = `${goal.name}: started ${jobs === 1 ? 'one job' : `${jobs} jobs`}.`;
  const { ready, coming } = started.posters;
  const poster = !goal.poster
    ? ''
    : coming > 0
      ? ' The picture for the library is being made.'
      : ready > 0
        ? ' The picture for the library is already there.'
        : '';
  return `${made}${poster} You can follow them on the Jobs screen.`;
}
