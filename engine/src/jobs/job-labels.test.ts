// A job made from a library item writes the item's title and date into its outputs, on
// real FFmpeg: read back with FFprobe, a title full of FFmetadata's special characters
// intact; while FFmpeg runs, no command line on the machine holds the title; and the
// job's row in engine.db holds it only sealed.

import { execFile } from 'node:child_process';
import { readFile, readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import exifr from 'exifr';
import sharp from 'sharp';
import { describe, expect, it } from 'vitest';
import { serveLoopback, vaultByteSource } from '../ffmpeg/input-source';
import type { OutputLabels } from '../presets/output-labels';
import { jobFinished, testEngine } from '../testing/engine';
import { makeClip } from '../testing/media';
import { TEST_SCRYPT, freshDir } from '../testing/tmp';
import { encryptFile } from '../vault/file-ops';
import { createVault, type Vault } from '../vault/keyring';
import { VaultFile } from '../vault/vault-file';
import type { JobEngine } from './job-engine';
import { openJobLabels, sealJobLabels } from './job-labels';
import type { Job } from './queue';
import { submitJob } from './worker';

const run = promisify(execFile);
const FILE_ID = 'fi0123456789abcdef';

/** Runs `preset` on `input` carrying `labels`; the command lines seen while it ran. */
async function labelledJob(
  engine: JobEngine,
  vault: Vault,
  input: string,
  preset: string,
  labels: OutputLabels | undefined,
  params: Record<string, unknown> = {},
): Promise<{ job: Job; argvs: string[] }> {
  const job = await submitJob(engine.queue, {
    preset,
    params,
    input: { kind: 'vault', path: input },
    outputDir: engine.outputRoot,
    options: {
      libraryFile: FILE_ID,
      ...(labels ? { labels: sealJobLabels(vault, FILE_ID, labels) } : {}),
    },
  });
  const argvs = new Set<string>();
  let watching = true;
  // Every FFmpeg command line on the machine while the job runs, as another user sees it.
  const watch = (async () => {
    while (watching) {
      for (const pid of await readdir('/proc').catch(() => [])) {
        if (!/^\d+$/.test(pid)) continue;
        const argv = await readFile(`/proc/${pid}/cmdline`).catch(() => undefined);
        if (argv?.includes('keepsake.invalid')) argvs.add(argv.toString('utf8'));
      }
      await new Promise((r) => setTimeout(r, 5));
    }
  })();
  const done = await jobFinished(engine, job.id);
  watching = false;
  await watch;
  return { job: done, argvs: [...argvs] };
}

/** The output's format tags, as FFprobe reads them from the sealed output. */
async function formatTags(
  engine: JobEngine,
  vault: Vault,
  job: Job,
): Promise<Record<string, string>> {
  expect(job.state, job.lastError?.message).toBe('succeeded');
  const file = await VaultFile.open(job.outputs[0]!.path, { vault });
  const served = await serveLoopback(vaultByteSource(file));
  try {
    const { stdout } = await run(
      engine.env.ffmpeg.ffprobePath,
      [
        ...['-v', 'error', '-protocol_whitelist', 'http,tcp'],
        ...['-show_entries', 'format_tags', '-of', 'json', served.url],
      ],
      { env: { ...served.env } },
    );
    return (JSON.parse(stdout) as { format: { tags?: Record<string, string> } }).format.tags ?? {};
  } finally {
    await served.close();
    await file.close();
  }
}

/** engine.db and its journal, as bytes: what anyone who copies the data folder gets. */
async function databaseBytes(dataDir: string): Promise<Buffer> {
  const names = (await readdir(dataDir)).filter((n) => n.startsWith('engine.db'));
  return Buffer.concat(await Promise.all(names.map((n) => readFile(join(dataDir, n)))));
}

describe('a job carries its item title and date into the outputs', () => {
  it('web-h264: title, date and creation_time, never on a command line or in the clear', async () => {
    const { dir, dataDir, vault, engine } = await testEngine();
    try {
      // Long enough that the sampler sees FFmpeg run even on a busy machine.
      const clip = await makeClip(dir, 'tape.mp4', {
        seconds: 8,
        size: '640x480',
        comment: 'from the camera',
      });
      const input = join(dir, 'tape.mp4.ksv');
      await encryptFile(clip, input, vault);
      const { job, argvs } = await labelledJob(engine, vault, input, 'web-h264', {
        title: 'Christmas 1989',
        date: '1989-12-24',
      });
      const tags = await formatTags(engine, vault, job);
      expect(tags).toMatchObject({
        title: 'Christmas 1989',
        date: '1989-12-24',
        // The family's date wins over the file's own (1994, as makeClip writes it).
        creation_time: '1989-12-24T00:00:00.000000Z',
        // The source's other tags are kept.
        comment: 'from the camera',
      });

      // FFmpeg ran with the labels as a loopback input, and no argv held the title.
      expect(argvs.some((a) => a.includes('ffmetadata'))).toBe(true);
      for (const argv of argvs) expect(argv).not.toContain('Christmas');

      const db = await databaseBytes(dataDir);
      expect(db.includes('web-h264')).toBe(true); // the search does find what is there
      expect(db.includes('Christmas')).toBe(false);
      expect(db.includes('1989-12-24')).toBe(false);
    } finally {
      await engine.close();
    }
  });

  it('archive-hevc: a title with = ; # \\ and a line break survives; the date in Matroska form', async () => {
    const { dir, vault, engine } = await testEngine();
    try {
      const clip = await makeClip(dir, 'tape.mp4', { seconds: 1 });
      const input = join(dir, 'tape.mp4.ksv');
      await encryptFile(clip, input, vault);
      const title = 'Oma=Opa; #2 \\ Weihnachten\nzweite Zeile';
      const { job } = await labelledJob(
        engine,
        vault,
        input,
        'archive-hevc',
        { title, date: '1989-12-24T18:30:00' },
        { speed: 'ultrafast' },
      );
      const tags = await formatTags(engine, vault, job);
      expect(tags).toMatchObject({
        title,
        DATE_RECORDED: '1989-12-24 18:30:00',
        creation_time: '1989-12-24T18:30:00.000000Z',
      });
    } finally {
      await engine.close();
    }
  });

  it('a date alone, with its offset, becomes the UTC creation_time; keepMetadata off writes none', async () => {
    const { dir, vault, engine } = await testEngine();
    try {
      const clip = await makeClip(dir, 'tape.mp4', { seconds: 1 });
      const input = join(dir, 'tape.mp4.ksv');
      await encryptFile(clip, input, vault);
      const dated = await labelledJob(engine, vault, input, 'remux', {
        date: '2019-08-12T14:30:00+02:00',
      });
      const tags = await formatTags(engine, vault, dated.job);
      expect(tags).toMatchObject({ creation_time: '2019-08-12T12:30:00.000000Z' });
      expect(tags).not.toHaveProperty('title');

      const bare = await labelledJob(
        engine,
        vault,
        input,
        'web-h264',
        { title: 'Christmas 1989', date: '1989-12-24' },
        { keepMetadata: false, maxHeight: '360' },
      );
      const none = await formatTags(engine, vault, bare.job);
      expect(none).not.toHaveProperty('title');
      expect(none).not.toHaveProperty('date');
    } finally {
      await engine.close();
    }
  });

  it('photo-web: the WebP gets the date as EXIF DateTimeOriginal and the title, which FFmpeg cannot write', async () => {
    const { dir, vault, engine } = await testEngine();
    try {
      const photo = await makeClip(dir, 'photo.png', { still: true });
      const input = join(dir, 'photo.png.ksv');
      await encryptFile(photo, input, vault);
      const title = 'Christmas 1989; Oma=#1';
      const { job } = await labelledJob(engine, vault, input, 'photo-web', {
        title,
        date: '1989-12-24T18:30:00+01:00',
      });
      expect(job.state, job.lastError?.message).toBe('succeeded');
      const file = await VaultFile.open(job.outputs[0]!.path, { vault });
      const webp = await file.read(0, file.size);
      await file.close();
      const meta = await sharp(webp).metadata();
      expect(meta).toMatchObject({ format: 'webp', width: 320, height: 240 });
      expect(await exifr.parse(meta.exif!, { reviveValues: false })).toMatchObject({
        ImageDescription: title,
        DateTimeOriginal: '1989:12:24 18:30:00',
        OffsetTimeOriginal: '+01:00',
      });
      expect(meta.xmp!.toString('utf8')).toContain(title);

      // Without keepMetadata, nothing is added.
      const bare = await labelledJob(
        engine,
        vault,
        input,
        'photo-web',
        { title, date: '1989-12-24' },
        { keepMetadata: false },
      );
      const plain = await VaultFile.open(bare.job.outputs[0]!.path, { vault });
      const stripped = await sharp(await plain.read(0, plain.size)).metadata();
      await plain.close();
      expect(stripped.exif).toBeUndefined();
      expect(stripped.xmp).toBeUndefined();
    } finally {
      await engine.close();
    }
  });

  it("a tape's clips become chapters of a whole-tape copy, in Matroska and in MP4", async () => {
    const { dir, vault, engine } = await testEngine();
    try {
      const clip = await makeClip(dir, 'tape.mp4', { seconds: 6 });
      const input = join(dir, 'tape.mp4.ksv');
      await encryptFile(clip, input, vault);
      const chapters = [
        { start: 0, end: 2.5, title: 'Birthday; "candles" = 3' },
        { start: 2.5, end: 6, title: 'Clip 2' },
      ];
      for (const [preset, params] of [
        ['remux', { container: 'mkv' }],
        ['web-h264', {}],
      ] as const) {
        const { job } = await labelledJob(engine, vault, input, preset, { chapters }, params);
        expect(job.state, job.lastError?.message).toBe('succeeded');
        const file = await VaultFile.open(job.outputs[0]!.path, { vault });
        const served = await serveLoopback(vaultByteSource(file));
        try {
          const { stdout } = await run(
            engine.env.ffmpeg.ffprobePath,
            [
              ...['-v', 'error', '-protocol_whitelist', 'http,tcp'],
              ...['-show_chapters', '-of', 'json', served.url],
            ],
            { env: { ...served.env } },
          );
          const found = (
            JSON.parse(stdout) as {
              chapters: { start_time: string; end_time: string; tags: { title: string } }[];
            }
          ).chapters;
          expect(
            found.map((c) => [Number(c.start_time), Number(c.end_time), c.tags.title]),
            preset,
          ).toEqual([
            [0, 2.5, 'Birthday; "candles" = 3'],
            [2.5, 6, 'Clip 2'],
          ]);
        } finally {
          await served.close();
          await file.close();
        }
      }
    } finally {
      await engine.close();
    }
  });

  it('labels sealed with another vault do not open: the job runs without them', async () => {
    const { vault } = await testEngine();
    const other = await createVault(join(await freshDir(), 'vault'), 'pw', {
      scrypt: TEST_SCRYPT,
      recovery: false,
    });
    const sealed = sealJobLabels(vault, FILE_ID, { title: 'Christmas 1989' });
    expect(openJobLabels(vault, { libraryFile: FILE_ID, labels: sealed })).toEqual({
      title: 'Christmas 1989',
    });
    expect(openJobLabels(other.vault, { libraryFile: FILE_ID, labels: sealed })).toBeUndefined();
    // Bound to its file: copied onto a job of another file, it does not open either.
    expect(openJobLabels(vault, { libraryFile: 'fiother', labels: sealed })).toBeUndefined();
    expect(Buffer.from(sealed, 'base64').includes('Christmas')).toBe(false);
  });
});
