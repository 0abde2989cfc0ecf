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
import type { OutputLabels } from '../presets/output-labels';
import { finishJob, testEngine } from '../testing/engine';
import { makeClip } from '../testing/media';
import { encryptFile } from '../vault/file-ops';
import type { Vault } from '../vault/keyring';
import { VaultFile } from '../vault/vault-file';
import type { JobEngine } from './job-engine';
import { sealJobLabels } from './job-labels';
import type { Job, JobSpec } from './queue';

const FILE_ID = 'fi0123456789abcdef';

async function runJob(engine: JobEngine, spec: Omit<JobSpec, 'outputDir'>): Promise<Job> {
  const done = await finishJob(engine, spec);
  expect(done.state, done.lastError?.message).toBe('succeeded');
  return done;
}

function labelled(vault: Vault, labels: OutputLabels) {
  return { libraryFile: FILE_ID, labels: sealJobLabels(vault, FILE_ID, labels) };
}

async function plaintext(path: string, vault: Vault): Promise<Buffer> {
  const file = await VaultFile.open(path, { vault });
  try {
    return await file.read(0, file.size);
  } finally {
    await file.close();
  }
}

/** A camera's JPEG: noise (so its WebP is large), with its capture date in EXIF. */
async function cameraJpeg(side: number): Promise<Buffer> {
  const noise = Buffer.alloc(side * side * 3);
  for (let i = 0; i < noise.length; i++) noise[i] = (i * 2654435761) >>> 24;
  return sharp(noise, { raw: { width: side, height: side, channels: 3 } })
    .jpeg({ quality: 95 })
    .withExif({ IFD2: { DateTimeOriginal: '2003:05:17 09:15:00', OffsetTimeOriginal: '+02:00' } })
    .toBuffer();
}

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
