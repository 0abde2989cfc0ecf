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
import { addWebpMetadata, webpRewriter } from './webp-metadata';

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
      const out = await addWebpMetadata(webp, { exif: exifFor(labels), xmp: xmpFor(labels) });
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
      const again = await addWebpMetadata(out, { exif: exifFor({ date: '2001-02-03' }) });
      const twice = await sharp(again).metadata();
      expect(twice.xmp).toBeUndefined();
      expect(await exifr.parse(twice.exif!, { reviveValues: false })).toMatchObject({
        DateTimeOriginal: '2001:02:03 00:00:00',
      });
    }
  });

  it('puts right the RIFF size FFmpeg leaves at 0 when it streams a large WebP', async () => {
    const webp = await ffmpegWebp(['-lossless', '1']);
    const streamed = Buffer.from(webp);
    streamed.writeUInt32LE(0, 4); // as the sink receives one over 32 KiB
    await expect(sharp(streamed).metadata()).rejects.toThrow();
    const fixed = await addWebpMetadata(streamed, {});
    expect(fixed.equals(webp)).toBe(true);
    const labelled = await addWebpMetadata(streamed, { exif: exifFor({ date: '2001-02-03' }) });
    expect(await sharp(labelled).metadata()).toMatchObject({ width: 320, height: 240 });
  });

  it('refuses what is not a WebP, or one cut short', async () => {
    await expect(
      addWebpMetadata(Buffer.from('not a picture at all'), { xmp: Buffer.from('x') }),
    ).rejects.toThrow(/not a WebP/);
    const webp = await ffmpegWebp();
    await expect(
      addWebpMetadata(webp.subarray(0, webp.length - 100), { xmp: Buffer.from('x') }),
    ).rejects.toThrow(/runs past the end/);
  });

  it('gives the same bytes whatever pieces the file streams by in', async () => {
    const labels = { title: 'Sommer', date: '1975-07' };
    const metadata = { exif: exifFor(labels), xmp: xmpFor(labels) };
    for (const webp of [await ffmpegWebp(), await ffmpegWebp(['-lossless', '1'])]) {
      const whole = await addWebpMetadata(webp, metadata);
      for (const piece of [1, 7, 4096]) {
        const parts: Buffer[] = [];
        for (let at = 0; at < webp.length; at += piece) parts.push(webp.subarray(at, at + piece));
        const rewriter = webpRewriter(metadata);
        for (const part of parts) rewriter.see(part);
        const out: Buffer[] = [];
        for await (const part of rewriter.rewrite(parts)) out.push(part);
        expect(rewriter.size()).toBe(whole.length);
        expect(Buffer.concat(out).equals(whole)).toBe(true);
      }
      // A year-month date: XMP carries it as given; EXIF, which needs a whole day, does not.
      const meta = await sharp(whole).metadata();
      expect(meta.xmp!.toString('utf8')).toContain('<photoshop:DateCreated>1975-07<');
      expect(await exifr.parse(meta.exif!, { reviveValues: false })).not.toHaveProperty(
        'DateTimeOriginal',
      );
    }
  });
});
