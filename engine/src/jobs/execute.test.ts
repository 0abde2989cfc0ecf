// The whole pipeline on real FFmpeg: a vault-encrypted clip in, every preset, encrypted
// and verified outputs out, nothing plaintext left in the data directory or scratch.

import { execFile } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { mkdir, readFile, readdir, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { isKeepsakeError } from '../core/errors';
import { PRESETS } from '../presets';
import { filesContaining } from '../testing/marker';
import { finishJob, testEngine } from '../testing/engine';
import { makeClip } from '../testing/media';
import { decryptFile, encryptFile } from '../vault/file-ops';
import type { Job } from './queue';
import { submitJob } from './worker';

const run = promisify(execFile);

/** The quickest settings, so that the slow encoders finish a 2 s clip in seconds. */
const FAST: Record<string, Record<string, unknown>> = {
  'archive-hevc': { speed: 'ultrafast' },
  'archive-av1': { speed: 12 },
};

const setup = () => testEngine();

/** Submits, runs and waits for one job. */
const sha256 = async (path: string) =>
  createHash('sha256')
    .update(await readFile(path))
    .digest('hex');

describe('executeJob with real FFmpeg', () => {
  it('runs every preset from a vault input to verified, encrypted outputs', async () => {
    const { dir, vault, engine, scratchRoot } = await setup();
    try {
      const clip = await makeClip(dir);
      const still = join(dir, 'photo.png');
      await run(engine.env.ffmpeg.ffmpegPath, [
        '-v',
        'error',
        '-f',
        'lavfi',
        '-i',
        'testsrc=size=320x240',
        '-frames:v',
        '1',
        still,
      ]);
      const inputs = { video: join(dir, 'clip.mp4.ksv'), image: join(dir, 'photo.png.ksv') };
      await encryptFile(clip, inputs.video, vault);
      await encryptFile(still, inputs.image, vault);

      for (const preset of PRESETS) {
        const job = await finishJob(engine, {
          preset: preset.name,
          params: FAST[preset.name] ?? {},
          input: { kind: 'vault', path: inputs[preset.accepts] },
        });
        if (job.state === 'failed' && job.lastError?.code === 'FEATURE_UNAVAILABLE') {
          // Only a missing encoder (AVIF on an old FFmpeg, say) may stop a preset, and it says so.
          expect(job.lastError.message).toMatch(/lacks/);
          continue;
        }
        expect(job, `${preset.name}: ${job.lastError?.message}`).toMatchObject({
          state: 'succeeded',
        });
        expect(job.outputs.length).toBeGreaterThan(0);
        // Every output is a vault file; the first decrypts to media FFmpeg can decode.
        for (const out of job.outputs) expect(out.path.endsWith('.ksv')).toBe(true);
        const first = job.outputs.find((o) => !o.name.endsWith('.m3u8')) ?? job.outputs[0]!;
        const plain = join(dir, `${job.id}-${first.name.replaceAll('/', '_')}`);
        await decryptFile(first.path, plain, { vault });
        await run(engine.env.ffmpeg.ffmpegPath, ['-v', 'error', '-i', plain, '-f', 'null', '-']);
        expect(await readdir(scratchRoot)).toEqual([]);
      }

      // A plain input is read, never written: same bytes and times after a job.
      const before = { hash: await sha256(clip), mtime: (await stat(clip)).mtimeMs };
      const plainJob = await finishJob(engine, {
        preset: 'remux',
        params: {},
        input: { kind: 'plain', path: clip },
      });
      expect(plainJob.state, plainJob.lastError?.message).toBe('succeeded');
      expect({ hash: await sha256(clip), mtime: (await stat(clip)).mtimeMs }).toEqual(before);
    } finally {
      await engine.close();
    }
  });

  it('seals HLS segments as FFmpeg writes them; the scratch never holds a file', async () => {
    const { dir, vault, engine, scratchRoot } = await setup();
    try {
      const clip = await makeClip(dir, 'long.mp4', { seconds: 20, size: '1280x720' });
      const input = join(dir, 'long.mp4.ksv');
      await encryptFile(clip, input, vault);
      // Watch while the job runs: sealed segments in the staging folder, files in scratch.
      let sealedWhileRunning = 0;
      let scratchFiles = 0;
      let running = true;
      const watch = (async () => {
        while (running) {
          const staged = await readdir(engine.outputRoot, { recursive: true }).catch(() => []);
          const sealed = staged.filter((n) => /\.partial\/.*\.ts\.ksv$/.test(String(n))).length;
          sealedWhileRunning = Math.max(sealedWhileRunning, sealed);
          const inScratch = await readdir(scratchRoot, { recursive: true, withFileTypes: true });
          scratchFiles += inScratch.filter((e) => e.isFile()).length;
          await new Promise((r) => setTimeout(r, 50));
        }
      })();
      const job = await finishJob(engine, {
        preset: 'hls-playback',
        params: { segmentSeconds: 2 },
        input: { kind: 'vault', path: input },
      });
      running = false;
      await watch;
      expect(job.state, job.lastError?.message).toBe('succeeded');
      const segments = job.outputs.filter((o) => o.name.endsWith('.ts'));
      expect(segments.length).toBeGreaterThanOrEqual(20); // 10 per rendition, 2+ renditions
      // Sealed one by one while FFmpeg worked, not all at the end.
      expect(sealedWhileRunning).toBeGreaterThan(0);
      expect(scratchFiles).toBe(0);
      // Every sealed segment opens with the vault and holds MPEG-TS.
      const plain = join(dir, 'seg.ts');
      await decryptFile(segments[0]!.path, plain, { vault });
      expect((await readFile(plain))[0]).toBe(0x47);
    } finally {
      await engine.close();
    }
  });

  it('leaves no plaintext: a unique marker kept in the output is never on disk', async () => {
    const { dir, dataDir, vault, engine, scratchRoot } = await setup();
    try {
      const marker = `KSMARK${randomBytes(12).toString('hex')}`;
      const clip = await makeClip(dir, 'marked.mp4', { comment: marker });
      // The encrypted input sits inside the data directory too: the search covers it.
      await mkdir(join(dataDir, 'inbox'));
      const input = join(dataDir, 'inbox', 'marked.mp4.ksv');
      await encryptFile(clip, input, vault);
      const job = await finishJob(engine, {
        preset: 'web-h264',
        params: { maxHeight: '360' },
        input: { kind: 'vault', path: input },
      });
      expect(job.state, job.lastError?.message).toBe('succeeded');

      // The marker really travels: the decrypted result carries it (so the search can hit).
      const plain = join(dir, 'result.mp4');
      await decryptFile(job.outputs[0]!.path, plain, { vault });
      expect((await readFile(plain)).includes(Buffer.from(marker))).toBe(true);
      expect((await readFile(clip)).includes(Buffer.from(marker))).toBe(true);

      await engine.queue.close();
      const hits = [
        ...(await filesContaining(dataDir, Buffer.from(marker))),
        ...(await filesContaining(scratchRoot, Buffer.from(marker))),
      ];
      expect(hits).toEqual([]);
    } finally {
      await engine.worker.stop();
    }
  });

  it('refuses a playlist disguised as a video, and keeps nothing', async () => {
    const { dir, vault, engine, scratchRoot } = await setup();
    try {
      const playlist = join(dir, 'tape.mp4');
      await writeFile(playlist, '#EXTM3U\n#EXTINF:10,\nhttp://169.254.169.254/latest\n');
      const input = join(dir, 'tape.mp4.ksv');
      await encryptFile(playlist, input, vault);
      const job = await finishJob(engine, {
        preset: 'remux',
        params: {},
        input: { kind: 'vault', path: input },
      });
      expect(job).toMatchObject({ state: 'failed', lastError: { code: 'UNSUPPORTED_INPUT' } });
      expect(job.attempts).toBe(1); // not worth a retry
      expect(await readdir(engine.outputRoot).catch(() => [])).toEqual([]);
      expect(await readdir(scratchRoot)).toEqual([]);
    } finally {
      await engine.close();
    }
  });

  it('validates parameters at submission: an injection attempt never reaches the queue', async () => {
    const { engine } = await setup();
    try {
      const attempt = submitJob(engine.queue, {
        preset: 'web-h264',
        params: { crf: '23 -i /etc/passwd' },
        input: { kind: 'plain', path: '/nonexistent.mp4' },
        outputDir: engine.outputRoot,
      });
      const err = await attempt.then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(isKeepsakeError(err, 'INVALID_PARAMETER')).toBe(true);
      expect(String(err)).toMatch(/crf/);
      expect(await engine.queue.list()).toEqual([]);
    } finally {
      await engine.close();
    }
  });

  it('cancel mid-job stops FFmpeg and leaves no scratch, staging or outputs', async () => {
    const { dir, vault, engine, scratchRoot } = await setup();
    try {
      const clip = await makeClip(dir, 'long.mp4', { seconds: 30, size: '1280x720' });
      const input = join(dir, 'long.mp4.ksv');
      await encryptFile(clip, input, vault);
      const job = await submitJob(engine.queue, {
        preset: 'archive-hevc',
        params: { speed: 'slow' },
        input: { kind: 'vault', path: input },
        outputDir: engine.outputRoot,
      });
      engine.worker.on('progress', (j, p) => {
        if (j.id === job.id && p.percent > 1) void engine.worker.cancel(job.id);
      });
      const finished = new Promise<Job>((resolve) => engine.worker.once('finished', resolve));
      await engine.worker.start();
      const done = await finished;
      expect(done).toMatchObject({ state: 'cancelled', lastError: { code: 'JOB_CANCELLED' } });
      expect(await readdir(scratchRoot)).toEqual([]);
      expect(await readdir(engine.outputRoot).catch(() => [])).toEqual([]);
    } finally {
      await engine.close();
    }
  });
});
