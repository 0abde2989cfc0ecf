// The pool (`keepsake worker`, pool/) on a coordinator whose queue is BullMQ on a real
// redis-server: workers racing for a job through the coordinator get it once, their
// progress reaches BullMQ, and a job runs on a worker to the end.

import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { BullmqJobQueue } from '../jobs/bullmq-queue';
import { parseServeConfig } from '../http/serve-config';
import { poolWorker, rawWorker, stopAll, submitted, until } from '../testing/pool';
import { testScratch } from '../testing/media';
import { NO_REDIS, startRedis, type TestRedis } from '../testing/redis-server';
import { freshDir } from '../testing/tmp';
import { startServe, type RunningServer } from './serve';

const servers: RunningServer[] = [];
afterEach(async () => {
  await stopAll();
  await Promise.all(servers.splice(0).map((s) => s.close()));
});

async function coordinatorOn(redis: TestRedis) {
  const server = await startServe({
    config: parseServeConfig({ port: 0, queue: { redis: redis.url } }),
    dataDir: join(await freshDir(), 'server'),
    kek: randomBytes(32),
    scratch: await testScratch(),
    logError: () => undefined,
    worker: { pollMs: 50, heartbeatMs: 100 },
    pool: { leaseMs: 20_000 },
  });
  servers.push(server);
  // The coordinator runs nothing itself: every job goes to the pool.
  await server.engine.worker.stop();
  return server;
}

describe.skipIf(NO_REDIS)('a pool on a BullMQ queue', () => {
  it('two workers racing for one job through the coordinator: one wins; progress reaches BullMQ', async () => {
    const redis = await startRedis();
    const server = await coordinatorOn(redis);
    const queue = server.engine.queue as BullmqJobQueue;
    expect(queue).toBeInstanceOf(BullmqJobQueue);
    const { id, client } = await submitted(server);
    const a = await rawWorker(server, 'a');
    const b = await rawWorker(server, 'b');
    const [gotA, gotB] = await Promise.all([a.claim(), b.claim()]);
    const winners = [gotA, gotB].filter(Boolean);
    expect(winners.map((j) => j!.id)).toEqual([id]);
    const winner = gotA ? a : b;
    const loser = gotA ? b : a;
    expect(await winner.heartbeat([{ id, percent: 42, fps: 30 }])).toEqual({ stop: [] });
    expect((await client.job(id)).progress?.percent).toBe(42);
    expect((await queue.bull.getJob(id))?.progress).toMatchObject({ percent: 42, fps: 30 });
    expect(await queue.bull.getJob(id).then((j) => j?.getState())).toBe('active');
    // The loser's heartbeat does not renew the job for it.
    expect(await loser.heartbeat([{ id, percent: 1 }])).toEqual({ stop: [id] });
  });

  it("runs a client's job on a worker to the end", async () => {
    const redis = await startRedis();
    const server = await coordinatorOn(redis);
    await poolWorker(server, 'garage-pc');
    const { id, client } = await submitted(server);
    const done = await client.waitFor(id);
    expect(done.state, JSON.stringify(done.lastError)).toBe('succeeded');
    // Finished: gone from Redis, recorded in SQLite.
    await until('the job leaves Redis', async () =>
      (await (server.engine.queue as BullmqJobQueue).bull.getJob(id)) ? undefined : true,
    );
  });
});
