// The job list lives in TanStack Query's cache, and the live stream (SSE) and the job
// actions write into that same cache: the list under `JOB_LIST`, and beside it, under
// `['jobs', 'view', id]`, the latest view of each job the stream or an action gave. Those
// entries keep a job list that loads after an event from showing an older state, and a
// removed job (its entry set to null) from coming back. No React here: the hooks in
// queries.ts call these with the app's QueryClient, and the tests with their own.
import type { QueryClient } from '@tanstack/react-query';
import type { DesktopJob } from './engine-client';

/** The most jobs the list holds, and the most views (and removals) remembered beside it. */
export const JOB_LIST_LIMIT = 1000;

/** Everything about jobs: removed together when the vault locks. */
export const JOBS = ['jobs'] as const;
/** The job list, newest first, as GET /v1/jobs returns it. */
export const JOB_LIST = ['jobs', 'list'] as const;
const VIEWS = ['jobs', 'view'] as const;
const viewKey = (id: string) => [...VIEWS, id] as const;

/** A job's latest known view; null once it was removed (ids are never reused). */
type ViewEntry = DesktopJob | null;

/**
 * Sets up `client` for the job views: they are written, never fetched or observed, so they
 * stay until pruned (remember) or the vault locks, not only for the default gcTime.
 */
export function configureJobCache(client: QueryClient): QueryClient {
  client.setQueryDefaults(VIEWS, { gcTime: Infinity, staleTime: Infinity });
  return client;
}

const removed = (client: QueryClient, id: string): boolean =>
  client.getQueryData<ViewEntry>(viewKey(id)) === null;

/** Ids of removed jobs, for filtering a batch or a list. */
function removedIds(client: QueryClient): ReadonlySet<string> {
  const ids = new Set<string>();
  for (const [key, entry] of client.getQueriesData<ViewEntry>({ queryKey: VIEWS })) {
    if (entry === null) ids.add(String(key[2]));
  }
  return ids;
}

/** Keeps the newest JOB_LIST_LIMIT views, and as many removals, dropping the oldest. */
function prune(client: QueryClient): void {
  const cache = client.getQueryCache();
  const all = cache.findAll({ queryKey: VIEWS });
  if (all.length <= JOB_LIST_LIMIT) return;
  for (const gone of [true, false]) {
    const kind = all.filter((q) => (q.state.data === null) === gone);
    kind.sort((a, b) => a.state.dataUpdatedAt - b.state.dataUpdatedAt);
    for (const query of kind.slice(0, Math.max(0, kind.length - JOB_LIST_LIMIT))) {
      cache.remove(query);
    }
  }
}

function rememberOne(client: QueryClient, job: DesktopJob): void {
  if (removed(client, job.id)) return;
  client.setQueryData<ViewEntry>(viewKey(job.id), job);
}

/** Records a job an action answered with (create, cancel, retry) in the list and beside it. */
export function rememberJob(client: QueryClient, job: DesktopJob): void {
  applyJobUpdates(client, [job]);
}

/**
 * Live updates, oldest first: each job's latest view is remembered and replaces it in the
 * list (new jobs are inserted by creation time). Updates for removed jobs are dropped: one
 * already on its way when its job was removed would otherwise bring the row back until the
 * stream's `deleted`. Returns the jobs that moved into a finished state with this batch,
 * with the view before it (undefined when none was known).
 */
export function applyJobUpdates(
  client: QueryClient,
  updates: readonly DesktopJob[],
): { job: DesktopJob; before: DesktopJob | undefined }[] {
  const list = client.getQueryData<DesktopJob[]>(JOB_LIST);
  const listed = new Map((list ?? []).map((j) => [j.id, j]));
  const finished: { job: DesktopJob; before: DesktopJob | undefined }[] = [];
  const kept: DesktopJob[] = [];
  for (const job of updates) {
    if (removed(client, job.id)) continue;
    const before = client.getQueryData<ViewEntry>(viewKey(job.id)) ?? listed.get(job.id);
    rememberOne(client, job);
    kept.push(job);
    if (justFinished(before, job)) finished.push({ job, before });
  }
  prune(client);
  // Until the list has loaded there is nothing to update: a list made from events alone
  // would hide every job they do not mention. Its load reconciles with the views instead.
  if (list && kept.length > 0) {
    client.setQueryData<DesktopJob[]>(JOB_LIST, (current) => mergeJobs(current ?? [], kept));
  }
  return finished;
}

/** A job removed (here, or elsewhere as the stream said): out of the list, for good. */
export function forgetJob(client: QueryClient, id: string): void {
  client.setQueryData<ViewEntry>(viewKey(id), null);
  prune(client);
  const list = client.getQueryData<DesktopJob[]>(JOB_LIST);
  if (list?.some((j) => j.id === id)) {
    client.setQueryData<DesktopJob[]>(
      JOB_LIST,
      list.filter((j) => j.id !== id),
    );
  }
}

/**
 * Loads the list and reconciles it with what is known: a job's remembered view, or the one
 * the list held, wins where it is newer than the fetched one (a list request can start
 * before an event and answer after it); removed jobs are left out.
 */
export async function loadJobList(
  client: QueryClient,
  fetchList: () => Promise<DesktopJob[]>,
): Promise<DesktopJob[]> {
  const fetched = await fetchList();
  const known = new Map<string, DesktopJob>();
  const consider = (job: DesktopJob) => {
    const seen = known.get(job.id);
    if (!seen || isNewer(job, seen)) known.set(job.id, job);
  };
  for (const job of client.getQueryData<DesktopJob[]>(JOB_LIST) ?? []) consider(job);
  for (const [, entry] of client.getQueriesData<ViewEntry>({ queryKey: VIEWS })) {
    if (entry) consider(entry);
  }
  const gone = removedIds(client);
  const kept = gone.size ? fetched.filter((j) => !gone.has(j.id)) : fetched;
  if (known.size === 0) return kept;
  return kept.map((job) => {
    const seen = known.get(job.id);
    return seen && isNewer(seen, job) ? seen : job;
  });
}

/** Forgets every remembered view and removal (the stream closed: the vault locked). */
export function clearJobViews(client: QueryClient): void {
  client.removeQueries({ queryKey: VIEWS });
}

/** Replaces jobs by id, inserts new ones by creation time; the same array if none changed. */
function mergeJobs(list: DesktopJob[], updates: readonly DesktopJob[]): DesktopJob[] {
  const latest = new Map<string, DesktopJob>();
  // The last update of a batch wins.
  for (const job of updates) latest.set(job.id, job);
  if (latest.size === 0) return list;
  const next = list.map((job) => {
    const update = latest.get(job.id);
    if (!update) return job;
    latest.delete(job.id);
    return update;
  });
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

/** A job moved into a finished state between two views of it. */
export function justFinished(before: DesktopJob | undefined, after: DesktopJob): boolean {
  const done = (j: DesktopJob | undefined) =>
    j !== undefined && (j.state === 'succeeded' || j.state === 'failed' || j.state === 'cancelled');
  return done(after) && !done(before);
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
