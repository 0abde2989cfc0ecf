// The tape analysis as a job, on real FFmpeg: a vault-encrypted tape in, the analysis
// sealed out (never in the clear), progress reported, and a cancel that ends it.

import { readFile, readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { makeDvTape } from '../testing/dv-media';
import { testEngine } from '../testing/engine';
import { makeClip } from '../testing/media';
import { makeTape } from '../testing/tape-media';
import { encryptFile } from '../vault/file-ops';
import type { JobEngine } from './job-engine';
import type { Job } from './queue';
import { TAPE_ANALYSIS, readTapeAnalysis, submitTapeAnalysis } from './tape-job';

function finished(engine: JobEngine, id: string): Promise<Job> {
  return new Promise((resolve) => {
    const on = (j: Job) => {
      if (j.id !== id) return;
      engine.worker.off('finished', on);
      resolve(j);
    };
    engine.worker.on('finished', on);
  });
}

async function filesUnder(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { recursive: true, withFileTypes: true });
  return entries.filter((e) => e.isFile()).map((e) => join(e.parentPath, e.name));
}

describe('the tape analysis job', () => {
  it('reads the encrypted tape and seals its analysis', async () => {
    const { dir, vault, engine } = await testEngine();
    try {
      const input = join(dir, 'tape.ksv');
      await encryptFile(await makeTape(dir), input, vault);
      const job = await submitTapeAnalysis(engine.queue, {
        input: { kind: 'vault', path: input },
        outputDir: engine.outputRoot,
      });
      let progressed = false;
      engine.worker.on('progress', (j) => (progressed ||= j.id === job.id));
      const done = finished(engine, job.id);
      await engine.worker.start();
      const result = await done;
      expect(result.lastError).toBeUndefined();
      expect(result).toMatchObject({ state: 'succeeded', preset: TAPE_ANALYSIS });
      expect(progressed).toBe(true);
      const analysis = await readTapeAnalysis(await engine.queue.get(job.id), vault);
      expect(analysis.cuts.map((c) => Math.round(c.at))).toEqual([9, 19, 25]);
      expect(analysis.fieldOrder).toBe('tff');
      // Sealed: no file of the outputs holds the analysis's words.
      for (const file of await filesUnder(engine.outputRoot)) {
        expect((await readFile(file)).includes('fieldOrder')).toBe(false);
      }
    } finally {
      await engine.close();
    }
  }, 60_000);

  it("cuts a DV tape where the camcorder's clock jumps", async () => {
    const { dir, vault, engine } = await testEngine();
    try {
      const input = join(dir, 'tape.ksv');
      const tape = await makeDvTape(dir, [
        { seconds: 3, recorded: '1994-07-01T10:00:00Z' },
        { seconds: 3, recorded: '1994-12-24T18:30:00Z' },
      ]);
      await encryptFile(tape, input, vault);
      const job = await submitTapeAnalysis(engine.queue, {
        input: { kind: 'vault', path: input },
        outputDir: engine.outputRoot,
      });
      const done = finished(engine, job.id);
      await engine.worker.start();
      expect((await done).lastError).toBeUndefined();
      const analysis = await readTapeAnalysis(await engine.queue.get(job.id), vault);
      expect(analysis.cuts).toMatchObject([{ at: 3, reasons: ['recording-date'] }]);
      expect(analysis.recordings?.map((r) => r.recorded)).toEqual([
        '1994-07-01T10:00:00',
        '1994-12-24T18:30:00',
      ]);
    } finally {
      await engine.close();
    }
  }, 60_000);

  it('refuses a photo clearly, and stops when cancelled', async () => {
    const { dir, vault, engine } = await testEngine();
    try {
      const photo = join(dir, 'photo.ksv');
      await encryptFile(await makeClip(dir, 'photo.png', { still: true }), photo, vault);
      const refused = await submitTapeAnalysis(engine.queue, {
        input: { kind: 'vault', path: photo },
        outputDir: engine.outputRoot,
      });
      const ended = finished(engine, refused.id);
      await engine.worker.start();
      expect((await ended).lastError).toMatchObject({ code: 'UNSUPPORTED_INPUT' });

      // A long tape (a minute of sources at full size), cancelled as soon as it runs.
      const long = join(dir, 'long.ksv');
      await encryptFile(
        await makeClip(dir, 'long.mp4', { seconds: 60, size: '720x576' }),
        long,
        vault,
      );
      const job = await submitTapeAnalysis(engine.queue, {
        input: { kind: 'vault', path: long },
        outputDir: engine.outputRoot,
      });
      const cancelled = finished(engine, job.id);
      const onProgress = (j: Job) => {
        if (j.id === job.id) void engine.worker.cancel(job.id);
      };
      engine.worker.on('progress', onProgress);
      expect((await cancelled).state).toBe('cancelled');
      engine.worker.off('progress', onProgress);
    } finally {
      await engine.close();
    }
  }, 90_000);
});
