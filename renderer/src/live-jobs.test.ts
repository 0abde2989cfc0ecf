// The job list in a real TanStack QueryClient, fed as the app feeds it: live updates,
// action answers, removals and list loads racing each other.
import { QueryClient, QueryObserver } from '@tanstack/react-query';
import { afterEach, describe, expect, it, vi } from 'vitest';
import type { DesktopJob } from './engine-client';
import {
  JOB_LIST,
  JOBS,
  applyJobUpdates,
  clearJobViews,
  configureJobCache,
  forgetJob,
  isNewer,
  justFinished,
  loadJobList,
  parseDeletedEvent,
  parseJobEvent,
  rememberJob,
} from './live-jobs';
import { createQueryClient } from './queries';

const job = (id: string, createdAt: number, state: DesktopJob['state'] = 'queued'): DesktopJob => ({
  id,
  state,
  preset: 'web-h264',
  params: {},
  mode: 'manual',
  priority: 0,
  createdAt,
  attempts: 0,
  maxAttempts: 3,
  waitingForKeys: false,
  notes: [],
  outputs: [],
});

const running = (percent: number, at: number): DesktopJob => ({
  ...job('j1', 1, 'running'),
  attempts: 1,
  progress: { percent, at },
});

const fresh = () => configureJobCache(new QueryClient());
const listed = (client: QueryClient) => client.getQueryData<DesktopJob[]>(JOB_LIST);
const ids = (jobs: readonly DesktopJob[] | undefined) => (jobs ?? []).map((j) => j.id);
/** A list load whose answer is `answer`, as useJobs runs it. */
const load = async (client: QueryClient, answer: DesktopJob[]) =>
  client.setQueryData(JOB_LIST, await loadJobList(client, () => Promise.resolve(answer)));

/** TanStack tells observers on a later turn (its notifyManager batches). */
const notified = () => new Promise((resolve) => setTimeout(resolve, 10));

afterEach(() => {
  vi.useRealTimers();
});

describe('live updates in the job list', () => {
  it('replace their job in place, keep the order, and the last of a batch wins', () => {
    const client = fresh();
    const list = [job('j3', 3), job('j2', 2), job('j1', 1)];
    client.setQueryData(JOB_LIST, list);
    const a = { ...job('j2', 2, 'running'), progress: { percent: 10, at: 1 } };
    const b = { ...job('j2', 2, 'running'), progress: { percent: 20, at: 2 } };
    applyJobUpdates(client, [a, b]);
    expect(ids(listed(client))).toEqual(['j3', 'j2', 'j1']);
    expect(listed(client)?.[1]?.progress?.percent).toBe(20);
    expect(list[1]?.state).toBe('queued'); // the old list is not mutated
  });

  it('insert new jobs by creation time, newest first', () => {
    const client = fresh();
    client.setQueryData(JOB_LIST, [job('j3', 3), job('j2', 2), job('j1', 1)]);
    applyJobUpdates(client, [job('j4', 4), job('j0', 0)]);
    expect(ids(listed(client))).toEqual(['j4', 'j3', 'j2', 'j1', 'j0']);
    // An action's answer (a new job) goes in the same way.
    rememberJob(client, job('j9', 9));
    expect(ids(listed(client))[0]).toBe('j9');
  });

  it('leave the list as it is when nothing changes, so its screens do not render again', async () => {
    const client = fresh();
    client.setQueryData(JOB_LIST, [job('j1', 1)]);
    // Screens read the list's data (useQuery tracks what they read).
    const observer = new QueryObserver(client, {
      queryKey: JOB_LIST,
      enabled: false,
      notifyOnChangeProps: ['data'],
    });
    const seen = vi.fn();
    const unsubscribe = observer.subscribe(seen);
    const before = listed(client);
    applyJobUpdates(client, []);
    forgetJob(client, 'j7');
    applyJobUpdates(client, [job('j7', 7)]); // removed: dropped
    await notified();
    expect(listed(client)).toBe(before);
    expect(seen).not.toHaveBeenCalled();
    applyJobUpdates(client, [job('j1', 1, 'running')]);
    await notified();
    expect(seen).toHaveBeenCalledTimes(1);
    unsubscribe();
  });

  it('never make a list of their own, and the list that loads after them keeps them', async () => {
    const client = fresh();
    applyJobUpdates(client, [running(60, 2000)]);
    expect(listed(client)).toBeUndefined();
    // The list request started before the update and answers after it.
    await load(client, [running(40, 1000), job('j2', 2)]);
    expect(listed(client)?.map((j) => j.progress?.percent)).toEqual([60, undefined]);
    // A list newer than what is known wins.
    await load(client, [running(80, 3000)]);
    expect(listed(client)?.[0]?.progress?.percent).toBe(80);
  });

  it('keep at most 1000 jobs in the list', () => {
    const client = fresh();
    client.setQueryData(
      JOB_LIST,
      Array.from({ length: 1000 }, (_, i) => job(`j${i}`, i)).reverse(),
    );
    applyJobUpdates(client, [job('new', 5000)]);
    expect(listed(client)).toHaveLength(1000);
    expect(listed(client)?.[0]?.id).toBe('new');
    expect(listed(client)?.at(-1)?.id).toBe('j1');
  });

  it('say which jobs just finished, with the view before (none for a job first seen done)', () => {
    const client = fresh();
    client.setQueryData(JOB_LIST, [running(50, 1000)]);
    const done = { ...job('j1', 1, 'succeeded'), attempts: 1 };
    const old = job('j5', 5, 'failed');
    const finished = applyJobUpdates(client, [running(90, 2000), done, old]);
    expect(finished.map((f) => [f.job.id, f.before?.progress?.percent])).toEqual([
      ['j1', 90],
      ['j5', undefined],
    ]);
    // Told once: the same end again is no news.
    expect(applyJobUpdates(client, [done])).toEqual([]);
  });
});

describe('a removed job', () => {
  it('does not come back: not by an update on its way, not by a list that answers late', async () => {
    // As the engine does it: a retried job cancelled while queued answers `cancelled` at
    // once (Remove shows); the stream's event for it arrives ~270 ms later, the DELETE
    // answers 6 ms after that, and `deleted` follows only at the stream's next pass.
    const client = fresh();
    const original = job('j1', 1, 'cancelled');
    const retried = job('j2', 2, 'cancelled');
    client.setQueryData(JOB_LIST, [retried, original]);
    forgetJob(client, 'j2');
    expect(ids(listed(client))).toEqual(['j1']);
    applyJobUpdates(client, [retried]);
    rememberJob(client, retried);
    expect(ids(listed(client))).toEqual(['j1']);
    // A list requested before the removal that answers after it.
    await load(client, [retried, original]);
    expect(ids(listed(client))).toEqual(['j1']);
  });

  it('is remembered for the session only: the lock forgets removals and views', async () => {
    const client = fresh();
    forgetJob(client, 'j2');
    applyJobUpdates(client, [running(70, 3000)]);
    clearJobViews(client);
    await load(client, [job('j2', 2), running(40, 1000)]);
    expect(listed(client)?.map((j) => [j.id, j.progress?.percent])).toEqual([
      ['j2', undefined],
      ['j1', 40],
    ]);
    client.removeQueries({ queryKey: JOBS });
    expect(listed(client)).toBeUndefined();
  });
});

describe('what is remembered beside the list', () => {
  it('takes the newest of several known views of a job', async () => {
    const client = fresh();
    // The list holds one view, the stream gave a newer one; a stale list answers.
    client.setQueryData(JOB_LIST, [running(60, 2000)]);
    applyJobUpdates(client, [running(70, 3000)]);
    client.setQueryData(JOB_LIST, [running(50, 1500)]);
    await load(client, [running(40, 1000)]);
    expect(listed(client)?.[0]?.progress?.percent).toBe(70);
  });

  it('takes the list as is when nothing is known, and drops jobs the list no longer has', async () => {
    const client = fresh();
    const fetched = [job('j1', 1)];
    expect(await loadJobList(client, () => Promise.resolve(fetched))).toBe(fetched);
    applyJobUpdates(client, [job('j9', 9)]);
    expect(await loadJobList(client, () => Promise.resolve([]))).toEqual([]);
  });

  it('holds at most 1000 views and 1000 removals, the oldest going first', async () => {
    vi.useFakeTimers();
    const client = fresh();
    for (let i = 0; i < 1001; i++) {
      vi.advanceTimersByTime(1);
      applyJobUpdates(
        client,
        [running(i / 20, i)].map((j) => ({ ...j, id: `v${i}` })),
      );
    }
    for (let i = 0; i < 1001; i++) {
      vi.advanceTimersByTime(1);
      forgetJob(client, `r${i}`);
    }
    const kept = client.getQueryCache().findAll({ queryKey: ['jobs', 'view'] });
    const keyed = new Set(kept.map((q) => String(q.queryKey[2])));
    expect(kept).toHaveLength(2000);
    expect(keyed.has('v0') || keyed.has('r0')).toBe(false);
    expect(keyed.has('v1') && keyed.has('v1000') && keyed.has('r1')).toBe(true);
    // The oldest removal is forgotten: a late answer may show that job again.
    await load(client, [job('r0', 1)]);
    expect(ids(listed(client))).toEqual(['r0']);
  });

  it('outlives the default cache time, as a queued job may wait for hours', async () => {
    vi.useFakeTimers();
    // The browser's default cache time (Node's is forever), made explicit.
    const client = configureJobCache(
      new QueryClient({ defaultOptions: { queries: { gcTime: 5 * 60_000 } } }),
    );
    applyJobUpdates(client, [running(70, 3000)]);
    forgetJob(client, 'j2');
    vi.advanceTimersByTime(6 * 3_600_000);
    await load(client, [running(40, 1000), job('j2', 2)]);
    expect(listed(client)?.map((j) => [j.id, j.progress?.percent])).toEqual([['j1', 70]]);
  });

  it('is set up so by the app', () => {
    expect(createQueryClient().getQueryDefaults(['jobs', 'view', 'j1']).gcTime).toBe(Infinity);
  });
});

describe('isNewer', () => {
  it('orders views by attempt, then state, then progress time', () => {
    const done = { ...job('j1', 1, 'succeeded'), attempts: 1 };
    expect(isNewer(done, running(99, 9999))).toBe(true);
    expect(isNewer(running(1, 1), done)).toBe(false);
    // A requeued attempt is newer than the failure before it.
    expect(isNewer({ ...job('j1', 1, 'queued'), attempts: 2 }, done)).toBe(true);
  });
});

describe('parseJobEvent', () => {
  it('accepts a job and rejects anything else', () => {
    expect(parseJobEvent(JSON.stringify(job('j1', 1)))?.id).toBe('j1');
    expect(parseJobEvent('{"id":"j1"}')).toBeUndefined();
    expect(parseJobEvent('not json')).toBeUndefined();
    expect(parseJobEvent('null')).toBeUndefined();
  });
});

describe('parseDeletedEvent', () => {
  it('reads the id of a deleted job', () => {
    expect(parseDeletedEvent('{"id":"jaaaaaaaaaaaa"}')).toBe('jaaaaaaaaaaaa');
    expect(parseDeletedEvent('{"id":5}')).toBeUndefined();
    expect(parseDeletedEvent('oops')).toBeUndefined();
  });
});

describe('justFinished', () => {
  it('is true only on the transition into a final state', () => {
    expect(justFinished(job('j', 1, 'running'), job('j', 1, 'succeeded'))).toBe(true);
    expect(justFinished(undefined, job('j', 1, 'failed'))).toBe(true);
    expect(justFinished(job('j', 1, 'failed'), job('j', 1, 'failed'))).toBe(false);
    expect(justFinished(job('j', 1, 'queued'), job('j', 1, 'running'))).toBe(false);
  });
});
