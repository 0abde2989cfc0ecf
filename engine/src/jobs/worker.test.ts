// The worker's policy on a real SQLite queue: which failures are retried and when,
// pause, cancel, shutdown and recovery. The encode itself is a scripted function here
// (the real pipeline has its own tests in execute.test.ts); what is under test is what
// the worker does with each outcome.

import { hostname } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { KeepsakeError } from '../core/errors';
import { freshDir } from '../testing/tmp';
import type { Job, JobSpec } from './queue';
import { SqliteJobQueue } from './sqlite-queue';
import { JobWorker, isTransient, ownerAlive, toJobError, type ExecuteFn } from './worker';

const spec: JobSpec = {
  preset: 'remux',
  params: {},
  input: { kind: 'plain', path: '/in.mp4' },
  outputDir: '/out',
  maxAttempts: 3,
};

async function setup(execute: ExecuteFn, cleaned: string[] = []) {
  const path = join(await freshDir(), 'engine.db');
  const queue = new SqliteJobQueue(path);
  const worker = new JobWorker(queue, execute, {
    concurrency: 1,
    cleanup: async (job) => {
      cleaned.push(job.id);
    },
    pollMs: 20,
    heartbeatMs: 20,
    retryBaseMs: 100,
  });
  return { queue, worker, cleaned, path };
}

function finishedOnce(worker: JobWorker, id: string): Promise<Job> {
  return new Promise((resolve) => {
    const on = (job: Job) => {
      if (job.id !== id || !['succeeded', 'failed', 'cancelled'].includes(job.state)) return;
      worker.off('finished', on);
      resolve(job);
    };
    worker.on('finished', on);
  });
}

const ok = { outputs: [], notes: [] };

describe('JobWorker', () => {
  it('retries a transient failure after a growing backoff, then succeeds', async () => {
    const starts: number[] = [];
    const { queue, worker } = await setup(async () => {
      starts.push(Date.now());
      if (starts.length < 3) throw new KeepsakeError('JOB_TIMEOUT', 'no progress for 120 s');
      return ok;
    });
    const job = await queue.submit(spec);
    const done = finishedOnce(worker, job.id);
    await worker.start();
    expect(await done).toMatchObject({ state: 'succeeded', attempts: 3 });
    // 100 ms, then 200 ms: the second wait is the longer one.
    expect(starts[1]! - starts[0]!).toBeGreaterThanOrEqual(100);
    expect(starts[2]! - starts[1]!).toBeGreaterThanOrEqual(200);
    const kinds = (await queue.events(job.id)).map((e) => e.kind);
    expect(kinds.filter((k) => k === 'retry')).toHaveLength(2);
    await worker.stop();
  });

  it('does not retry a failure that would fail again', async () => {
    let runs = 0;
    const { queue, worker, cleaned } = await setup(async () => {
      runs++;
      throw new KeepsakeError('UNSUPPORTED_INPUT', '"hls" inputs are refused');
    });
    const job = await queue.submit(spec);
    const done = finishedOnce(worker, job.id);
    await worker.start();
    expect(await done).toMatchObject({
      state: 'failed',
      attempts: 1,
      lastError: { code: 'UNSUPPORTED_INPUT', message: '"hls" inputs are refused' },
    });
    expect(runs).toBe(1);
    expect(cleaned).toEqual([job.id]);
    await worker.stop();
  });

  it('records the reason without a vault path, and hands the whole error to the log', async () => {
    const vaultPath = '/data/library/fi5nabcdefghi/mosvabcdefghi.ksv';
    const { queue, worker } = await setup(async () => {
      throw new KeepsakeError('UNSUPPORTED_INPUT', 'the input is not a video', { file: vaultPath });
    });
    const logged: unknown[] = [];
    worker.on('attemptFailed', (_job, err) => logged.push(err));
    const job = await queue.submit(spec);
    const done = finishedOnce(worker, job.id);
    await worker.start();
    expect((await done).lastError).toEqual({
      code: 'UNSUPPORTED_INPUT',
      message: 'the input is not a video',
    });
    expect(String((logged[0] as Error).message)).toContain(vaultPath);
    await worker.stop();
  });

  it("keeps a plain file's path in the reason (the user named that file)", () => {
    const err = new KeepsakeError('SOURCE_UNREADABLE', 'cannot read', { file: '/home/me/a.mp4' });
    expect(toJobError(err).message).toBe('/home/me/a.mp4: cannot read');
  });

  it('gives up after the last attempt with the last reason', async () => {
    const { queue, worker } = await setup(async () => {
      throw new KeepsakeError('FFMPEG_FAILED', 'FFmpeg was killed by SIGKILL');
    });
    const job = await queue.submit({ ...spec, maxAttempts: 2 });
    const done = finishedOnce(worker, job.id);
    await worker.start();
    expect(await done).toMatchObject({ state: 'failed', attempts: 2 });
    await worker.stop();
  });

  it('a paused queue starts nothing; resume lets it run', async () => {
    let runs = 0;
    const { queue, worker } = await setup(async () => {
      runs++;
      return ok;
    });
    await queue.pause();
    const job = await queue.submit(spec);
    await worker.start();
    await new Promise((r) => setTimeout(r, 200));
    expect(runs).toBe(0);
    const done = finishedOnce(worker, job.id);
    await queue.resume();
    expect((await done).state).toBe('succeeded');
    await worker.stop();
  });

  it('a cancel requested through the queue (another process) aborts the running job', async () => {
    const { queue, worker, cleaned, path } = await setup(
      (_job, { signal }) =>
        new Promise((_, reject) =>
          signal.addEventListener('abort', () =>
            reject(new KeepsakeError('JOB_CANCELLED', 'cancelled')),
          ),
        ),
    );
    const job = await queue.submit(spec);
    const done = finishedOnce(worker, job.id);
    await worker.start();
    while ((await queue.get(job.id)).state !== 'running')
      await new Promise((r) => setTimeout(r, 10));
    // A second connection to the same file stands in for `keepsake job cancel`.
    const other = new SqliteJobQueue(path);
    await other.cancel(job.id);
    await other.close();
    expect(await done).toMatchObject({ state: 'cancelled' });
    expect(cleaned).toEqual([job.id]);
    await worker.stop();
  });

  it('shutdown puts a running job back in the queue rather than losing it', async () => {
    const { queue, worker } = await setup(
      (_job, { signal }) =>
        new Promise((_, reject) =>
          signal.addEventListener('abort', () =>
            reject(new KeepsakeError('JOB_CANCELLED', 'cancelled')),
          ),
        ),
    );
    const job = await queue.submit(spec);
    await worker.start();
    while ((await queue.get(job.id)).state !== 'running')
      await new Promise((r) => setTimeout(r, 10));
    await worker.stop();
    expect(await queue.get(job.id)).toMatchObject({ state: 'queued', attempts: 0 });
  });

  it('an interruption by lock or shutdown uses up no attempt and is not a failure', async () => {
    let runs = 0;
    const { queue, worker } = await setup((_job, { signal }) => {
      runs++;
      // The fourth start (more than maxAttempts) runs to the end.
      if (runs > 3) return Promise.resolve(ok);
      return new Promise((_, reject) =>
        signal.addEventListener('abort', () =>
          reject(new KeepsakeError('JOB_CANCELLED', 'cancelled')),
        ),
      );
    });
    const job = await queue.submit(spec);
    for (let i = 0; i < 3; i++) {
      await worker.start();
      while ((await queue.get(job.id)).state !== 'running')
        await new Promise((r) => setTimeout(r, 10));
      expect((await queue.get(job.id)).attempts).toBe(1);
      await worker.stop({ reason: 'the vault was locked' });
      const after = await queue.get(job.id);
      expect(after).toMatchObject({ state: 'queued', attempts: 0 });
      expect(after.lastError).toBeUndefined();
      expect(after.notBefore).toBeLessThanOrEqual(Date.now());
    }
    const done = finishedOnce(worker, job.id);
    await worker.start();
    expect(await done).toMatchObject({ state: 'succeeded', attempts: 1, maxAttempts: 3 });
    const events = await queue.events(job.id);
    expect(events.filter((e) => e.kind === 'interrupted').map((e) => e.detail)).toEqual([
      'the vault was locked',
      'the vault was locked',
      'the vault was locked',
    ]);
    expect(events.some((e) => e.kind === 'retry' || e.kind === 'failed')).toBe(false);
    await worker.stop();
  });

  it('on start, recovers jobs whose engine died: cleaned, then retried', async () => {
    const { queue, worker, cleaned } = await setup(async () => ok);
    const dead = await queue.submit(spec);
    const live = await queue.submit(spec);
    // A worker on this host whose process is gone (pid 4194305 is above Linux's pid_max),
    // and one that is alive (this process) with a valid lease.
    const deadOwner = `${hostname()}:4194305:dead`;
    const liveOwner = `${hostname()}:${process.pid}:other`;
    expect(ownerAlive(deadOwner)).toBe(false);
    expect(ownerAlive(liveOwner)).toBe(true);
    await queue.claim(deadOwner, 60_000);
    await queue.claim(liveOwner, 60_000);
    const done = finishedOnce(worker, dead.id);
    const recovered = await worker.start();
    expect(recovered.map((j) => [j.id, j.state, j.lastError?.code])).toEqual([
      [dead.id, 'queued', 'JOB_INTERRUPTED'],
    ]);
    expect(cleaned).toEqual([dead.id]);
    expect(await done).toMatchObject({ state: 'succeeded', attempts: 2 });
    expect(await queue.get(live.id)).toMatchObject({ state: 'running', owner: liveOwner });
    await worker.stop();
  });

  it('classifies transient failures', () => {
    expect(isTransient({ code: 'JOB_INTERRUPTED', message: '' })).toBe(true);
    expect(isTransient({ code: 'JOB_TIMEOUT', message: '' })).toBe(true);
    expect(isTransient({ code: 'FFMPEG_FAILED', message: 'FFmpeg was killed by SIGKILL' })).toBe(
      true,
    );
    expect(isTransient({ code: 'FFMPEG_FAILED', message: 'FFmpeg exited with status 1' })).toBe(
      false,
    );
    expect(isTransient({ code: 'OUTPUT_CHECK_FAILED', message: '' })).toBe(false);
    expect(isTransient({ code: 'PAYLOAD_CORRUPT', message: '' })).toBe(false);
  });
});
