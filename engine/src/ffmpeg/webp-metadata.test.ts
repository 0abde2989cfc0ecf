// EXIF and XMP added to FFmpeg's WebP without touching the picture, read back by libvips
// (sharp) and exifr as any photo library would.

import { execFile } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import exifr from 'exifr';
import sharp from 'sharp';
import { describe, expect, it } from 'vitest';
import { exifFor, xmpFor } from '../presets/photo-labels';
import { freshDir } from '../testing/tmp';
import { locateFfmpeg } from './locate';
import { addWebpMetadata } from './webp-metadata';

const run = promisify(execFile);

/** A WebP as the photo-web preset's FFmpeg writes it (lossy, or lossless with alpha). */
async function ffmpegWebp(args: string[] = []): Promise<Buffer> {
  const { ffmpegPath } = await locateFfmpeg();
  const out = join(await freshDir(), 'photo.webp');
  await run(ffmpegPath, [
    ...['-v', 'error', '-f', 'lavfi', '-i', 'testsrc=size=320x240', '-frames:v', '1'],
    ...['-c:v', 'libwebp', ...args, '-f', 'webp', out],
  ]);
  return readFile(out);
}

/** The picture's chunk (VP8/VP8L), to show it is copied byte for byte. */
function pictureChunk(webp: Buffer): Buffer {
  for (let at = 12; at + 8 <= webp.length;) {
    const fourcc = webp.toString('latin1', at, at + 4);
    const size = webp.readUInt32LE(at + 4);
    if (fourcc === 'VP8 ' || fourcc === 'VP8L') return webp.subarray(at + 8, at + 8 + size);
    at += 8 + size + (size % 2);
  }
  throw new Error('no picture chunk');
}

describe('addWebpMetadata', () => {
  it('FFmpeg alone writes no EXIF into WebP (why this exists)', async () => {
    const webp = await ffmpegWebp();
    const meta = await sharp(webp).metadata();
    expect(meta.exif).toBeUndefined();
  });

  it('adds the title and date as EXIF and XMP; the picture is untouched', async () => {
    const labels = { title: 'Christmas 1989 — Oma & Opa <3', date: '1989-12-24T18:30:00+01:00' };
    for (const webp of [await ffmpegWebp(), await ffmpegWebp(['-lossless', '1'])]) {
      const out = addWebpMetadata(webp, { exif: exifFor(labels), xmp: xmpFor(labels) });
      expect(pictureChunk(out).equals(pictureChunk(webp))).toBe(true);

      const meta = await sharp(out).metadata();
      expect(meta).toMatchObject({ format: 'webp', width: 320, height: 240 });
      const exif = (await exifr.parse(meta.exif!, { reviveValues: false })) as Record<
        string,
        unknown
      >;
      expect(exif).toMatchObject({
        ImageDescription: labels.title,
        DateTimeOriginal: '1989:12:24 18:30:00',
        OffsetTimeOriginal: '+01:00',
      });
      const xmp = meta.xmp!.toString('utf8');
      expect(xmp).toContain('Christmas 1989 — Oma &amp; Opa &lt;3');
      expect(xmp).toContain('<photoshop:DateCreated>1989-12-24T18:30:00+01:00<');
      // The pixels decode as before.
      const [a, b] = await Promise.all([webp, out].map((w) => sharp(w).raw().toBuffer()));
      expect(a!.equals(b!)).toBe(true);

      // Done again (a retry), the old metadata is replaced, not doubled.
      const again = addWebpMetadata(out, { exif: exifFor({ date: '2001-02-03' }) });
      const twice = await sharp(again).metadata();
      expect(twice.xmp).toBeUndefined();
      expect(await exifr.parse(twice.exif!, { reviveValues: false })).toMatchObject({
        DateTimeOriginal: '2001:02:03 00:00:00',
      });
    }
  });

  it('refuses what is not a WebP', () => {
    expect(() =>
      addWebpMetadata(Buffer.from('not a picture at all'), { xmp: Buffer.from('x') }),
    ).toThrow(/not a WebP/);
  });
});
