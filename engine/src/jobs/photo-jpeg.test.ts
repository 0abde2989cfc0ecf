// photo-web's JPEG through the real job path (real FFmpeg, sink, vault): the item's title
// and date go in as EXIF and XMP, which FFmpeg's mjpeg cannot write; a photo with no
// labels keeps its own capture date, even when the JPEG is too large for the sink's
// memory (spooled); "keep metadata" off adds nothing; and what a PNG leaves transparent
// is white in the JPEG. (AVIF: photo-avif.test.ts.)

import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import exifr from 'exifr';
import sharp from 'sharp';
import { describe, expect, it } from 'vitest';
import { testEngine } from '../testing/engine';
import { cameraJpeg, labelled, plaintext, runJob } from '../testing/photo-jobs';
import { makeClip } from '../testing/media';
import { encryptFile } from '../vault/file-ops';

type Tags = Record<string, unknown>;

async function tagsOf(jpeg: Buffer): Promise<Tags> {
  return ((await exifr.parse(jpeg, { xmp: true, reviveValues: false })) ?? {}) as Tags;
}

describe('photo-web as JPEG', () => {
  it("carries the item's title and date as EXIF and XMP, and decodes at the size asked", async () => {
    const { dir, vault, engine } = await testEngine();
    try {
      const photo = await makeClip(dir, 'photo.png', { still: true });
      const input = join(dir, 'photo.png.ksv');
      await encryptFile(photo, input, vault);
      const title = 'Christmas 1989; Oma=#1';
      const job = await runJob(engine, {
        preset: 'photo-web',
        params: { format: 'jpeg', maxDimension: 200 },
        input: { kind: 'vault', path: input },
        options: labelled(vault, { title, date: '1989-12-24T18:30:00+01:00' }),
      });
      expect(job.outputs.map((o) => o.name)).toEqual(['photo.jpg']);
      expect(job.outputs[0]!.labels).toEqual(['title', 'date']);
      const jpeg = await plaintext(job.outputs[0]!.path, vault);
      expect(await sharp(jpeg).metadata()).toMatchObject({
        format: 'jpeg',
        width: 200,
        height: 150,
      });
      // Every pixel decodes (a cut-short JPEG fails here, not just in its header).
      const decoded = await sharp(jpeg).raw().toBuffer({ resolveWithObject: true });
      expect(decoded.info).toMatchObject({ width: 200, height: 150, channels: 3 });
      expect(await tagsOf(jpeg)).toMatchObject({
        ImageDescription: title,
        DateTimeOriginal: '1989:12:24 18:30:00',
        OffsetTimeOriginal: '+01:00',
        title: { lang: 'x-default', value: title },
        DateCreated: '1989-12-24T18:30:00+01:00',
      });

      // Without keepMetadata, nothing is added, and the job says so.
      const bare = await runJob(engine, {
        preset: 'photo-web',
        params: { format: 'jpeg', keepMetadata: false },
        input: { kind: 'vault', path: input },
        options: labelled(vault, { title, date: '1989-12-24' }),
      });
      const stripped = await plaintext(bare.outputs[0]!.path, vault);
      expect(await sharp(stripped).metadata()).toMatchObject({ format: 'jpeg', width: 320 });
      expect(await tagsOf(stripped)).not.toHaveProperty('DateTimeOriginal');
      expect(await tagsOf(stripped)).not.toHaveProperty('ImageDescription');
      expect(bare.outputs[0]!.labels).toEqual([]);
    } finally {
      await engine.close();
    }
  });

  it('a photo with no labels keeps its own capture date, in a JPEG larger than the sink holds in memory', async () => {
    const { dir, vault, engine } = await testEngine();
    const limit = 64 * 1024;
    engine.env.sinkMemoryLimit = limit;
    try {
      const input = join(dir, 'IMG_0001.jpg');
      await writeFile(input, await cameraJpeg(512));
      await encryptFile(input, `${input}.ksv`, vault);
      const job = await runJob(engine, {
        preset: 'photo-web',
        params: { format: 'jpeg', quality: 100 },
        input: { kind: 'vault', path: `${input}.ksv` },
        options: {},
      });
      const jpeg = await plaintext(job.outputs[0]!.path, vault);
      expect(jpeg.length).toBeGreaterThan(limit);
      expect(await sharp(jpeg).metadata()).toMatchObject({ width: 512, height: 512 });
      expect(await tagsOf(jpeg)).toMatchObject({
        DateTimeOriginal: '2003:05:17 09:15:00',
        OffsetTimeOriginal: '+02:00',
      });
      expect(job.outputs[0]!.labels).toEqual(['date']);
    } finally {
      await engine.close();
    }
  });

  it('lays what a PNG leaves transparent on white, not on the colour hidden under it', async () => {
    const { dir, vault, engine } = await testEngine();
    try {
      // 64 × 48, see-through black around an opaque blue box.
      const [width, height] = [64, 48];
      const rgba = Buffer.alloc(width * height * 4);
      for (let y = 12; y < 36; y++) {
        for (let x = 16; x < 48; x++) rgba.set([0, 0, 255, 255], (y * width + x) * 4);
      }
      const input = join(dir, 'logo.png');
      await writeFile(
        input,
        await sharp(rgba, { raw: { width, height, channels: 4 } })
          .png()
          .toBuffer(),
      );
      await encryptFile(input, `${input}.ksv`, vault);
      const job = await runJob(engine, {
        preset: 'photo-web',
        params: { format: 'jpeg', quality: 100 },
        input: { kind: 'vault', path: `${input}.ksv` },
        options: {},
      });
      const jpeg = await plaintext(job.outputs[0]!.path, vault);
      const { data, info } = await sharp(jpeg).raw().toBuffer({ resolveWithObject: true });
      const pixel = (x: number, y: number) => [
        ...data.subarray((y * width + x) * 3, (y * width + x) * 3 + 3),
      ];
      expect(info).toMatchObject({ width, height, channels: 3 });
      for (const value of pixel(2, 2)) expect(value).toBeGreaterThan(245); // white, not black
      const [r, g, b] = pixel(32, 24);
      expect([r! < 10, g! < 10, b! > 245]).toEqual([true, true, true]); // the box, still blue
    } finally {
      await engine.close();
    }
  });
});
