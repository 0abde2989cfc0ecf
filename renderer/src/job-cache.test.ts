import { describe, expect, it } from 'vitest';
import type { DesktopJob } from './engine-client';
import {
  isNewer,
  justFinished,
  mergeJobs,
  parseDeletedEvent,
  parseJobEvent,
  reconcileList,
} from './job-cache';

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

describe('mergeJobs', () => {
  const list = [job('j3', 3), job('j2', 2), job('j1', 1)];

  it('replaces in place, keeps order, last update of a batch wins', () => {
    const a = { ...job('j2', 2, 'running'), progress: { percent: 10, at: 1 } };
    const b = { ...job('j2', 2, 'running'), progress: { percent: 20, at: 2 } };
    const next = mergeJobs(list, [a, b]);
    expect(next.map((j) => j.id)).toEqual(['j3', 'j2', 'j1']);
    expect(next[1]?.progress?.percent).toBe(20);
    expect(list[1]?.state).toBe('queued'); // not mutated
  });

  it('inserts new jobs by creation time, newest first', () => {
    const next = mergeJobs(list, [job('j4', 4), job('j0', 0)]);
    expect(next.map((j) => j.id)).toEqual(['j4', 'j3', 'j2', 'j1', 'j0']);
    expect(mergeJobs(undefined, [job('j9', 9)]).map((j) => j.id)).toEqual(['j9']);
  });

  it('returns the same array for no updates, so react-query sees no change', () => {
    expect(mergeJobs(list, [])).toBe(list);
  });

  it('does not bring back a removed job whose update was already on its way', () => {
    // As the engine does it: a retried job cancelled while queued answers `cancelled` at
    // once (Remove shows); the stream's event for it arrives ~270 ms later, the DELETE
    // answers 6 ms after that, and `deleted` follows only at the stream's next pass.
    const original = job('j1', 1, 'cancelled');
    const retried = job('j2', 2, 'cancelled');
    const removed = new Set(['j2']);
    const afterRemove = [retried, original].filter((j) => !removed.has(j.id));
    const next = mergeJobs(afterRemove, [retried], removed);
    expect(next.map((j) => j.id)).toEqual(['j1']);
    // A late answer to a list request made before the removal does not either.
    expect(reconcileList([retried, original], [], removed).map((j) => j.id)).toEqual(['j1']);
  });

  it('keeps at most 1000 jobs', () => {
    const many = Array.from({ length: 1000 }, (_, i) => job(`j${i}`, i)).reverse();
    const next = mergeJobs(many, [job('new', 5000)]);
    expect(next).toHaveLength(1000);
    expect(next[0]?.id).toBe('new');
    expect(next.at(-1)?.id).toBe('j1');
  });
});

describe('reconcileList', () => {
  const running = (percent: number, at: number): DesktopJob => ({
    ...job('j1', 1, 'running'),
    progress: { percent, at },
  });

  it('keeps a live update that is newer than the list that answered after it', () => {
    const cached = [running(60, 2000)];
    const fetched = [running(40, 1000), job('j2', 2)];
    expect(reconcileList(fetched, cached).map((j) => j.progress?.percent)).toEqual([60, undefined]);
    expect(reconcileList([running(80, 3000)], cached)[0]?.progress?.percent).toBe(80);
  });

  it('orders views by attempt, then state, then progress time', () => {
    const done = job('j1', 1, 'succeeded');
    expect(isNewer(done, running(99, 9999))).toBe(true);
    expect(isNewer(running(1, 1), done)).toBe(false);
    // A requeued attempt is newer than the failure before it.
    expect(isNewer({ ...job('j1', 1, 'queued'), attempts: 2 }, { ...done, attempts: 1 })).toBe(
      true,
    );
  });

  it('takes the newest of several known views of a job', () => {
    const known = [running(70, 3000), running(60, 2000)];
    expect(reconcileList([running(40, 1000)], known)[0]?.progress?.percent).toBe(70);
    expect(reconcileList([running(40, 1000)], known.reverse())[0]?.progress?.percent).toBe(70);
  });

  it('takes the list as is when nothing is cached, and drops jobs the list no longer has', () => {
    const fetched = [job('j1', 1)];
    expect(reconcileList(fetched, undefined)).toBe(fetched);
    expect(reconcileList([], [job('j9', 9)])).toEqual([]);
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
