// What the library reads of each item, from real vault copies of media made by real
// FFmpeg and sharp, with a real SQLite file: capture dates from each source, picture
// facts, and a clear state for every kind of bad file, never a crash or a stuck queue.

import { execFile } from 'node:child_process';
import { mkdir, mkdtemp, readFile, rename, rm, utimes, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { locateFfmpeg } from '../ffmpeg/locate';
import { databasePath, openDatabase } from '../jobs/db';
import { makeDvTape } from '../testing/dv-media';
import { makeClip } from '../testing/media';
import { freshDir, TEST_SCRYPT } from '../testing/tmp';
import { createVault } from '../vault/keyring';
import { localTime } from './capture-date';
import { InfoReader } from './info-reader';
import type { InfoTools } from './item-info';
import { Library } from './library';

const run = promisify(execFile);
let tools: InfoTools;
let media: string;

beforeAll(async () => {
  const located = await locateFfmpeg();
  // Debian's FFprobe when present: the npm build crashes on MPEG-TS.
  tools = { ffmpegPath: located.ffmpegPath, ffprobePath: located.ffprobePath };
  // Shared by the tests: freshDir's folders go after each test.
  media = await mkdtemp(join(tmpdir(), 'keepsake-info-media-'));
  const jpeg = await sharp({
    create: { width: 120, height: 80, channels: 3, background: '#a06040' },
  })
    .withExif({
      IFD0: { Make: 'Canon', Model: 'PowerShot A70' },
      IFD2: { DateTimeOriginal: '2004:07:04 18:15:00' },
    })
    .jpeg()
    .toBuffer();
  await writeFile(join(media, 'DSC_0001.JPG'), jpeg);
  await makeClip(media, 'source.mov', { seconds: 1 });
  await run(tools.ffmpegPath, [
    ...['-v', 'error', '-y', '-i', join(media, 'source.mov'), '-c', 'copy'],
    ...['-metadata', 'creation_time=2015-06-01T10:00:00.000000Z'],
    join(media, 'camcorder.mov'),
  ]);
  // makeClip dates its clips; a digitised tape has no date inside, only in its name.
  await run(tools.ffmpegPath, [
    ...['-v', 'error', '-y', '-i', join(media, 'source.mov'), '-c', 'copy'],
    ...['-map_metadata', '-1', join(media, '1989-12-24 Christmas.mov')],
  ]);
  const plain = await readFile(join(media, 'source.mov'));
  // Cut short before its index (the moov box is at the end): a half-copied file.
  await writeFile(join(media, 'half copied.mov'), plain.subarray(0, plain.length / 2));
  await writeFile(join(media, 'not a video.mp4'), Buffer.alloc(50_000, 0x5a));
  await makeClip(media, 'sound only.mp4', { seconds: 1 });
  await run(tools.ffmpegPath, [
    ...['-v', 'error', '-y', '-i', join(media, 'sound only.mp4'), '-vn', '-c', 'copy'],
    join(media, 'voice memo.mp4'),
  ]);
  await run(tools.ffmpegPath, [
    ...['-v', 'error', '-y', '-f', 'lavfi', '-i', 'sine=frequency=440:duration=1'],
    join(media, 'song.mp3'),
  ]);
  const old = new Date('2020-02-02T02:02:02Z');
  for (const name of ['1989-12-24 Christmas.mov', 'not a video.mp4', 'song.mp3']) {
    await utimes(join(media, name), old, old);
  }
}, 60_000);

/** A fresh data folder whose library holds `folder` (the media above), all protected. */
async function protectedMedia(folder = media) {
  const dataDir = await freshDir();
  const db = openDatabase(databasePath(dataDir));
  const { vault } = await createVault(join(dataDir, 'vault'), 'pw', {
    scrypt: TEST_SCRYPT,
    recovery: false,
  });
  const library = new Library(db, dataDir);
  const added = await library.addFolder(folder);
  expect((await library.encrypt(added.folder.id, vault)).failed).toBe(0);
  return { dataDir, db, vault, library, folder: added.folder };
}

afterAll(async () => {
  if (media) await rm(media, { recursive: true, force: true });
});

describe('InfoReader', () => {
  it('reads every item in the vault once, with the right date, facts and attention', async () => {
    const { dataDir, db, vault, library, folder } = await protectedMedia();
    const reader = new InfoReader(db, dataDir, () => Promise.resolve(tools));
    const files = library.files(folder.id);
    expect(reader.leftToRead()).toBe(files.length);

    const done = await reader.run(vault);
    expect(done).toEqual({ done: files.length, failed: 0, left: 0 });
    const byName = new Map(files.map((f) => [f.rel, f.id]));
    const info = reader.infoFor([...byName.values()], vault);
    const of = (name: string) => info.get(byName.get(name)!);

    expect(of('DSC_0001.JPG')).toEqual({
      capturedAt: '2004-07-04T18:15:00',
      capturedFrom: 'exif',
      rotation: 0,
      hasAudio: false,
      width: 120,
      height: 80,
      make: 'Canon',
      model: 'PowerShot A70',
    });
    expect(of('camcorder.mov')).toMatchObject({
      capturedAt: '2015-06-01T10:00:00Z',
      capturedFrom: 'recording',
      width: 320,
      height: 240,
      videoCodec: 'h264',
      audioCodec: 'aac',
      hasAudio: true,
    });
    expect(of('camcorder.mov')!.durationSeconds).toBeCloseTo(1, 0);
    expect(of('camcorder.mov')!.attention).toBeUndefined();
    expect(of('1989-12-24 Christmas.mov')).toMatchObject({
      capturedAt: '1989-12-24',
      capturedFrom: 'filename',
    });
    expect(of('half copied.mov')).toMatchObject({ attention: 'damaged' });
    // The family reads a sentence; FFprobe's words are kept apart for a "Details" disclosure.
    expect(of('half copied.mov')).toMatchObject({
      attentionDetail:
        "This video is damaged or incomplete: Keepsake can't read its start. The original is kept as it is.",
      attentionTechnical: expect.stringMatching(/moov atom not found/),
    });
    expect(of('not a video.mp4')).toMatchObject({
      attention: 'damaged',
      capturedFrom: 'mtime',
      capturedAt: localTime(Date.parse('2020-02-02T02:02:02Z')),
    });
    expect(of('voice memo.mp4')).toMatchObject({
      attention: 'damaged',
      attentionDetail: 'This video has sound but no picture.',
      hasAudio: true,
    });
    // Music is kept and dated; FFprobe may not open MP3 (not a video container), and that
    // needs nothing from the family.
    expect(of('song.mp3')).toMatchObject({ capturedFrom: 'mtime' });
    expect(of('song.mp3')!.attention).toBeUndefined();

    // Sealed with the vault: engine.db holds no date and no camera in the clear, and
    // another vault, or a locked one, opens none of it.
    db.pragma('wal_checkpoint(TRUNCATE)');
    const stored = await readFile(databasePath(dataDir));
    expect(stored.includes('PowerShot')).toBe(false);
    expect(stored.includes('2004-07-04')).toBe(false);
    const other = await createVault(join(await freshDir(), 'vault'), 'pw', {
      scrypt: TEST_SCRYPT,
      recovery: false,
    });
    expect(reader.infoFor([...byName.values()], other.vault).size).toBe(0);
    expect(reader.infoFor([...byName.values()], undefined).size).toBe(0);

    // Nothing left: a second run reads nothing.
    expect(await reader.run(vault)).toEqual({ done: 0, failed: 0, left: 0 });
    db.close();
  }, 120_000);

  it("dates a DV tape by the camcorder's clock, not by the day it was copied to the computer", async () => {
    const dir = await freshDir();
    const folder = join(dir, 'tapes');
    await mkdir(folder);
    const filmed = await makeDvTape(dir, [{ seconds: 3, recorded: '1994-07-01T10:00:00Z' }]);
    // A capture program wraps the tape in QuickTime, dated the day it copied it.
    await run(tools.ffmpegPath, [
      ...['-v', 'error', '-y', '-i', filmed, '-c', 'copy'],
      ...['-metadata', 'creation_time=2024-03-01T12:00:00.000000Z'],
      join(folder, 'Summer tape.mov'),
    ]);
    // A capture box writes no clock into the frames: the file's name dates it.
    await rename(
      await makeDvTape(await freshDir(), [{ seconds: 2 }]),
      join(folder, '1996-05-04 school play.dv'),
    );
    const { dataDir, db, vault, library, folder: added } = await protectedMedia(folder);
    const reader = new InfoReader(db, dataDir, () => Promise.resolve(tools));
    expect(await reader.run(vault)).toMatchObject({ done: 2, failed: 0 });
    const files = library.files(added.id);
    const info = reader.infoFor(
      files.map((f) => f.id),
      vault,
    );
    const of = (name: string) => info.get(files.find((f) => f.rel === name)!.id);
    expect(of('Summer tape.mov')).toMatchObject({
      capturedAt: '1994-07-01T10:00:00',
      capturedFrom: 'recording',
      videoCodec: 'dvvideo',
    });
    expect(of('Summer tape.mov')!.attention).toBeUndefined();
    expect(of('1996-05-04 school play.dv')).toMatchObject({
      capturedAt: '1996-05-04',
      capturedFrom: 'filename',
      videoCodec: 'dvvideo',
    });
    db.close();
  }, 120_000);

  it('reads an item again when its vault copy is replaced, and goes on after a stop', async () => {
    const { dataDir, db, vault, library, folder } = await protectedMedia();
    const reader = new InfoReader(db, dataDir, () => Promise.resolve(tools), 1);
    const total = reader.leftToRead();
    const first = reader.run(vault);
    // Stop as soon as one item is read: the rest stays for the next run.
    while ((reader.progress()?.done ?? 0) < 1) await new Promise((r) => setTimeout(r, 10));
    await reader.stop();
    const stopped = await first;
    expect(stopped.done).toBeLessThan(total);
    expect(stopped.left).toBe(total - stopped.done);

    // Another reader on the same database (the engine started again) finishes the rest.
    const again = new InfoReader(db, dataDir, () => Promise.resolve(tools));
    expect(await again.run(vault)).toEqual({ done: total - stopped.done, failed: 0, left: 0 });

    // The photo's source is edited and protected again: only it is read again.
    const photo = library.files(folder.id).find((f) => f.rel === 'DSC_0001.JPG')!;
    db.prepare('UPDATE library_files SET object_mtime = object_mtime + 1 WHERE id = ?').run(
      photo.id,
    );
    expect(again.leftToRead()).toBe(1);
    expect(await again.run(vault)).toEqual({ done: 1, failed: 0, left: 0 });

    // An item read by the first reader, which did not read the frame rate, is read again,
    // and shows what it had until then.
    const clip = library.files(folder.id).find((f) => f.rel === 'camcorder.mov')!;
    expect(again.infoFor([clip.id], vault).get(clip.id)?.frameRate).toBe(25);
    db.prepare('UPDATE library_info SET version = 1 WHERE file_id = ?').run(clip.id);
    expect(again.leftToRead()).toBe(1);
    expect(again.infoFor([clip.id], vault).get(clip.id)?.capturedFrom).toBe('recording');
    expect(await again.run(vault)).toEqual({ done: 1, failed: 0, left: 0 });
    db.close();
  }, 120_000);

  it('leaves an item unread, not marked damaged, when FFmpeg cannot run, and reads it later', async () => {
    const { dataDir, db, vault, library, folder } = await protectedMedia();
    const total = library.files(folder.id).filter((f) => f.kind !== 'other').length;
    const broken = { ffmpegPath: '/nonexistent/ffmpeg', ffprobePath: '/nonexistent/ffprobe' };
    const reader = new InfoReader(db, dataDir, () => Promise.resolve(broken));
    const first = await reader.run(vault);
    // The photo needs no FFmpeg; every video and the song wait for one.
    expect(first).toEqual({ done: 1, failed: total - 1, left: total - 1 });
    expect(reader.lastError).toMatch(/ENOENT|not found|nonexistent/i);
    const fixed = new InfoReader(db, dataDir, () => Promise.resolve(tools));
    expect(await fixed.run(vault)).toEqual({ done: total - 1, failed: 0, left: 0 });
    const ids = library.files(folder.id).map((f) => f.id);
    const damaged = [...fixed.infoFor(ids, vault).values()].filter((i) => i.attention);
    // Only the three bad files, as in the first test: none from the run without FFmpeg.
    expect(damaged).toHaveLength(3);
    db.close();
  }, 120_000);
});
