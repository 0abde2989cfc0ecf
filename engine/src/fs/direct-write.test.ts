import { randomBytes } from 'node:crypto';
import { readdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { freshDir } from '../testing/tmp';
import { DIRECT_ALIGN, SequentialWriter, STAGING_BYTES, StagingBuffers } from './direct-write';

const MiB = 1024 * 1024;

/** Writes `data` in `sizes`-long chunks at the end of a file already holding `prefix`. */
async function writeInChunks(
  dir: string,
  buffers: StagingBuffers,
  prefix: Buffer,
  data: Buffer,
  sizes: number[],
): Promise<{ file: Buffer; directBytes: number }> {
  const path = join(dir, 'upload.ksv');
  await writeFile(path, prefix);
  const out = await SequentialWriter.open(path, prefix.length, buffers);
  try {
    for (let at = 0, i = 0; at < data.length; i += 1) {
      const size = Math.max(1, sizes[i % sizes.length]!);
      await out.write(data.subarray(at, at + size));
      at += size;
    }
    await out.end();
  } finally {
    await out.close();
  }
  return { file: await readFile(path), directBytes: out.directBytes };
}

describe('SequentialWriter', () => {
  it.each([
    ['direct where the filesystem allows', true],
    ['through the page cache only', false],
  ])(
    'lands every byte in order from any position, in chunks of any size (%s)',
    async (_label, direct) => {
      const dir = await freshDir();
      const buffers = new StagingBuffers(dir, { direct });
      await fc.assert(
        fc.asyncProperty(
          fc.integer({ min: 0, max: 2 * MiB + 5000 }),
          fc.integer({ min: 0, max: 3 * MiB }),
          fc.array(fc.integer({ min: 1, max: 300 * 1024 }), { minLength: 1, maxLength: 8 }),
          async (start, length, sizes) => {
            const prefix = randomBytes(start);
            const data = randomBytes(length);
            const { file } = await writeInChunks(dir, buffers, prefix, data, sizes);
            expect(file.length).toBe(start + length);
            expect(file.equals(Buffer.concat([prefix, data]))).toBe(true);
          },
        ),
        { numRuns: 25 },
      );
      // The probes clean up after themselves.
      expect(await readdir(dir)).toEqual(['upload.ksv']);
    },
  );

  it('writes whole aligned blocks directly and only the unaligned ends through the cache', async () => {
    const dir = await freshDir();
    const buffers = new StagingBuffers(dir);
    const start = 5000;
    const data = randomBytes(3 * MiB + 100);
    const { file, directBytes } = await writeInChunks(
      dir,
      buffers,
      randomBytes(start),
      data,
      [65536],
    );
    expect(file.subarray(start).equals(data)).toBe(true);
    const end = start + data.length;
    const aligned = end - (end % DIRECT_ALIGN) - Math.ceil(start / DIRECT_ALIGN) * DIRECT_ALIGN;
    // A filesystem without O_DIRECT (tmpfs before Linux 6.6) takes it all through the cache.
    expect(directBytes).toBe(buffers.direct ? aligned : 0);
    const cached = new StagingBuffers(dir, { direct: false });
    const viaCache = await writeInChunks(dir, cached, randomBytes(start), data, [65536]);
    expect(viaCache.directBytes).toBe(0);
    expect(cached.direct).toBe(false);
  });

  it('cuts the file back with no write landing after the cut', async () => {
    const dir = await freshDir();
    const path = join(dir, 'upload.ksv');
    const prefix = randomBytes(10_000);
    await writeFile(path, prefix);
    const out = await SequentialWriter.open(path, prefix.length, new StagingBuffers(dir));
    // Three full buffers: two hand-offs, the second still in flight when the cut is asked.
    await out.write(randomBytes(2 * STAGING_BYTES + 7));
    await out.truncate(prefix.length);
    await out.close();
    expect((await readFile(path)).equals(prefix)).toBe(true);
  });

  it('reuses staging buffers, and gives one back when the file cannot be opened', async () => {
    const dir = await freshDir();
    const buffers = new StagingBuffers(dir, { keep: 1 });
    const first = await buffers.take();
    expect(first.length).toBe(STAGING_BYTES);
    buffers.give(first);
    await expect(SequentialWriter.open(join(dir, 'missing'), 0, buffers)).rejects.toMatchObject({
      code: 'ENOENT',
    });
    expect(await buffers.take()).toBe(first);
  });
});
