// A tape's clips as chapters of a whole-tape copy that a pool worker makes: they reach
// the worker by lease with the job's keys, in memory only, and the copy carries them as
// one made on the coordinator or the desktop would. Neither the coordinator's folder nor
// the worker's ever holds their titles.

import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { promisify } from 'node:util';
import { afterEach, describe, expect, it } from 'vitest';
import { serveLoopback, vaultByteSource } from '../ffmpeg/input-source';
import type { JobEngine } from '../jobs/job-engine';
import { sealJobLabels } from '../jobs/job-labels';
import type { Job } from '../jobs/queue';
import { submitJob } from '../jobs/worker';
import { pairWithServer } from '../net/pair-client';
import { createPairingCode } from '../net/pairing';
import { saveRemote } from '../remote/remotes';
import { testEngine } from '../testing/engine';
import { filesContaining } from '../testing/marker';
import { makeClip } from '../testing/media';
import { coordinator, poolWorker, stopAll, stopLater, until } from '../testing/pool';
import { VaultFile } from '../vault/vault-file';

const run = promisify(execFile);
afterEach(stopAll);

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

describe("a tape's chapters in a pool", () => {
  it('go to the worker by lease and into the copy it makes, never onto a disk', async () => {
    const { server, dir } = await coordinator();
    const pool = await poolWorker(server, 'garage-pc');
    const local = await testEngine({ retryBaseMs: 200, retryMaxMs: 400 });
    stopLater(() => local.engine.close());
    const { code } = createPairingCode(server.db);
    await saveRemote(
      local.dataDir,
      local.vault,
      await pairWithServer(server.url, code, 'laptop', 'home'),
    );

    const mark = `KSMARK${randomBytes(8).toString('hex')}`;
    const chapters = [
      { start: 0, end: 1.5, title: `Garden ${mark}` },
      { start: 1.5, end: 3, title: `Cake; "candles" = 3 ${mark}` },
    ];
    const fileId = 'fi0123456789abcdef';
    const job = await submitJob(local.engine.queue, {
      preset: 'remux',
      params: { container: 'mkv' },
      input: { kind: 'plain', path: await makeClip(local.dir, 'tape.mp4', { seconds: 3 }) },
      outputDir: local.engine.outputRoot,
      options: {
        remote: 'home',
        libraryFile: fileId,
        labels: sealJobLabels(local.vault, fileId, { chapters }),
      },
    });
    const done = finished(local.engine, job.id);
    await local.engine.worker.start();
    const result = await done;
    expect(result.state, JSON.stringify(result.lastError)).toBe('succeeded');
    // The worker made it, with the chapters its lease carried.
    // Recorded once the coordinator has answered: possibly after the job reads as done.
    await until('the worker to record the end', () => pool.ended.length > 0);
    expect(pool.ended.map((e) => e.err)).toEqual([undefined]);
    expect(pool.client.leases.map((l) => l.labels?.chapters)).toEqual([chapters]);

    const file = await VaultFile.open(result.outputs[0]!.path, { vault: local.vault });
    const served = await serveLoopback(vaultByteSource(file));
    let found: { start_time: string; end_time: string; tags: { title: string } }[];
    try {
      const { stdout } = await run(
        local.engine.env.ffmpeg.ffprobePath,
        [
          ...['-v', 'error', '-protocol_whitelist', 'http,tcp'],
          ...['-show_chapters', '-of', 'json', served.url],
        ],
        { env: { ...served.env } },
      );
      found = (JSON.parse(stdout) as { chapters: typeof found }).chapters;
    } finally {
      await served.close();
      await file.close();
    }
    expect(found.map((c) => [Number(c.start_time), Number(c.end_time), c.tags.title])).toEqual(
      chapters.map((c) => [c.start, c.end, c.title]),
    );

    await pool.worker.stop();
    for (const root of [dir, pool.dataDir, pool.scratchRoot]) {
      expect(await filesContaining(root, Buffer.from(mark))).toEqual([]);
    }
  }, 120_000);
});
