// The software fallback on real FFmpeg. This machine has no graphics chip, so the engine
// is told it has a VAAPI chip at a device that is an ordinary file: FFmpeg really fails
// to open it, and the job must be made by the processor, once, and say so.

import { execFile } from 'node:child_process';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { KeepsakeError } from '../core/errors';
import type { HardwareEncoder } from '../ffmpeg/hw-encoders';
import { finishJob, testEngine } from '../testing/engine';
import { makeClip } from '../testing/media';
import { decryptFile, encryptFile } from '../vault/file-ops';
import { HardwareEncodeFailed, SOFTWARE_FALLBACK_NOTE, withSoftwareFallback } from './hw-fallback';
import type { Job } from './queue';

const run = promisify(execFile);

/** An engine that believes in a VAAPI chip at a device FFmpeg cannot open. */
async function engineWithBogusChip() {
  const setup = await testEngine();
  const device = join(setup.dir, 'renderD128');
  await writeFile(device, 'not a graphics chip');
  const chip: HardwareEncoder = { name: 'h264_vaapi', codec: 'h264', api: 'vaapi', device };
  setup.engine.env.hardware = () => Promise.resolve([chip]);
  const clip = await makeClip(setup.dir);
  const input = join(setup.dir, 'clip.mp4.ksv');
  await encryptFile(clip, input, setup.vault);
  return { ...setup, input };
}

describe('a graphics chip that fails on a job', () => {
  it('has the job made by the processor, once, with a note saying so', async () => {
    const { dir, vault, engine, input } = await engineWithBogusChip();
    try {
      const job = await finishJob(engine, {
        preset: 'web-h264',
        params: { encoder: 'hardware' },
        input: { kind: 'vault', path: input },
      });
      expect(job.state, job.lastError?.message).toBe('succeeded');
      expect(job.attempts).toBe(1);
      expect(job.notes[0]).toBe(SOFTWARE_FALLBACK_NOTE);
      expect(job.notes.join('\n')).not.toMatch(/graphics chip\)/);
      const plain = join(dir, 'web.mp4');
      await decryptFile(job.outputs[0]!.path, plain, { vault });
      const { stdout } = await run(engine.env.ffmpeg.ffprobePath, [
        '-v',
        'error',
        '-select_streams',
        'v:0',
        '-show_entries',
        'stream=codec_name',
        '-of',
        'csv=p=0',
        plain,
      ]);
      expect(stdout.trim()).toBe('h264');
    } finally {
      await engine.close();
    }
  });

  it('falls back for HLS chosen automatically too', async () => {
    const { engine, input } = await engineWithBogusChip();
    try {
      const job = await finishJob(engine, {
        preset: 'hls-playback',
        params: { maxRenditions: 1 },
        input: { kind: 'vault', path: input },
      });
      expect(job.state, job.lastError?.message).toBe('succeeded');
      expect(job.notes[0]).toBe(SOFTWARE_FALLBACK_NOTE);
      expect(job.outputs.map((o) => o.name)).toContain('master.m3u8');
    } finally {
      await engine.close();
    }
  });

  it('refuses hardware where no chip passed its test, in plain words', async () => {
    const { engine, input } = await engineWithBogusChip();
    engine.env.hardware = () => Promise.resolve([]);
    try {
      const job = await finishJob(engine, {
        preset: 'web-h264',
        params: { encoder: 'hardware' },
        input: { kind: 'vault', path: input },
      });
      expect(job).toMatchObject({ state: 'failed', lastError: { code: 'FEATURE_UNAVAILABLE' } });
      expect(job.lastError?.message).toMatch(/graphics chip/);
    } finally {
      await engine.close();
    }
  });
});

describe('withSoftwareFallback', () => {
  const job = { params: { encoder: 'hardware' } } as unknown as Job;

  it('tries the processor once, and no more', async () => {
    const tried: unknown[] = [];
    const err = await withSoftwareFallback(job, (j) => {
      tried.push(j.params.encoder);
      return Promise.reject(new HardwareEncodeFailed('h264_vaapi', new Error('no device')));
    }).catch((e: unknown) => e);
    expect(tried).toEqual(['hardware', 'software']);
    expect(err).toBeInstanceOf(HardwareEncodeFailed);
  });

  it('leaves any other failure alone', async () => {
    const tried: unknown[] = [];
    const err = await withSoftwareFallback(job, (j) => {
      tried.push(j.params.encoder);
      return Promise.reject(new KeepsakeError('JOB_CANCELLED', 'cancelled'));
    }).catch((e: unknown) => e);
    expect(tried).toEqual(['hardware']);
    expect(err).toBeInstanceOf(KeepsakeError);
  });
});
