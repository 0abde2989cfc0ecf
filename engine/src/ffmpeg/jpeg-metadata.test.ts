// EXIF and XMP added to FFmpeg's JPEG without touching the picture, read back by exifr
// and libvips (sharp) as any photo library would.

import { execFile } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import exifr from 'exifr';
import sharp from 'sharp';
import { describe, expect, it } from 'vitest';
import { exifFor, xmpFor } from '../presets/photo-labels';
import { freshDir } from '../testing/tmp';
import { APP1_MAX_DATA, addJpegMetadata, jpegRewriter } from './jpeg-metadata';
import { locateFfmpeg } from './locate';

const run = promisify(execFile);

/** A JPEG as the photo-web preset's FFmpeg writes it. */
async function ffmpegJpeg(): Promise<Buffer> {
  const { ffmpegPath } = await locateFfmpeg();
  const out = join(await freshDir(), 'photo.jpg');
  await run(ffmpegPath, [
    ...['-v', 'error', '-f', 'lavfi', '-i', 'testsrc=size=320x240', '-frames:v', '1'],
    ...['-c:v', 'mjpeg', '-pix_fmt', 'yuvj420p', '-q:v', '3', '-f', 'mjpeg', out],
  ]);
  return readFile(out);
}

/** The JPEG from its first table on: the picture, which must be copied byte for byte. */
function fromTables(jpeg: Buffer): Buffer {
  for (let at = 2; at + 4 <= jpeg.length;) {
    const marker = jpeg[at + 1]!;
    if (!((marker >= 0xe0 && marker <= 0xef) || marker === 0xfe)) return jpeg.subarray(at);
    at += 2 + jpeg.readUInt16BE(at + 2);
  }
  throw new Error('no tables');
}

/** The markers before the picture, in order: where the new segments went. */
function leadingMarkers(jpeg: Buffer): string[] {
  const found: string[] = [];
  for (let at = 2; at + 4 <= jpeg.length;) {
    const marker = jpeg[at + 1]!;
    if (!((marker >= 0xe0 && marker <= 0xef) || marker === 0xfe)) return found;
    const id = jpeg.toString('latin1', at + 4, at + 8);
    found.push(`${marker.toString(16)}:${id}`);
    at += 2 + jpeg.readUInt16BE(at + 2);
  }
  return found;
}

type Tags = Record<string, unknown>;

describe('addJpegMetadata', () => {
  it('FFmpeg alone writes no EXIF or XMP into a JPEG (why this exists)', async () => {
    const jpeg = await ffmpegJpeg();
    const meta = await sharp(jpeg).metadata();
    expect(meta.exif).toBeUndefined();
    expect(meta.xmp).toBeUndefined();
  });

  it('adds the title and date as EXIF and XMP after the JFIF header; the picture is untouched', async () => {
    const labels = { title: 'Christmas 1989 — Oma & Opa <3', date: '1989-12-24T18:30:00+01:00' };
    const jpeg = await ffmpegJpeg();
    const out = await addJpegMetadata(jpeg, { exif: exifFor(labels), xmp: xmpFor(labels) });
    expect(fromTables(out).equals(fromTables(jpeg))).toBe(true);
    expect(leadingMarkers(out)).toEqual(['e0:JFIF', 'e1:Exif', 'e1:http', 'fe:Lavc']);

    const tags = (await exifr.parse(out, { xmp: true, reviveValues: false })) as Tags;
    expect(tags).toMatchObject({
      ImageDescription: labels.title,
      DateTimeOriginal: '1989:12:24 18:30:00',
      OffsetTimeOriginal: '+01:00',
      // exifr leaves XML's entities as written; XMP readers decode them.
      title: { lang: 'x-default', value: 'Christmas 1989 — Oma &amp; Opa &lt;3' },
      DateCreated: '1989-12-24T18:30:00+01:00',
    });
    const meta = await sharp(out).metadata();
    expect(meta).toMatchObject({ format: 'jpeg', width: 320, height: 240 });
    const [a, b] = await Promise.all([jpeg, out].map((j) => sharp(j).raw().toBuffer()));
    expect(a!.equals(b!)).toBe(true);

    // Done again (a retry), the old metadata is replaced, not doubled.
    const again = await addJpegMetadata(out, { exif: exifFor({ date: '2001-02-03' }) });
    expect(leadingMarkers(again)).toEqual(['e0:JFIF', 'e1:Exif', 'fe:Lavc']);
    expect(await exifr.parse(again, { xmp: true, reviveValues: false })).toMatchObject({
      DateTimeOriginal: '2001:02:03 00:00:00',
    });
    expect((await sharp(again).metadata()).xmp).toBeUndefined();
  });

  it('gives the same bytes whatever pieces the file streams by in', async () => {
    const labels = { title: 'Sommer', date: '1975-07' };
    const metadata = { exif: exifFor(labels), xmp: xmpFor(labels) };
    const jpeg = await ffmpegJpeg();
    const whole = await addJpegMetadata(jpeg, metadata);
    for (const piece of [1, 3, 7, 4096]) {
      const parts: Buffer[] = [];
      for (let at = 0; at < jpeg.length; at += piece) parts.push(jpeg.subarray(at, at + piece));
      const rewriter = jpegRewriter(metadata);
      for (const part of parts) rewriter.see(part);
      const out: Buffer[] = [];
      for await (const part of rewriter.rewrite(parts)) out.push(part);
      expect(rewriter.size()).toBe(whole.length);
      expect(Buffer.concat(out).equals(whole)).toBe(true);
    }
  });

  it('leaves out an XMP packet over the 65,533-byte segment limit, and says so', async () => {
    const jpeg = await ffmpegJpeg();
    const labels = { title: 'x'.repeat(APP1_MAX_DATA), date: '1989-12-24' };
    const rewriter = jpegRewriter({ exif: exifFor({ date: labels.date }), xmp: xmpFor(labels) });
    expect(rewriter.written).toEqual({ exif: true, xmp: false });
    rewriter.see(jpeg);
    const parts: Buffer[] = [];
    for await (const part of rewriter.rewrite([jpeg])) parts.push(part);
    const out = Buffer.concat(parts);
    expect(out.length).toBe(rewriter.size());
    expect(leadingMarkers(out)).toEqual(['e0:JFIF', 'e1:Exif', 'fe:Lavc']);
    expect(await sharp(out).metadata()).toMatchObject({ width: 320, height: 240 });
  });

  it('refuses what is not a JPEG, or one cut off before its picture', async () => {
    await expect(
      addJpegMetadata(Buffer.from('not a picture at all'), { xmp: Buffer.from('x') }),
    ).rejects.toThrow(/not a JPEG/);
    const jpeg = await ffmpegJpeg();
    await expect(addJpegMetadata(jpeg.subarray(0, 30), { xmp: Buffer.from('x') })).rejects.toThrow(
      /holds no picture/,
    );
  });
});
