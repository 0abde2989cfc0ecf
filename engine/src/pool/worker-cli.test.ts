// The real `keepsake worker` command: paired with a coordinator by a one-time code for
// the worker role, it runs a client's job to the end and stops cleanly on SIGTERM.

import { readFile, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { createPairingCode } from '../net/pairing';
import { runCli, startCli } from '../testing/cli';
import { coordinator, poolWorker, stopAll, stopLater, submitted, until } from '../testing/pool';
import { freshDir } from '../testing/tmp';
import type { WorkerConfig } from './worker-config';

afterEach(stopAll);

describe('keepsake worker', () => {
  it('pairs as a worker, runs a job, and stops on SIGTERM', async () => {
    const { server } = await coordinator();
    const dir = await freshDir();
    const env = { KEEPSAKE_HOME: join(dir, 'home') };
    const file = join(dir, 'worker.json');
    const { code } = createPairingCode(server.db, { role: 'worker' });
    const pair = await runCli(
      ['worker', 'pair', server.url, '--code', code, '-o', file, '--name', 'attic', '--json'],
      { env },
    );
    expect(pair.code, pair.stderr).toBe(0);
    expect(JSON.parse(pair.stdout)).toMatchObject({ caFingerprint: server.caFingerprint });
    expect((await stat(file)).mode & 0o777).toBe(0o600);
    const config = JSON.parse(await readFile(file, 'utf8')) as WorkerConfig;
    expect(config.caFingerprint).toBe(server.caFingerprint);
    await writeFile(file, JSON.stringify({ ...config, heartbeatSeconds: 1, threads: 1 }));

    const child = startCli(['worker', '-c', file], { env });
    const exited = new Promise<number | null>((resolve) => child.on('close', resolve));
    let stderr = '';
    child.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
    stopLater(async () => {
      if (child.exitCode === null) child.kill('SIGKILL');
      await exited;
    });
    await until('the worker to announce itself', () =>
      server.pool.seen().some((w) => w.name === 'attic'),
    );

    const { id, client } = await submitted(server);
    const view = await client.waitFor(id, undefined, 200);
    expect(view.state, stderr).toBe('succeeded');
    await until('the worker to say so', () => stderr.includes(`job ${id} done`));

    child.kill('SIGTERM');
    expect(await exited).toBe(0);
  });

  it('a worker killed mid-job (kill -9) loses the job to another, which finishes it', async () => {
    const { server } = await coordinator(3000);
    const dir = await freshDir();
    const env = { KEEPSAKE_HOME: join(dir, 'home') };
    const file = join(dir, 'worker.json');
    const { code } = createPairingCode(server.db, { role: 'worker' });
    const pair = await runCli(
      ['worker', 'pair', server.url, '--code', code, '-o', file, '--name', 'doomed'],
      { env },
    );
    expect(pair.code, pair.stderr).toBe(0);
    const config = JSON.parse(await readFile(file, 'utf8')) as WorkerConfig;
    await writeFile(file, JSON.stringify({ ...config, heartbeatSeconds: 1, threads: 1 }));
    const child = startCli(['worker', '-c', file], { env });
    const exited = new Promise<unknown>((resolve) => child.on('close', resolve));
    stopLater(async () => {
      if (child.exitCode === null) child.kill('SIGKILL');
      await exited;
    });
    await until('the worker to announce itself', () =>
      server.pool.seen().some((w) => w.name === 'doomed'),
    );

    const { id, client } = await submitted(server, { seconds: 20, size: '1280x720', rate: 30 });
    await until('the job to run on the doomed worker', async () => {
      const job = await server.engine.queue.get(id);
      return job.state === 'running' && job.owner === `pool:${config.clientId}`;
    });
    child.kill('SIGKILL');
    await exited;

    const other = await poolWorker(server, 'survivor');
    const view = await client.waitFor(id, undefined, 200);
    expect(view.state).toBe('succeeded');
    // The survivor records the end once the coordinator has answered, which may come
    // after the job reads as succeeded here.
    await until('the survivor to record its end', () => other.ended.length > 0);
    expect(other.ended.map((e) => [e.id, e.err])).toEqual([[id, undefined]]);
    const events = await server.engine.queue.events(id);
    expect(events.map((e) => e.detail ?? '').join(' ')).toMatch(/stopped answering/);
  });
});
