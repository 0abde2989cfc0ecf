// How live job updates (SSE) merge into the cached job list: pure, so it can be tested
// without React. The list is kept newest first, as GET /v1/jobs returns it.
import type { DesktopJob } from './engine-client';

export const JOB_LIST_LIMIT = 1000;

/** Replaces jobs by id and inserts new ones; returns the same array when nothing changed. */
export function mergeJobs(
  list: readonly DesktopJob[] | undefined,
  updates: readonly DesktopJob[],
): DesktopJob[] {
  const current = list ?? [];
  if (updates.length === 0) return current as DesktopJob[];
  const latest = new Map<string, DesktopJob>();
  for (const job of updates) latest.set(job.id, job); // the last update of a batch wins
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
