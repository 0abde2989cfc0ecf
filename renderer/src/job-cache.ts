// How live job updates (SSE) merge into the cached job list: pure, so it can be tested
// without React. The list is kept newest first, as GET /v1/jobs returns it.
import type { DesktopJob } from './engine-client';

export const JOB_LIST_LIMIT = 1000;

const NONE: ReadonlySet<string> = new Set();

/**
 * Replaces jobs by id and inserts new ones; returns the same array when nothing changed.
 * Updates for `removed` jobs are dropped: one already on its way when its job was removed
 * would otherwise bring the row back until the stream's `deleted` (ids are never reused).
 */
export function mergeJobs(
  list: readonly DesktopJob[] | undefined,
  updates: readonly DesktopJob[],
  removed: ReadonlySet<string> = NONE,
): DesktopJob[] {
  const current = list ?? [];
  const latest = new Map<string, DesktopJob>();
  // The last update of a batch wins.
  for (const job of updates) if (!removed.has(job.id)) latest.set(job.id, job);
  if (latest.size === 0) return current as DesktopJob[];
  const next: DesktopJob[] = [];
  for (const job of current) {
    const update = latest.get(job.id);
    if (update) {
      next.push(update);
      latest.delete(job.id);
    } else {
      next.push(job);
    }
  }
  if (latest.size > 0) {
    next.push(...latest.values());
    next.sort((a, b) => b.createdAt - a.createdAt);
  }
  return next.slice(0, JOB_LIST_LIMIT);
}

const STATE_RANK: Record<string, number> = {
  queued: 0,
  running: 1,
  succeeded: 2,
  failed: 2,
  cancelled: 2,
};

/** Which of two views of one job is the later one: attempt, then state, then progress. */
export function isNewer(a: DesktopJob, b: DesktopJob): boolean {
  if (a.attempts !== b.attempts) return a.attempts > b.attempts;
  const ra = STATE_RANK[a.state] ?? 0;
  const rb = STATE_RANK[b.state] ?? 0;
  if (ra !== rb) return ra > rb;
  return (a.progress?.at ?? 0) > (b.progress?.at ?? 0);
}

/**
 * A fetched list, keeping any known view of a job that live events have moved past what
 * the list says (a list request can start before an event and answer after it).
 * `known` may hold several views of one job; the newest counts. `removed` jobs are left out.
 */
export function reconcileList(
  fetched: readonly DesktopJob[],
  known: Iterable<DesktopJob> | undefined,
  removed: ReadonlySet<string> = NONE,
): DesktopJob[] {
  const byId = new Map<string, DesktopJob>();
  for (const job of known ?? []) {
    const seen = byId.get(job.id);
    if (!seen || isNewer(job, seen)) byId.set(job.id, job);
  }
  // A list requested before a removal may answer after it.
  const kept = removed.size ? fetched.filter((j) => !removed.has(j.id)) : fetched;
  if (byId.size === 0) return kept as DesktopJob[];
  return kept.map((job) => {
    const seen = byId.get(job.id);
    return seen && isNewer(seen, job) ? seen : job;
  });
}

/** Parses one `job` event; undefined for anything that is not a job. */
export function parseJobEvent(data: string): DesktopJob | undefined {
  try {
    const value: unknown = JSON.parse(data);
    if (
      typeof value === 'object' &&
      value !== null &&
      typeof (value as DesktopJob).id === 'string' &&
      typeof (value as DesktopJob).state === 'string' &&
      typeof (value as DesktopJob).createdAt === 'number'
    ) {
      return value as DesktopJob;
    }
  } catch {
    // fall through
  }
  return undefined;
}

/** The id in a `deleted` event (`{"id": "j…"}`). */
export function parseDeletedEvent(data: string): string | undefined {
  try {
    const value: unknown = JSON.parse(data);
    const id =
      typeof value === 'object' && value !== null ? (value as { id?: unknown }).id : undefined;
    return typeof id === 'string' ? id : undefined;
  } catch {
    return undefined;
  }
}

/** A job moved into a finished state between two views of it. */
export function justFinished(before: DesktopJob | undefined, after: DesktopJob): boolean {
  const done = (j: DesktopJob | undefined) =>
    j !== undefined && (j.state === 'succeeded' || j.state === 'failed' || j.state === 'cancelled');
  return done(after) && !done(before);
}
