// What each output carries of the item's title and date is recorded with the job (read
// back from the output, so HLS records none), a year alone is written as each container
// takes it, and photos keep their dates in WebP: a photo converted outside the library
// keeps its own EXIF date, and a WebP too large for the sink's memory (spooled) gets its
// labels like a small one. Real FFmpeg, real sink, real vault.

import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import exifr from 'exifr';
import sharp from 'sharp';
import { describe, expect, it } from 'vitest';
import { testEngine } from '../testing/engine';
import { cameraJpeg, labelled, plaintext, runJob } from '../testing/photo-jobs';
import { makeClip } from '../testing/media';
import { encryptFile } from '../vault/file-ops';

describe('labels recorded per output, and kept in WebP', () => {
  it('a photo outside the library keeps its EXIF date in a WebP larger than the sink holds in memory', async () => {
    const { dir, vault, engine } = await testEngine();
    // The sink holds 16 MB in memory; lowered here, the WebP below is spooled.
    const limit = 64 * 1024;
    engine.env.sinkMemoryLimit = limit;
    try {
      const input = join(dir, 'IMG_0001.jpg');
      await writeFile(input, await cameraJpeg(512));
      await encryptFile(input, `${input}.ksv`, vault);
      for (const options of [{}, labelled(vault, { title: 'Oma im Garten', date: '1975' })]) {
        const job = await runJob(engine, {
          preset: 'photo-web',
          params: { quality: 100 },
          input: { kind: 'vault', path: `${input}.ksv` },
          options,
        });
        const webp = await plaintext(job.outputs[0]!.path, vault);
        expect(webp.length).toBeGreaterThan(limit);
        const meta = await sharp(webp).metadata();
        expect(meta).toMatchObject({ format: 'webp', width: 512, height: 512 });
        const exif = (await exifr.parse(meta.exif!, { reviveValues: false })) as Record<
          string,
          unknown
        >;
        if ('labels' in options) {
          // The family's title; their year in XMP, which takes a year alone (EXIF does not).
          expect(exif).toMatchObject({ ImageDescription: 'Oma im Garten' });
          expect(exif).not.toHaveProperty('DateTimeOriginal');
          expect(meta.xmp!.toString('utf8')).toContain('<photoshop:DateCreated>1975<');
          expect(job.outputs[0]!.labels).toEqual(['title', 'date']);
        } else {
          expect(exif).toMatchObject({
            DateTimeOriginal: '2003:05:17 09:15:00',
            OffsetTimeOriginal: '+02:00',
          });
          expect(job.outputs[0]!.labels).toEqual(['date']);
        }
      }
      // Asked not to keep metadata, the copy keeps none, and says so.
      const bare = await runJob(engine, {
        preset: 'photo-web',
        params: { keepMetadata: false },
        input: { kind: 'plain', path: input },
        options: labelled(vault, { title: 'Oma im Garten' }),
      });
      const stripped = await sharp(await plaintext(bare.outputs[0]!.path, vault)).metadata();
      expect(stripped.exif).toBeUndefined();
      expect(bare.outputs[0]!.labels).toEqual([]);
    } finally {
      await engine.close();
    }
  });

  it('a year alone goes into MP4 as its date tag, with no creation time; HLS records none', async () => {
    const { dir, vault, engine } = await testEngine();
    try {
      const clip = await makeClip(dir, 'tape.mp4', { seconds: 1 });
      const web = await runJob(engine, {
        preset: 'web-h264',
        params: { maxHeight: '360' },
        input: { kind: 'plain', path: clip },
        options: labelled(vault, { title: 'Christmas 1989', date: '1989' }),
      });
      expect(web.outputs.map((o) => o.labels)).toEqual([['title', 'date']]);

      const hls = await runJob(engine, {
        preset: 'hls-playback',
        params: {},
        input: { kind: 'plain', path: clip },
        options: labelled(vault, { title: 'Christmas 1989', date: '1989' }),
      });
      expect(hls.outputs.length).toBeGreaterThan(2);
      for (const output of hls.outputs) expect(output.labels).toEqual([]);
    } finally {
      await engine.close();
    }
  });
});
