// photo-web's AVIF through the real job path (real FFmpeg writing a PNG into the sink,
// sharp encoding it, the vault sealing it): the picture decodes at the size asked; the
// item's title (in UTF-8, as in the other formats) and date are in its EXIF and XMP; a
// photo with no labels keeps its own capture date, also when FFmpeg's PNG is too large
// for the sink's memory (spooled); "keep metadata" off adds nothing; and what is not a
// PNG is refused.
//
// exifr 7.1.3 cannot find the EXIF in an AVIF that libheif writes (it ignores the iloc
// box's base offset), so the EXIF and XMP blocks are read out by libvips and parsed by
// exifr from there.

import { readdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import exifr, { sidecar } from 'exifr';
import sharp from 'sharp';
import { describe, expect, it } from 'vitest';
import { testEngine } from '../testing/engine';
import { makeClip } from '../testing/media';
import { cameraJpeg, labelled, plaintext, runJob } from '../testing/photo-jobs';
import { encryptFile } from '../vault/file-ops';
import { avifRewrite, withPngExif } from './photo-avif';

type Tags = Record<string, unknown>;

/** What an AVIF's EXIF and XMP say, read as a photo library would. */
async function tagsOf(avif: Buffer): Promise<Tags> {
  const { exif, xmp } = await sharp(avif).metadata();
  const tags: Tags = {};
  // libvips gives the block as a JPEG carries it, after "Exif\0\0".
  if (exif) Object.assign(tags, await exifr.parse(exif.subarray(6), { reviveValues: false }));
  if (xmp) tags.xmp = await sidecar(xmp, { reviveValues: false });
  return tags;
}

describe('photo-web as AVIF', () => {
  it("is an AVIF of the size asked, with the item's title and date in EXIF and XMP", async () => {
    const { dir, vault, engine } = await testEngine();
    try {
      const photo = await makeClip(dir, 'photo.png', { still: true });
      const input = join(dir, 'photo.png.ksv');
      await encryptFile(photo, input, vault);
      const title = 'Christmas 1989; Oma=#1 — Größe';
      const job = await runJob(engine, {
        preset: 'photo-web',
        params: { format: 'avif', maxDimension: 200 },
        input: { kind: 'vault', path: input },
        options: labelled(vault, { title, date: '1989-12-24T18:30:00+01:00' }),
      });
      expect(job.outputs.map((o) => o.name)).toEqual(['photo.avif']);
      expect(job.outputs[0]!.labels).toEqual(['title', 'date']);
      const avif = await plaintext(job.outputs[0]!.path, vault);
      // An AVIF file (ISO-BMFF, brand avif), not the PNG FFmpeg wrote.
      expect(avif.toString('latin1', 4, 12)).toBe('ftypavif');
      expect(await sharp(avif).metadata()).toMatchObject({
        format: 'heif',
        compression: 'av1',
        width: 200,
        height: 150,
      });
      // Every pixel decodes, and the picture is testsrc's, not a blank one.
      const decoded = await sharp(avif).stats();
      expect(decoded.channels.map((c) => c.stdev).every((s) => s > 20)).toBe(true);
      expect(await tagsOf(avif)).toMatchObject({
        ImageDescription: title,
        DateTimeOriginal: '1989:12:24 18:30:00',
        OffsetTimeOriginal: '+01:00',
        xmp: {
          dc: { title: { lang: 'x-default', value: title } },
          photoshop: { DateCreated: '1989-12-24T18:30:00+01:00' },
        },
      });
      // Nothing of the picture is left in the job's folders but the sealed output.
      const staged = await readdir(join(job.outputs[0]!.path, '..'), { recursive: true });
      expect(staged.filter((f) => !f.endsWith('.ksv') && !f.startsWith('.'))).toEqual([]);

      // Without keepMetadata, nothing is added, and the job says so.
      const bare = await runJob(engine, {
        preset: 'photo-web',
        params: { format: 'avif', keepMetadata: false },
        input: { kind: 'vault', path: input },
        options: labelled(vault, { title, date: '1989-12-24' }),
      });
      const stripped = await plaintext(bare.outputs[0]!.path, vault);
      const meta = await sharp(stripped).metadata();
      expect(meta).toMatchObject({ format: 'heif', width: 320 });
      expect(meta.exif).toBeUndefined();
      expect(meta.xmp).toBeUndefined();
      expect(bare.outputs[0]!.labels).toEqual([]);
    } finally {
      await engine.close();
    }
  });

  it('a photo with no labels keeps its own capture date, from a PNG larger than the sink holds in memory', async () => {
    const { dir, vault, engine } = await testEngine();
    engine.env.sinkMemoryLimit = 64 * 1024;
    try {
      const input = join(dir, 'IMG_0001.jpg');
      await writeFile(input, await cameraJpeg(512));
      await encryptFile(input, `${input}.ksv`, vault);
      const job = await runJob(engine, {
        preset: 'photo-web',
        params: { format: 'avif', quality: 100 },
        input: { kind: 'vault', path: `${input}.ksv` },
        options: {},
      });
      const avif = await plaintext(job.outputs[0]!.path, vault);
      expect(await sharp(avif).metadata()).toMatchObject({ width: 512, height: 512 });
      expect(await tagsOf(avif)).toMatchObject({
        DateTimeOriginal: '2003:05:17 09:15:00',
        OffsetTimeOriginal: '+02:00',
      });
      expect(job.outputs[0]!.labels).toEqual(['date']);
      // FFmpeg's PNG of 512 × 512 noise (about 0.8 MB) went through the spool, now gone.
      const staged = await readdir(join(job.outputs[0]!.path, '..'), { recursive: true });
      expect(staged.filter((f) => f.startsWith('.spool/'))).toEqual([]);
    } finally {
      await engine.close();
    }
  });

  it('refuses to encode what is not a PNG, in words', async () => {
    expect(() => withPngExif(Buffer.from('GIF89a not a png at all, no'), Buffer.alloc(8))).toThrow(
      'FFmpeg did not write a PNG',
    );
    const rewrite = avifRewrite({}, { quality: 50 });
    rewrite.see(Buffer.from('not a picture'));
    await expect(rewrite.size()).rejects.toThrow();
  });
});
