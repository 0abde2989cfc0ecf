// A restoration run on a paired server comes back with the picture scores the server
// measured, as a local one keeps them; its crop box (stored parsed in the queue) reaches
// the server as the plain text the contract takes.

import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { parseServeConfig } from '../http/serve-config';
import type { JobEngine } from '../jobs/job-engine';
import type { Job } from '../jobs/queue';
import { submitJob } from '../jobs/worker';
import { pairWithServer } from '../net/pair-client';
import { createPairingCode } from '../net/pairing';
import { startServe } from '../serve/serve';
import { testEngine } from '../testing/engine';
import { makeClip, testScratch } from '../testing/media';
import { freshDir } from '../testing/tmp';
import { saveRemote } from './remotes';

const cleanup: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const c of cleanup.splice(0).reverse()) await c();
});

function finished(engine: JobEngine, id: string): Promise<Job> {
  return new Promise((resolve) => {
    const on = (job: Job) => {
      if (job.id !== id) return;
      engine.worker.off('finished', on);
      resolve(job);
    };
    engine.worker.on('finished', on);
  });
}

describe('a remote restoration', () => {
  it('with a crop box, brings back its SSIM and PSNR with its output', async () => {
    const server = await startServe({
      config: parseServeConfig({ port: 0 }),
      dataDir: join(await freshDir(), 'server'),
      kek: randomBytes(32),
      scratch: await testScratch(),
      logError: () => undefined,
      worker: { pollMs: 50, heartbeatMs: 100 },
    });
    cleanup.push(() => server.close());
    const local = await testEngine();
    cleanup.push(() => local.engine.close());
    const { code } = createPairingCode(server.db);
    await saveRemote(
      local.dataDir,
      local.vault,
      await pairWithServer(server.url, code, 'laptop', 'lxc'),
    );

    const job = await submitJob(local.engine.queue, {
      preset: 'vhs-restore',
      params: { denoise: 'off', loudnorm: false, crop: '304:224:8:8' },
      input: { kind: 'plain', path: await makeClip(local.dir, 'tape.mp4', { seconds: 1 }) },
      outputDir: local.engine.outputRoot,
      options: { remote: 'lxc' },
    });
    const done = finished(local.engine, job.id);
    await local.engine.worker.start();
    const result = await done;
    expect(result.state, JSON.stringify(result.lastError)).toBe('succeeded');
    const [output] = result.outputs;
    expect(output!.quality!.ssim).toBeGreaterThan(0.9);
    expect(output!.quality!.psnr).toBeGreaterThan(30);
    expect(result.notes.join('\n')).toContain('restored.mkv: picture checked against the original');
  });
});
