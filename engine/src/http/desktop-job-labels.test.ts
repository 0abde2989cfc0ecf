// Issue 17's promise, through the desktop API on real FFmpeg: a title and a date set on a
// library item go into the metadata of a web copy made from it afterwards; an item with
// no labels gets the date read from it. Neither the title nor the date is ever on
// FFmpeg's command line (world-readable) or in engine.db in the clear.

import { execFile } from 'node:child_process';
import { mkdir, readFile, readdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import exifr from 'exifr';
import sharp from 'sharp';
import { describe, expect, it } from 'vitest';
import { serveLoopback, vaultByteSource } from '../ffmpeg/input-source';
import type { DesktopJob, FileView, FolderView } from '../net/desktop-contract';
import {
  TEST_PASSWORD as PASSWORD,
  startTestDesktop,
  until,
  type TestDesktop,
} from '../testing/desktop';
import { makeClip } from '../testing/media';
import { freshDir } from '../testing/tmp';
import { VaultFile } from '../vault/vault-file';

const run = promisify(execFile);

/** FFmpeg command lines naming the loopback, as any user on the machine can read them. */
async function loopbackCommandLines(): Promise<string[]> {
  const found: string[] = [];
  for (const pid of await readdir('/proc').catch(() => [])) {
    if (!/^\d+$/.test(pid)) continue;
    const argv = await readFile(`/proc/${pid}/cmdline`).catch(() => undefined);
    if (argv?.includes('keepsake.invalid')) found.push(argv.toString('utf8'));
  }
  return found;
}

async function outputTags(desktop: TestDesktop, jobId: string): Promise<Record<string, string>> {
  const engine = desktop.session.requireEngine();
  const job = await engine.queue.get(jobId);
  expect(job.state, job.lastError?.message).toBe('succeeded');
  const file = await VaultFile.open(job.outputs[0]!.path, {
    vault: desktop.session.requireVault(),
  });
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

describe('a library item’s title and date in what is made from it', () => {
  it('a web copy carries the title and date set by hand, or the date read from the file', async () => {
    const desktop = await startTestDesktop();
    const a = desktop.api;
    expect((await a.post('/v1/vault', { password: PASSWORD })).status).toBe(201);
    const media = join(await freshDir(), 'Family');
    await mkdir(media, { recursive: true });
    // Long enough that the sampler below sees FFmpeg run even on a busy machine.
    await makeClip(media, 'tape.mp4', { seconds: 8, size: '640x480' });
    // No recording date inside: its date comes from its name.
    await makeClip(media, '1991-07-14 beach.mp4', {
      seconds: 1,
      outputArgs: ['-metadata', 'creation_time='],
    });
    // A camera's photo: its date is in its EXIF, which a WebP copy must keep.
    await writeFile(
      join(media, 'IMG_0001.jpg'),
      await sharp({ create: { width: 64, height: 48, channels: 3, background: '#846' } })
        .jpeg()
        .withExif({ IFD2: { DateTimeOriginal: '2003:05:17 09:15:00' } })
        .toBuffer(),
    );
    const folder = (await a.post('/v1/library', { path: media })).body as FolderView;
    await a.post(`/v1/library/${folder.id}/encrypt`);
    await until(
      () => a.get<FolderView[]>('/v1/library'),
      (list) => list[0]!.encrypted === 3 && !list[0]!.encrypting,
      20_000,
    );
    const files = await a.get<FileView[]>(`/v1/library/${folder.id}/files`);
    const tape = files.find((f) => f.rel === 'tape.mp4')!;
    const beach = files.find((f) => f.rel.includes('beach'))!;
    const photo = files.find((f) => f.kind === 'photo')!;
    // The facts of both are read (in the background) before the jobs are made.
    const vault = desktop.session.requireVault();
    await until(
      async () => desktop.session.items.facts(vault, { folderId: folder.id }),
      (items) => items.every((i) => i.info !== undefined),
    );

    const labelled = await a.call('PATCH', `/v1/library/files/${tape.id}`, {
      title: 'Christmas 1989',
      date: '1989-12-24',
    });
    expect(labelled.status).toBe(200);

    const job = (await a.post('/v1/jobs', { fileId: tape.id, preset: 'web-h264' }))
      .body as DesktopJob;
    const other = (await a.post('/v1/jobs', { fileId: beach.id, preset: 'web-h264' }))
      .body as DesktopJob;
    const web = (await a.post('/v1/jobs', { fileId: photo.id, preset: 'photo-web' }))
      .body as DesktopJob;
    // Every FFmpeg command line while the jobs run, read in a loop of its own: sampled only
    // between the status polls below, a short FFmpeg run could start and end unseen.
    const argvs = new Set<string>();
    let sampling = true;
    const sampler = (async () => {
      while (sampling) for (const argv of await loopbackCommandLines()) argvs.add(argv);
    })();
    await until(
      async () => {
        return Promise.all(
          [job.id, other.id, web.id].map((id) => a.get<DesktopJob>(`/v1/jobs/${id}`)),
        );
      },
      (jobs) => jobs.every((j) => j.state === 'succeeded' || j.state === 'failed'),
    );
    sampling = false;
    await sampler;

    expect(await outputTags(desktop, job.id)).toMatchObject({
      title: 'Christmas 1989',
      date: '1989-12-24',
      creation_time: '1989-12-24T00:00:00.000000Z',
    });
    const dated = await outputTags(desktop, other.id);
    expect(dated).toMatchObject({ creation_time: '1991-07-14T00:00:00.000000Z' });
    expect(dated.date).toMatch(/^1991-07-14/);
    expect(dated).not.toHaveProperty('title');

    // The photo's own EXIF date, lost by FFmpeg's WebP muxer, is back in the copy.
    const photoJob = await desktop.session.requireEngine().queue.get(web.id);
    expect(photoJob.state, photoJob.lastError?.message).toBe('succeeded');
    const sealed = await VaultFile.open(photoJob.outputs[0]!.path, { vault });
    const webp = await sealed.read(0, sealed.size);
    await sealed.close();
    const { exif } = await sharp(webp).metadata();
    expect(await exifr.parse(exif!, { reviveValues: false })).toMatchObject({
      DateTimeOriginal: '2003:05:17 09:15:00',
    });

    expect([...argvs].some((argv) => argv.includes('ffmetadata'))).toBe(true);
    for (const argv of argvs) {
      expect(argv).not.toContain('Christmas');
      expect(argv).not.toContain('1989-12-24');
    }

    // engine.db and its journal, as anyone who copies the data folder gets them.
    const dataDir = desktop.session.dataDir;
    const names = (await readdir(dataDir)).filter((n) => n.startsWith('engine.db'));
    const db = Buffer.concat(await Promise.all(names.map((n) => readFile(join(dataDir, n)))));
    expect(db.includes('web-h264')).toBe(true); // the search finds what is there
    expect(db.includes('Christmas')).toBe(false);
  });
});
