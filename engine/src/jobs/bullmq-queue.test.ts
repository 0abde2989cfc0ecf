// The BullMQ queue against a real redis-server: order, retries, stalls, races, and Redis
// going away and coming back.

import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { NO_REDIS, startRedis, type TestRedis } from '../testing/redis-server';
import { freshDir } from '../testing/tmp';
import { BullmqJobQueue, bullPriority } from './bullmq-queue';
import { MAX_STALLED_COUNT } from './bullmq-names';
import type { JobSpec } from './queue';

const open: { close(): Promise<void> }[] = [];
afterEach(async () => {
  for (const q of open.splice(0).reverse()) await q.close();
});

function spec(priority = 0, maxAttempts = 3): JobSpec {
  return {
    preset: 'web-h264',
    params: { height: 480 },
    input: { kind: 'plain', path: '/nowhere/in.mp4' },
    outputDir: '/nowhere/out',
    priority,
    maxAttempts,
  };
}

async function openQueue(
  redis: TestRedis,
  dbPath?: string,
  options: Partial<Parameters<typeof BullmqJobQueue.open>[1]> = {},
): Promise<BullmqJobQueue> {
  const path = dbPath ?? join(await freshDir(), 'engine.db');
  const queue = await BullmqJobQueue.open(path, { redis: { url: redis.url }, ...options });
  open.push(queue);
  return queue;
}

async function until<T>(probe: () => Promise<T | undefined>, ms = 15_000): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error('timed out');
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

describe.skipIf(NO_REDIS)('BullmqJobQueue', () => {
  it('maps priorities so higher runs first, within BullMQ’s range', () => {
    expect(bullPriority(10)).toBeLessThan(bullPriority(0));
    expect(bullPriority(1e9)).toBe(1);
    expect(bullPriority(-1e9)).toBe(2_097_152);
  });

  it('hands jobs out by priority, then in submission order', async () => {
    const redis = await startRedis();
    const queue = await openQueue(redis);
    const low = await queue.submit(spec(0));
    const high = await queue.submit(spec(5));
    const low2 = await queue.submit(spec(0));
    const order: string[] = [];
    for (let i = 0; i < 3; i++) {
      const job = await queue.claim('w1', 10_000);
      order.push(job!.id);
      await queue.succeed(job!.id, 'w1', { outputs: [], notes: [] });
    }
    expect(order).toEqual([high.id, low.id, low2.id]);
    expect(await queue.claim('w1', 10_000)).toBeUndefined();
    expect((await queue.get(high.id)).state).toBe('succeeded');
    // Finished jobs leave Redis: their record is SQLite's.
    expect(await queue.bull.getJob(high.id)).toBeUndefined();
  });

  it('retries with BullMQ’s exponential backoff, then fails for good', async () => {
    const redis = await startRedis();
    const queue = await openQueue(redis, undefined, { retryBaseMs: 400 });
    const { id } = await queue.submit(spec(0, 3));
    const error = { code: 'JOB_TIMEOUT' as const, message: 'too slow' };

    const first = await queue.claim('w1', 10_000);
    expect(first?.attempts).toBe(1);
    const failedAt = Date.now();
    const retried = await queue.fail(id, 'w1', error, Date.now());
    expect(retried.state).toBe('queued');
    // BullMQ's schedule, not the caller's: 400 ms after the first failure.
    expect(retried.notBefore).toBeGreaterThanOrEqual(failedAt + 300);
    expect(await queue.bull.getJob(id).then((j) => j?.getState())).toBe('delayed');
    expect(await queue.claim('w1', 10_000)).toBeUndefined();

    const second = await until(() => queue.claim('w1', 10_000));
    expect(second.attempts).toBe(2);
    expect(Date.now() - failedAt).toBeGreaterThanOrEqual(350);
    // Doubled: 800 ms after BullMQ took the failure, which was after `before`. Measured
    // from before the call, not after it: a slow call on a loaded machine must not count.
    const before = Date.now();
    const again = await queue.fail(id, 'w1', error, Date.now());
    expect(again.notBefore - before).toBeGreaterThanOrEqual(800);

    const third = await until(() => queue.claim('w1', 10_000));
    expect(third.attempts).toBe(3);
    const last = await queue.fail(id, 'w1', error, Date.now());
    expect(last.state).toBe('failed');
    expect(last.lastError?.code).toBe('JOB_TIMEOUT');
    expect(await queue.bull.getJob(id)).toBeUndefined();
  });

  it('a job whose holder stops renewing its lock is handed to another consumer', async () => {
    const redis = await startRedis();
    const dbPath = join(await freshDir(), 'engine.db');
    const fast = { lockMs: 1_000, stalledIntervalMs: 300 };
    const first = await openQueue(redis, dbPath, fast);
    const { id } = await first.submit(spec());
    expect((await first.claim('dead-worker', 1_000))?.id).toBe(id);
    // The holder dies: no more heartbeats. Another consumer on the same queue takes over.
    const second = await openQueue(redis, dbPath, fast);
    const taken = await until(() => second.claim('live-worker', 5_000), 10_000);
    expect(taken.id).toBe(id);
    expect(taken.owner).toBe('live-worker');
    // The dead holder, were it to wake, no longer owns the job.
    expect((await first.heartbeat(id, 'dead-worker', 1_000)).owned).toBe(false);
    await second.succeed(id, 'live-worker', { outputs: [], notes: [] });
    expect((await second.get(id)).state).toBe('succeeded');
  });

  it('a job whose holders die more than MAX_STALLED_COUNT times is stopped, in words', async () => {
    const redis = await startRedis();
    const queue = await openQueue(redis, undefined, { lockMs: 1_000, stalledIntervalMs: 300 });
    const { id } = await queue.submit(spec());
    // Each holder claims the job and dies; BullMQ's stalled check hands it on each time.
    for (let holder = 0; holder <= MAX_STALLED_COUNT; holder++) {
      const taken = await until(() => queue.claim(`dead-${holder}`, 1_000), 10_000);
      expect(taken.id).toBe(id);
    }
    // One stall too many: the next claim fails it instead of handing it to a fifth machine.
    const failed = await until(async () => {
      expect(await queue.claim('live-worker', 1_000)).toBeUndefined();
      const job = await queue.get(id);
      return job.state === 'failed' ? job : undefined;
    }, 10_000);
    expect(failed.lastError?.code).toBe('JOB_INTERRUPTED');
    expect(failed.lastError?.message).toContain(`stopped answering ${MAX_STALLED_COUNT + 1} times`);
    expect(await queue.claim('live-worker', 1_000)).toBeUndefined();
  });

  it('two consumers racing for one job: one wins', async () => {
    const redis = await startRedis();
    const dbPath = join(await freshDir(), 'engine.db');
    const a = await openQueue(redis, dbPath);
    const b = await openQueue(redis, dbPath);
    const { id } = await a.submit(spec());
    const results = await Promise.all([a.claim('a', 10_000), b.claim('b', 10_000)]);
    expect(results.filter(Boolean).map((j) => j!.id)).toEqual([id]);
  });

  it('progress goes through BullMQ, and errors reach Redis as codes only', async () => {
    // An append-only file: every write Redis took, uncompressed, to search afterwards.
    const redis = await startRedis({ persist: 'aof' });
    const queue = await openQueue(redis);
    const { id } = await queue.submit(spec(0, 1));
    await queue.claim('w1', 30_000);
    await queue.heartbeat(id, 'w1', 30_000, { percent: 42, fps: 30, at: 1 });
    expect((await queue.bull.getJob(id))?.progress).toEqual({ percent: 42, fps: 30, at: 1 });
    const message = '/home/gran/Wedding 1987.mp4 could not be read';
    await queue.fail(id, 'w1', { code: 'INTERNAL', message });
    // SQLite keeps the words for the desktop; Redis (the job, its events stream) the code.
    expect((await queue.get(id)).lastError?.message).toBe(message);
    const written = await appendOnly(redis.dir);
    expect(written).toContain('INTERNAL');
    expect(written).toContain('"percent":42');
    expect(written).not.toContain('Wedding');
  });

  it('Redis killed mid-run and restarted: the job finishes, nothing is lost', async () => {
    const redis = await startRedis({ persist: 'aof' });
    const queue = await openQueue(redis, undefined, { commandTimeoutMs: 500 });
    const running = await queue.submit(spec(1));
    const waiting = await queue.submit(spec(0));
    await queue.claim('w1', 30_000);
    await redis.kill();
    // While Redis is away: heartbeats and outcomes fail as QUEUE_UNAVAILABLE (the worker
    // waits them out), new jobs are still recorded.
    await expect(queue.heartbeat(running.id, 'w1', 30_000)).rejects.toMatchObject({
      code: 'QUEUE_UNAVAILABLE',
    });
    await expect(queue.succeed(running.id, 'w1', { outputs: [], notes: [] })).rejects.toMatchObject(
      { code: 'QUEUE_UNAVAILABLE' },
    );
    const during = await queue.submit(spec(0));
    await redis.restart();
    await until(async () => ((await queue.redisReachable()) ? true : undefined));
    const done = await until(() =>
      queue.succeed(running.id, 'w1', { outputs: [], notes: [] }).catch(() => undefined),
    );
    expect(done.state).toBe('succeeded');
    const next = await until(() => queue.claim('w1', 10_000));
    expect(next.id).toBe(waiting.id);
    await queue.succeed(next.id, 'w1', { outputs: [], notes: [] });
    // The job submitted while Redis was down was handed over when it came back.
    const last = await until(() => queue.claim('w1', 10_000));
    expect(last.id).toBe(during.id);
  });

  it('Redis that comes back empty gets every waiting job again from SQLite', async () => {
    const redis = await startRedis(); // no persistence: a restart loses everything
    const queue = await openQueue(redis, undefined, { commandTimeoutMs: 500 });
    const ids = [(await queue.submit(spec())).id, (await queue.submit(spec())).id];
    await redis.kill();
    await redis.restart();
    await until(async () => ((await queue.redisReachable()) ? true : undefined));
    const claimed = [
      (await until(() => queue.claim('w1', 10_000))).id,
      (await until(() => queue.claim('w1', 10_000))).id,
    ];
    expect(claimed.sort()).toEqual([...ids].sort());
  });

  it('closes within seconds while Redis is away (a server can stop during an outage)', async () => {
    const redis = await startRedis();
    const queue = await BullmqJobQueue.open(join(await freshDir(), 'engine.db'), {
      redis: { url: redis.url },
    });
    await queue.submit(spec());
    await redis.kill();
    expect(await queue.redisReachable()).toBe(false);
    const started = Date.now();
    await queue.close();
    expect(Date.now() - started).toBeLessThan(6_000);
  });

  it('cancel and pause reach BullMQ', async () => {
    const redis = await startRedis();
    const queue = await openQueue(redis);
    const { id } = await queue.submit(spec());
    await queue.cancel(id);
    expect(await queue.bull.getJob(id)).toBeUndefined();
    const other = await queue.submit(spec());
    await queue.pause();
    expect(await queue.bull.isPaused()).toBe(true);
    expect(await queue.claim('w1', 10_000)).toBeUndefined();
    await queue.resume();
    expect((await queue.claim('w1', 10_000))?.id).toBe(other.id);
  });
});

/** Everything Redis appended to its append-only files in `dir`, as one text. */
async function appendOnly(dir: string): Promise<string> {
  const files = await readdir(dir, { recursive: true, withFileTypes: true });
  const aof = files.filter((f) => f.isFile() && /\.aof$/.test(f.name));
  const texts = await Promise.all(aof.map((f) => readFile(join(f.parentPath, f.name), 'latin1')));
  return texts.join('\n');
}
