// The real `keepsake worker` command: paired with a coordinator by a one-time code for
// the worker role, it runs a client's job to the end and stops cleanly on SIGTERM.

import { readFile, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { createPairingCode } from '../net/pairing';
import { runCli, startCli } from '../testing/cli';
import { coordinator, stopAll, stopLater, submitted, until } from '../testing/pool';
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
});
