// The kill -9 hand-over on a coordinator whose queue is BullMQ on a real redis-server,
// with default settings: two real `keepsake worker` processes (one FFmpeg thread each),
// one killed mid-job; its job's BullMQ lock lapses, BullMQ's stalled-job check puts the
// job back, and the other worker takes it and finishes it. The coordinator does not
// sweep its own leases on this backend: the hand-over is BullMQ's.

import { randomBytes } from 'node:crypto';
import type { ChildProcess } from 'node:child_process';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { BullmqJobQueue } from '../jobs/bullmq-queue';
import { parseServeConfig } from '../http/serve-config';
import { createPairingCode } from '../net/pairing';
import type { WorkerConfig } from '../pool/worker-config';
import { runCli, startCli } from '../testing/cli';
import { testScratch } from '../testing/media';
import { stopAll, stopLater, submitted, until } from '../testing/pool';
import { NO_REDIS, startRedis } from '../testing/redis-server';
import { freshDir } from '../testing/tmp';
import { startServe, type RunningServer } from './serve';

afterEach(stopAll);

/** A real `keepsake worker` process paired with `server`, one FFmpeg thread, defaults otherwise. */
async function workerProcess(server: RunningServer, name: string) {
  const dir = await freshDir();
  const env = { KEEPSAKE_HOME: join(dir, 'home') };
  const file = join(dir, 'worker.json');
  const { code } = createPairingCode(server.db, { role: 'worker' });
  const pair = await runCli(
    ['worker', 'pair', server.url, '--code', code, '-o', file, '--name', name],
    { env },
  );
  expect(pair.code, pair.stderr).toBe(0);
  const config = JSON.parse(await readFile(file, 'utf8')) as WorkerConfig;
  await writeFile(file, JSON.stringify({ ...config, threads: 1 }));
  const child: ChildProcess = startCli(['worker', '-c', file], { env });
  const exited = new Promise<unknown>((resolve) => child.on('close', resolve));
  let stderr = '';
  child.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
  stopLater(async () => {
    if (child.exitCode === null) child.kill('SIGKILL');
    await exited;
  });
  await until(`${name} to announce itself`, () => server.pool.seen().some((w) => w.name === name));
  return { name, child, exited, owner: `pool:${config.clientId}`, stderr: () => stderr };
}

describe.skipIf(NO_REDIS)('a worker killed mid-job on a BullMQ coordinator', () => {
  it('loses its job through BullMQ to the other worker, which finishes it (defaults)', async () => {
    const redis = await startRedis();
    const server = await startServe({
      config: parseServeConfig({ port: 0, queue: { redis: redis.url } }),
      dataDir: join(await freshDir(), 'server'),
      kek: randomBytes(32),
      scratch: await testScratch(),
      logError: () => undefined,
    });
    stopLater(() => server.close());
    // The coordinator runs nothing itself: every job goes to the pool.
    await server.engine.worker.stop();
    const queue = server.engine.queue as BullmqJobQueue;
    expect(queue).toBeInstanceOf(BullmqJobQueue);

    const workers = [await workerProcess(server, 'kitchen-pc'), await workerProcess(server, 'nas')];
    const { id, client } = await submitted(server, { seconds: 20, size: '1280x720', rate: 30 });
    const doomed = await until('the job to run on a worker', async () => {
      const job = await queue.get(id);
      return job.state === 'running' ? workers.find((w) => w.owner === job.owner) : undefined;
    });
    const survivor = workers.find((w) => w !== doomed)!;
    // Its hold is the BullMQ lock, with the worker's owner as the lock's token.
    expect(await queue.lockedBy(doomed.owner, id)).toBe(true);
    expect(await server.pool.holds(doomed.owner.slice('pool:'.length), id)).toBe(true);

    const killedAt = Date.now();
    doomed.child.kill('SIGKILL');
    await doomed.exited;
    await until('the job to run on the other worker', async () => {
      const job = await queue.get(id);
      return job.state === 'running' && job.owner === survivor.owner ? true : undefined;
    });
    const handover = (Date.now() - killedAt) / 1000;
    console.log(`kill -9 to the job running on the other worker: ${handover.toFixed(1)} s`);
    // The 35 s target is measured by bench:workers; here the bound only says it was
    // BullMQ's lock (15 s) and stalled check (10 s), not a hang.
    expect(handover).toBeLessThan(90);

    const view = await client.waitFor(id, undefined, 500);
    expect(view.state, survivor.stderr()).toBe('succeeded');
    // The worker says so once the coordinator has taken its outputs, which is when the
    // job turns succeeded: the line can reach this process a moment after the state does.
    await until('the survivor to say it finished the job', () =>
      survivor.stderr().includes(`job ${id} done`),
    );
    // BullMQ handed it on (its stalled check), not the coordinator's lease expiry.
    const events = await queue.events(id);
    const details = events.map((e) => e.detail ?? '').join(' ');
    expect(details).toMatch(/JOB_INTERRUPTED: the worker running this job stopped answering/);
    expect(details).toMatch(/starts again on whoever takes it next/);
    expect(details).not.toMatch(/partial outputs were discarded/); // the lease sweep's words
    await until('the job to leave Redis', async () =>
      (await queue.bull.getJob(id)) ? undefined : true,
    );
  }, 240_000);
});
