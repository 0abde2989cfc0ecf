// The library's pictures, made from real vault copies of media made by real FFmpeg and
// sharp, with a real SQLite file: thumbnails and previews turned the way the camera
// asked, a video poster that is not the black start, a sprite of the whole video, a
// clear state for every kind of bad file, a run that goes on after a stop, and no
// decrypted picture anywhere in the data folder.

import { execFile } from 'node:child_process';
import { mkdir, mkdtemp, readFile, readdir, rm, utimes, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { promisify } from 'node:util';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { locateFfmpeg } from '../ffmpeg/locate';
import { databasePath, openDatabase } from '../jobs/db';
import { filesContaining } from '../testing/marker';
import { makeClip } from '../testing/media';
import { freshDir, TEST_SCRYPT } from '../testing/tmp';
import { createVault } from '../vault/keyring';
import { InfoReader } from './info-reader';
import type { InfoTools } from './item-info';
import { Library } from './library';
import { BLACK_MEAN, lumaStats } from './preview-luma';
import { PreviewMaker } from './preview-maker';
import {
  PREVIEWS_DIR,
  picturesOf,
  previewBytes,
  previewPath,
  previewState,
  withGridPicture,
} from './preview-store';

const run = promisify(execFile);
let tools: InfoTools;
let media: string;

/** 400 × 300 stored, top half white: shown turned a quarter clockwise (EXIF 6), white on the right. */
async function turnedPhoto(): Promise<Buffer> {
  const white = await sharp({
    create: { width: 400, height: 150, channels: 3, background: '#ffffff' },
  })
    .png()
    .toBuffer();
  return sharp({ create: { width: 400, height: 300, channels: 3, background: '#000000' } })
    .composite([{ input: white, left: 0, top: 0 }])
    .jpeg()
    .withMetadata({ orientation: 6 })
    .toBuffer();
}

beforeAll(async () => {
  const located = await locateFfmpeg();
  tools = { ffmpegPath: located.ffmpegPath, ffprobePath: located.ffprobePath };
  media = await mkdtemp(join(tmpdir(), 'keepsake-preview-media-'));
  await writeFile(join(media, 'turned.jpg'), await turnedPhoto());
  await sharp({
    create: {
      width: 2400,
      height: 1800,
      channels: 3,
      background: '#000000',
      noise: { type: 'gaussian', mean: 128, sigma: 40 },
    },
  })
    .jpeg()
    .toFile(join(media, 'big.jpg'));
  await writeFile(join(media, 'broken.jpg'), Buffer.alloc(4096, 7));
  const png = await sharp({
    create: { width: 200, height: 200, channels: 3, background: '#336699' },
  })
    .png({ compressionLevel: 0 })
    .toBuffer();
  await writeFile(join(media, 'cut short.png'), png.subarray(0, png.length / 2));
  // 10,000 × 10,001 grey pixels: a few hundred KB of PNG, 100 megapixels once opened.
  await sharp({ create: { width: 10_000, height: 10_001, channels: 3, background: '#808080' } })
    .greyscale()
    .png({ compressionLevel: 9 })
    .toFile(join(media, 'bomb.png'));
  // The start of an iPhone's HEIC (its ftyp box); no HEIC encoder is at hand to make one.
  await writeFile(
    join(media, 'IMG_0001.HEIC'),
    Buffer.concat([
      Buffer.from([0, 0, 0, 24]),
      Buffer.from('ftypheic\0\0\0\0mif1heic', 'latin1'),
      Buffer.alloc(1024),
    ]),
  );
  // A camcorder clip that opens on two seconds of black.
  await run(tools.ffmpegPath, [
    ...['-v', 'error', '-y', '-f', 'lavfi', '-i', 'color=c=black:s=320x240:r=25:d=2'],
    ...['-f', 'lavfi', '-i', 'testsrc=s=320x240:r=25:d=4'],
    ...['-filter_complex', '[0:v][1:v]concat=n=2:v=1:a=0', '-pix_fmt', 'yuv420p'],
    ...['-c:v', 'libx264', '-preset', 'ultrafast', '-g', '25'],
    join(media, 'black start.mp4'),
  ]);
  await makeClip(media, 'with sound.mp4', { seconds: 1 });
  await run(tools.ffmpegPath, [
    ...['-v', 'error', '-y', '-i', join(media, 'with sound.mp4'), '-vn', '-c', 'copy'],
    join(media, 'voice memo.mp4'),
  ]);
  await rm(join(media, 'with sound.mp4'));
}, 120_000);

afterAll(async () => {
  if (media) await rm(media, { recursive: true, force: true });
});

/** A fresh data folder whose library holds the media above, all protected. */
async function protectedMedia() {
  const dataDir = await freshDir();
  const db = openDatabase(databasePath(dataDir));
  const { vault } = await createVault(join(dataDir, 'vault'), 'pw', {
    scrypt: TEST_SCRYPT,
    recovery: false,
  });
  const library = new Library(db, dataDir);
  const { folder } = await library.addFolder(media);
  expect((await library.encrypt(folder.id, vault)).failed).toBe(0);
  const ids = new Map(library.files(folder.id).map((f) => [f.rel, f.id]));
  const id = (rel: string) => ids.get(rel)!;
  return { dataDir, db, vault, library, folder, id };
}

/**
 * Three 32-byte runs from inside a picture, each of varied bytes: a JPEG of a black area
 * can hold runs of zeros, which any database file holds too.
 */
function needlesOf(plain: Buffer): Buffer[] {
  const found: Buffer[] = [];
  for (const at of [0.3, 0.6, 0.9]) {
    for (let start = Math.floor(plain.length * at); start + 32 <= plain.length; start += 32) {
      const run = plain.subarray(start, start + 32);
      if (new Set(run).size >= 20) {
        found.push(Buffer.from(run));
        break;
      }
    }
  }
  return found;
}

async function decoded(jpeg: Buffer) {
  const { data, info } = await sharp(jpeg).raw().toBuffer({ resolveWithObject: true });
  return { data, info, luma: lumaStats(data, info.width, info.height) };
}

describe('PreviewMaker', () => {
  it('makes every picture, turned and sized, with a poster that is not black', async () => {
    const { dataDir, db, vault, id } = await protectedMedia();
    const maker = new PreviewMaker(db, dataDir, () => Promise.resolve(tools));
    expect(maker.leftToMake()).toBe(8);
    const r0 = await maker.run(vault);
    expect(r0).toEqual({ done: 8, failed: 0, left: 0 });

    // Turned as the camera asked: shown 300 × 400, the stored top (white) on the right.
    const turned = picturesOf(db, id('turned.jpg'));
    expect(turned.get('thumb')).toMatchObject({ width: 240, height: 320 });
    expect(turned.get('preview')).toMatchObject({ width: 300, height: 400 });
    const thumb = await previewBytes(db, dataDir, vault, id('turned.jpg'));
    expect(thumb).toMatchObject({ kind: 'thumb', mediaType: 'image/jpeg', width: 240 });
    const { data, info } = await decoded(thumb.bytes);
    expect([info.width, info.height]).toEqual([240, 320]);
    const at = (x: number, y: number) => data[(y * info.width + x) * info.channels]!;
    expect(at(20, 160)).toBeLessThan(40);
    expect(at(220, 160)).toBeGreaterThan(215);

    const big = picturesOf(db, id('big.jpg'));
    expect(big.get('thumb')).toMatchObject({ width: 320, height: 240 });
    expect(big.get('preview')).toMatchObject({ width: 1600, height: 1200 });
    const preview = await previewBytes(db, dataDir, vault, id('big.jpg'), 'preview');
    expect((await sharp(preview.bytes).metadata()).width).toBe(1600);

    // The poster is from the picture, not the two black seconds it opens on.
    const video = picturesOf(db, id('black start.mp4'));
    expect([...video.keys()].sort()).toEqual(['poster', 'sprite']);
    const poster = await previewBytes(db, dataDir, vault, id('black start.mp4'));
    expect(poster).toMatchObject({ kind: 'poster', width: 320, height: 240 });
    expect((await decoded(poster.bytes)).luma.mean).toBeGreaterThan(BLACK_MEAN * 2);
    // The sprite holds ten frames from end to end: the first ones black, the last not.
    const sprite = await previewBytes(db, dataDir, vault, id('black start.mp4'), 'sprite');
    expect(sprite).toMatchObject({ frames: 10, width: 1600, height: 120 });
    const strip = await decoded(sprite.bytes);
    const frame = async (i: number) => {
      const { data: one, info: size } = await sharp(sprite.bytes)
        .extract({ left: i * 160, top: 0, width: 160, height: 120 })
        .raw()
        .toBuffer({ resolveWithObject: true });
      return lumaStats(one, size.width, size.height).mean;
    };
    expect(strip.info.width).toBe(1600);
    expect(await frame(0)).toBeLessThan(BLACK_MEAN);
    expect(await frame(9)).toBeGreaterThan(BLACK_MEAN * 2);

    // Every bad file has a clear state, and none stopped the others.
    const state = (rel: string) => previewState(db, id(rel));
    expect(state('broken.jpg')).toMatchObject({ outcome: 'failed', reason: 'damaged' });
    expect(state('cut short.png')).toMatchObject({ outcome: 'failed', reason: 'damaged' });
    // A sentence for the family; what libvips said kept apart, in the same column.
    expect(state('cut short.png')!.detail).toBe(
      "This photo is damaged or incomplete: Keepsake can't open it. The original is kept as it is.",
    );
    expect(state('cut short.png')!.technical).toBeTruthy();
    expect(state('broken.jpg')!.technical).toBeTruthy();
    expect(state('bomb.png')).toMatchObject({ outcome: 'failed', reason: 'too-large' });
    expect(state('bomb.png')!.detail).toMatch(/100 megapixels, more than the 80/);
    expect(state('IMG_0001.HEIC')).toMatchObject({ outcome: 'failed', reason: 'unsupported' });
    expect(state('IMG_0001.HEIC')!.detail).toMatch(/HEIC photo .* cannot show yet/);
    expect(state('voice memo.mp4')).toMatchObject({ outcome: 'failed', reason: 'no-picture' });
    expect(picturesOf(db, id('bomb.png')).size).toBe(0);
    await expect(previewBytes(db, dataDir, vault, id('bomb.png'))).rejects.toMatchObject({
      code: 'NOT_FOUND',
      message: expect.stringMatching(/has no picture: This picture is 100 megapixels/),
    });
    expect(withGridPicture(db, [id('turned.jpg'), id('black start.mp4'), id('bomb.png')])).toEqual(
      new Set([id('turned.jpg'), id('black start.mp4')]),
    );

    // Nothing left: a second run makes nothing.
    expect(await maker.run(vault)).toEqual({ done: 0, failed: 0, left: 0 });

    // No picture is on disk decrypted: runs of every picture's bytes appear in no file of
    // the data folder, though the same search finds them in a plaintext copy.
    const needles: Buffer[] = [];
    const control = await freshDir();
    for (const fileId of [id('turned.jpg'), id('big.jpg'), id('black start.mp4')]) {
      for (const kind of picturesOf(db, fileId).keys()) {
        const plain = (await previewBytes(db, dataDir, vault, fileId, kind)).bytes;
        needles.push(...needlesOf(plain));
        await writeFile(join(control, `${fileId}-${kind}.jpg`), plain);
      }
    }
    // The flat pictures (half black, half white) may hold no varied run; the others do.
    expect(needles.length).toBeGreaterThanOrEqual(12);
    for (const needle of needles) {
      expect(await filesContaining(dataDir, needle)).toEqual([]);
      expect(await filesContaining(control, needle)).toHaveLength(1);
    }
    db.close();
  }, 180_000);

  it('goes on after a stop, makes again for a new vault copy, and sweeps what no row names', async () => {
    const { dataDir, db, vault, id } = await protectedMedia();
    const maker = new PreviewMaker(db, dataDir, () => Promise.resolve(tools), 1);
    const total = maker.leftToMake();
    const first = maker.run(vault);
    while ((maker.progress()?.done ?? 0) < 1) await new Promise((r) => setTimeout(r, 10));
    await maker.stop();
    const stopped = await first;
    expect(stopped.done).toBeLessThan(total);
    expect(stopped.left).toBe(total - stopped.done);

    // Another maker on the same database (the engine started again) does the rest.
    const again = new PreviewMaker(db, dataDir, () => Promise.resolve(tools));
    expect(await again.run(vault)).toEqual({ done: total - stopped.done, failed: 0, left: 0 });

    // The photo's source is edited and protected again: only it is made again, and its
    // old pictures go.
    const before = picturesOf(db, id('big.jpg'));
    db.prepare('UPDATE library_files SET object_mtime = object_mtime + 1 WHERE id = ?').run(
      id('big.jpg'),
    );
    expect(again.leftToMake()).toBe(1);
    // A picture file no row names (its item removed, or a run killed before recording):
    // old ones are swept, a new one (another process may be about to record it) is kept.
    const stray = previewPath(dataDir, 'ab'.repeat(16));
    const fresh = previewPath(dataDir, 'cd'.repeat(16));
    await mkdir(dirname(stray), { recursive: true });
    await mkdir(dirname(fresh), { recursive: true });
    await writeFile(stray, 'left behind');
    await writeFile(fresh, 'being recorded');
    const old = new Date(Date.now() - 3600_000);
    await utimes(stray, old, old);
    expect(await again.run(vault)).toEqual({ done: 1, failed: 0, left: 0 });
    const after = picturesOf(db, id('big.jpg'));
    for (const kind of ['thumb', 'preview'] as const) {
      expect(after.get(kind)!.name).not.toBe(before.get(kind)!.name);
    }
    const onDisk = (await readdir(join(dataDir, PREVIEWS_DIR), { recursive: true })).filter((n) =>
      n.endsWith('.ksv'),
    );
    const named = db.prepare('SELECT name FROM library_previews').pluck().all() as string[];
    expect(onDisk.map((n) => n.slice(3, -4)).sort()).toEqual([...named, 'cd'.repeat(16)].sort());
    db.close();
  }, 180_000);

  it('leaves videos waiting, not failed, when FFmpeg cannot run, and makes them later', async () => {
    const { dataDir, db, vault, id } = await protectedMedia();
    const broken = { ffmpegPath: '/nonexistent/ffmpeg', ffprobePath: '/nonexistent/ffprobe' };
    const maker = new PreviewMaker(db, dataDir, () => Promise.resolve(broken));
    // The six photos need no FFmpeg; the two videos wait for one.
    expect(await maker.run(vault)).toEqual({ done: 6, failed: 2, left: 2 });
    expect(maker.lastError).toMatch(/ENOENT|not found|nonexistent/i);
    expect(previewState(db, id('voice memo.mp4'))).toBeUndefined();
    await expect(previewBytes(db, dataDir, vault, id('black start.mp4'))).rejects.toMatchObject({
      code: 'NOT_FOUND',
      message: expect.stringMatching(/no picture yet/),
    });
    const fixed = new PreviewMaker(db, dataDir, () => Promise.resolve(tools));
    expect(await fixed.run(vault)).toEqual({ done: 2, failed: 0, left: 0 });
    expect(previewState(db, id('voice memo.mp4'))).toMatchObject({ reason: 'no-picture' });
    db.close();
  }, 180_000);

  it('samples a video by the facts already read of it, without probing it again', async () => {
    const { dataDir, db, vault, id } = await protectedMedia();
    await new InfoReader(db, dataDir, () => Promise.resolve(tools)).run(vault);
    // No FFprobe: a video whose picture stream and length were read is made all the same;
    // the one without a picture must be probed, and waits.
    const noProbe = { ffmpegPath: tools.ffmpegPath, ffprobePath: '/nonexistent/ffprobe' };
    const maker = new PreviewMaker(db, dataDir, () => Promise.resolve(noProbe));
    expect(await maker.run(vault)).toEqual({ done: 7, failed: 1, left: 1 });
    expect(previewState(db, id('voice memo.mp4'))).toBeUndefined();
    const poster = await previewBytes(db, dataDir, vault, id('black start.mp4'));
    expect((await decoded(poster.bytes)).luma.mean).toBeGreaterThan(BLACK_MEAN * 2);
    expect(picturesOf(db, id('black start.mp4')).get('sprite')).toMatchObject({ frames: 10 });
    db.close();
  }, 180_000);

  it('refuses an unknown item, and a picture file put in the place of another', async () => {
    const { dataDir, db, vault, id } = await protectedMedia();
    await new PreviewMaker(db, dataDir, () => Promise.resolve(tools)).run(vault);
    await expect(previewBytes(db, dataDir, vault, 'no-such-file')).rejects.toMatchObject({
      code: 'NOT_FOUND',
    });
    const photo = picturesOf(db, id('turned.jpg'));
    const thumb = previewPath(dataDir, photo.get('thumb')!.name);
    const other = previewPath(dataDir, picturesOf(db, id('big.jpg')).get('thumb')!.name);
    await writeFile(thumb, await readFile(other));
    await expect(previewBytes(db, dataDir, vault, id('turned.jpg'))).rejects.toMatchObject({
      code: 'PAYLOAD_CORRUPT',
    });
    db.close();
  }, 180_000);
});
