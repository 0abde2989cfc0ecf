// A desktop whose clock is off, against a real hardened server on loopback: the server
// stays real, only the desktop's signing clock is moved. The job must wait, saying by
// how much the clock is off, and run once the clock is right.

import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { isKeepsakeError } from '../core/errors';
import { openJobEngine } from '../jobs/job-engine';
import { runRemote } from './remote-runner';
import type { Job } from '../jobs/queue';
import { submitJob } from '../jobs/worker';
import { RemoteClient } from '../net/client';
import { createPairingCode } from '../net/pairing';
import { startServe } from '../serve/serve';
import { parseServeConfig } from '../http/serve-config';
import { makeClip, testScratch } from '../testing/media';
import { TEST_SCRYPT, freshDir } from '../testing/tmp';
import { createVault } from '../vault/keyring';
import { pairWithServer } from '../net/pair-client';
import { getRemote, saveRemote } from './remotes';

const cleanup: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const c of cleanup.splice(0).reverse()) await c();
});

async function setup(clockOffsetMs: { value: number }) {
  const server = await startServe({
    config: parseServeConfig({ port: 0 }),
    dataDir: join(await freshDir(), 'server'),
    kek: randomBytes(32),
    scratch: await testScratch(),
    logError: () => undefined,
    worker: { pollMs: 50, heartbeatMs: 100 },
  });
  cleanup.push(() => server.close());
  const dir = await freshDir();
  const dataDir = join(dir, 'data');
  const { vault } = await createVault(join(dataDir, 'vault'), 'pw', {
    scrypt: TEST_SCRYPT,
    recovery: false,
  });
  const engine = await openJobEngine({
    dataDir,
    keys: { vault },
    runRemote,
    scratch: await testScratch(),
    concurrency: 1,
    worker: { pollMs: 50, heartbeatMs: 100, retryBaseMs: 200, retryMaxMs: 400 },
    remoteClock: () => Date.now() + clockOffsetMs.value,
  });
  cleanup.push(() => engine.close());
  // Pairing itself is not signed: it works whatever the clock says.
  const { code } = createPairingCode(server.db);
  await saveRemote(dataDir, vault, await pairWithServer(server.url, code, 'laptop', 'lxc'));
  return { server, engine, dir, dataDir, vault };
}

describe('a desktop whose clock is off', () => {
  it('is told by how much, ahead or behind, from the server’s own time', async () => {
    const offset = { value: 0 };
    const { dataDir, vault } = await setup(offset);
    const remote = await getRemote(dataDir, vault, 'lxc');
    for (const [ms, word] of [
      [-35_000, 'behind'],
      [35_000, 'ahead of'],
    ] as const) {
      const client = new RemoteClient(remote, { now: () => Date.now() + ms });
      const err = await client.createUpload(10).catch((e: unknown) => e);
      await client.close();
      expect(isKeepsakeError(err, 'CLOCK_SKEW'), String(err)).toBe(true);
      const said = /clock is (\d+) s (behind|ahead of) the server's/.exec((err as Error).message);
      expect(said?.[2]).toBe(word);
      expect(Math.abs(Number(said?.[1]) - 35)).toBeLessThanOrEqual(1);
      expect((err as Error).message).toMatch(/automatic date and time/);
    }
  });

  it('keeps a remote job waiting (no attempt used up) and runs it once the clock is right', async () => {
    const offset = { value: -35_000 };
    const { engine, dir } = await setup(offset);
    const clip = await makeClip(dir);
    const job = await submitJob(engine.queue, {
      preset: 'remux',
      params: {},
      input: { kind: 'plain', path: clip },
      outputDir: engine.outputRoot,
      options: { remote: 'lxc' },
    });
    const done = new Promise<Job>((resolve) => {
      engine.worker.on('finished', (j: Job) => {
        if (j.id === job.id) resolve(j);
      });
    });
    await engine.worker.start();
    const tries = async () =>
      (await engine.queue.events(job.id)).filter((e) => e.kind === 'retry').length;
    // More tries than the job has attempts: it waits rather than failing for good.
    for (let i = 0; i < 300 && (await tries()) < job.maxAttempts + 1; i++) {
      await new Promise((r) => setTimeout(r, 50));
    }
    expect(await tries()).toBeGreaterThan(job.maxAttempts);
    const waiting = await engine.queue.get(job.id);
    expect(waiting).toMatchObject({ state: 'queued', attempts: 0 });
    expect(waiting?.lastError?.code).toBe('CLOCK_SKEW');
    expect(waiting?.lastError?.message).toMatch(/clock is 3[4-6] s behind the server's/);

    offset.value = 0; // the user turned on automatic time
    const finished = await done;
    expect(finished.state, JSON.stringify(finished.lastError)).toBe('succeeded');
  });
});
