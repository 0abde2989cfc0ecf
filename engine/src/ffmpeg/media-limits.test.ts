// A hostile picture: a 2 MB PNG that states 16000 × 16000 pixels at 16 bits RGBA, 2 GB
// once decoded. Before the limits, FFprobe alone took 2.05 GB of memory to probe it and
// FFmpeg as much again to encode it. Now the job fails at once with INPUT_TOO_LARGE, and
// an FFmpeg asked to decode it anyway runs into the address-space cap.

import { constants, crc32, deflateRawSync } from 'node:zlib';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { submitJob } from '../jobs/worker';
import type { Job } from '../jobs/queue';
import { testEngine } from '../testing/engine';
import { freshDir } from '../testing/tmp';
import { encryptFile } from '../vault/file-ops';
import { locateFfmpeg } from './locate';
import { MAX_PIXELS, tooLargeFromStderr } from './media-limits';
import { boxedCommand, spawnTool } from './tool-process';

/**
 * A PNG of `size` × `size` 16-bit RGBA pixels, all zero, made in milliseconds: one
 * compressed block of zero rows, ended by a full flush, repeated (each such block
 * stands alone), then the zlib trailer (the Adler-32 of zeros is computed directly).
 */
async function hostilePng(path: string, size = 16000): Promise<number> {
  const rowLength = 1 + size * 8;
  const rowsPerBlock = 16;
  const chunk = (type: string, data: Buffer) => {
    const body = Buffer.concat([Buffer.from(type, 'latin1'), data]);
    const out = Buffer.alloc(12 + data.length);
    out.writeUInt32BE(data.length, 0);
    body.copy(out, 4);
    out.writeUInt32BE(crc32(body), 8 + data.length);
    return out;
  };
  const header = Buffer.alloc(13);
  header.writeUInt32BE(size, 0);
  header.writeUInt32BE(size, 4);
  header[8] = 16; // bits per channel
  header[9] = 6; // RGBA
  const block = deflateRawSync(Buffer.alloc(rowLength * rowsPerBlock), {
    level: 9,
    finishFlush: constants.Z_FULL_FLUSH,
  });
  const adler = Buffer.alloc(4);
  adler.writeUInt32BE((((rowLength * size) % 65521) << 16) | 1);
  const data = Buffer.concat([
    Buffer.from([0x78, 0xda]),
    ...new Array<Buffer>(size / rowsPerBlock).fill(block),
    Buffer.from([0x03, 0x00]), // an empty final block
    adler,
  ]);
  const png = Buffer.concat([
    Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
    chunk('IHDR', header),
    chunk('IDAT', data),
    chunk('IEND', Buffer.alloc(0)),
  ]);
  await writeFile(path, png);
  return png.length;
}

describe('a picture too large to decode', () => {
  it('fails its job at once with INPUT_TOO_LARGE, in plain words', async () => {
    const { dir, vault, engine } = await testEngine();
    try {
      const png = join(dir, 'bomb.png');
      expect(await hostilePng(png)).toBeLessThan(2.5 * 1024 * 1024);
      expect(16000 * 16000).toBeGreaterThan(MAX_PIXELS);
      const input = join(dir, 'bomb.png.ksv');
      await encryptFile(png, input, vault);
      const job = await submitJob(engine.queue, {
        preset: 'photo-web',
        params: {},
        input: { kind: 'vault', path: input },
        outputDir: engine.outputRoot,
      });
      const finished = new Promise<Job>((resolve) =>
        engine.worker.on('finished', (j: Job) => j.id === job.id && resolve(j)),
      );
      const started = Date.now();
      await engine.worker.start();
      const done = await finished;
      expect(done.state).toBe('failed');
      expect(done.lastError, done.lastError?.message).toMatchObject({ code: 'INPUT_TOO_LARGE' });
      expect(done.lastError?.message).toContain('16000 × 16000 pixels (256 megapixels)');
      expect(done.lastError?.message).toContain('up to 200 megapixels');
      // Refused while probing: no 2 GB frame was decoded (that took FFprobe 8 s here).
      expect(Date.now() - started).toBeLessThan(5000);
    } finally {
      await engine.close();
    }
  }, 60_000);

  // Linux-only: the cap is set with util-linux's prlimit.
  it.skipIf(boxedCommand('/bin/true', []).args.every((a) => !a.startsWith('--as=')))(
    'an FFmpeg that decodes it anyway stops at the address-space cap, reported as INPUT_TOO_LARGE',
    async () => {
      const dir = await freshDir();
      const png = join(dir, 'bomb.png');
      await hostilePng(png);
      const { ffmpegPath } = await locateFfmpeg();
      // No pixel limit here, and a 1 GiB cap (the default is at least 4 GiB).
      const child = spawnTool(ffmpegPath, ['-v', 'error', '-i', png, '-f', 'null', '-'], {
        env: { LC_ALL: 'C' },
        stdio: ['ignore', 'ignore', 'pipe'],
        memoryCap: 1024 ** 3,
      });
      let stderr = '';
      child.stderr!.setEncoding('utf8').on('data', (t: string) => (stderr += t));
      const code = await new Promise((resolve) => child.on('close', resolve));
      expect(code).not.toBe(0);
      expect(stderr).toContain('Cannot allocate memory');
      expect(tooLargeFromStderr(stderr)).toMatchObject({ code: 'INPUT_TOO_LARGE' });
    },
    60_000,
  );
});
