// The library's items on a real engine with real generated media: every item listed
// newest first with its pictures once they are made, the pictures and the vault copy
// served decrypted through their capabilities (and refused without them or while the
// vault is locked), and titles and dates set and cleared by hand.

import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import sharp from 'sharp';
import { describe, expect, it } from 'vitest';
import type { ActivityEntry, AddedFolder, LibraryItem } from '../net/desktop-contract';
import { TEST_PASSWORD, startTestDesktop, until, type TestDesktop } from '../testing/desktop';
import { filesContaining } from '../testing/marker';
import { makeClip } from '../testing/media';
import { freshDir } from '../testing/tmp';

const listItems = async (engine: TestDesktop) =>
  (await engine.api.get<{ items: LibraryItem[] }>('/v1/library/items')).items;

const patch = (engine: TestDesktop, id: string, body: unknown) =>
  engine.api.call('PATCH', `/v1/library/files/${id}`, body);

/** Whether the item has every picture it will get (photos: thumb and preview; videos: all). */
const pictured = (item: LibraryItem) =>
  item.kind === 'photo'
    ? item.pictures.thumb !== undefined && item.pictures.preview !== undefined
    : item.kind === 'video'
      ? item.pictures.poster !== undefined && item.pictures.sprite !== undefined
      : true;

describe('library items on the desktop API', () => {
  it('lists every item newest first with its pictures, serves them and the vault copy by capability, and takes titles and dates', async () => {
    const engine = await startTestDesktop();
    const { api } = engine;
    await api.post('/v1/vault', { password: TEST_PASSWORD });
    const media = join(await freshDir(), 'Family');
    await mkdir(media);
    await makeClip(media, 'cake.mp4', { seconds: 2 }); // creation_time 1994-12-25
    const exif = await sharp({
      create: { width: 64, height: 48, channels: 3, background: '#aa5522' },
    })
      .withExif({ IFD2: { DateTimeOriginal: '1998:06:20 15:45:00' } })
      .jpeg()
      .toBuffer();
    await writeFile(join(media, 'garden.jpg'), exif);
    const plain = await sharp({
      create: { width: 48, height: 64, channels: 3, background: '#2255aa' },
    })
      .png()
      .toBuffer();
    await writeFile(join(media, 'IMG_20190812_101010.png'), plain);
    await writeFile(join(media, 'notes.txt'), 'a list of names');

    const folder = (await api.post('/v1/library', { path: media })).body as AddedFolder;
    const items = await until(
      () => listItems(engine),
      (list) =>
        list.length === 4 &&
        list.every((i) => i.kind === 'other' || (i.capturedAt !== undefined && pictured(i))),
    );

    // Newest first; the note, never dated, last.
    expect(items.map((i) => i.name)).toEqual([
      'IMG_20190812_101010.png',
      'garden.jpg',
      'cake.mp4',
      'notes.txt',
    ]);
    const [png, jpg, clip, note] = items as [LibraryItem, LibraryItem, LibraryItem, LibraryItem];
    expect(jpg).toMatchObject({
      folderId: folder.id,
      folderName: 'Family',
      rel: 'garden.jpg',
      kind: 'photo',
      size: exif.length,
      encrypted: true,
      sourceExists: true,
      inVaultOnly: false,
      tape: false,
      capturedAt: '1998-06-20T15:45:00',
      capturedFrom: 'exif',
      width: 64,
      height: 48,
      browserPlayable: true,
      jobs: [],
    });
    expect(jpg.title).toBeUndefined();
    expect(jpg.attention).toBeUndefined();
    expect(jpg.pictures.thumb).toMatch(new RegExp(`^/pic/[\\w-]{32}/${jpg.id}/[0-9a-f]{32}$`));
    expect(jpg.mediaUrl).toMatch(new RegExp(`^/media/[\\w-]{32}/${jpg.id}$`));
    expect(png).toMatchObject({ capturedFrom: 'filename', browserPlayable: true });
    expect(png.capturedAt).toMatch(/^2019-08-12/);
    expect(clip).toMatchObject({
      kind: 'video',
      // An MP4's creation_time (capture-date.ts calls it the recording date).
      capturedFrom: 'recording',
      width: 320,
      height: 240,
      browserPlayable: true,
      tape: false,
    });
    expect(clip.capturedAt).toMatch(/^1994-12-25/);
    expect(clip.durationSeconds).toBeCloseTo(2, 0);
    expect(clip.pictures.thumb).toBe(clip.pictures.poster);
    expect(clip.pictures.spriteFrames).toBeGreaterThan(1);
    expect(note).toMatchObject({ kind: 'other', encrypted: false, browserPlayable: false });
    expect(note.capturedAt).toBeUndefined();
    expect(note.mediaUrl).toBeUndefined();
    expect(note.pictures).toEqual({});

    // A picture: a JPEG that decodes, never stored by the browser (its disk cache would keep
    // it in plain form after the vault is locked).
    const pic = await fetch(`${engine.url}${jpg.pictures.thumb!}`);
    expect(pic.status).toBe(200);
    expect(pic.headers.get('content-type')).toBe('image/jpeg');
    expect(pic.headers.get('cache-control')).toBe('no-store');
    const decoded = await sharp(Buffer.from(await pic.arrayBuffer())).metadata();
    expect(decoded).toMatchObject({ format: 'jpeg', width: 64, height: 48 });
    const poster = await fetch(`${engine.url}${clip.pictures.poster!}`);
    expect((await sharp(Buffer.from(await poster.arrayBuffer())).metadata()).format).toBe('jpeg');
    // No HEAD on the vault copy: Fastify would have answered one by decrypting it all.
    const head = await fetch(`${engine.url}${jpg.mediaUrl!}`, { method: 'HEAD' });
    expect(head.status).toBe(404);
    // A link whose capability has a non-ASCII character is refused, not a crash.
    const accented = jpg.pictures.thumb!.replace(/^\/pic\/./, '/pic/%C3%A9');
    expect((await fetch(`${engine.url}${accented}`)).status).toBe(401);

    // Without the item's own capability: refused, and never cached.
    const [, , cap, , name] = jpg.pictures.thumb!.split('/');
    const wrongCap = await fetch(`${engine.url}/pic/${'A'.repeat(32)}/${jpg.id}/${name}`);
    expect(wrongCap.status).toBe(401);
    expect(await wrongCap.json()).toMatchObject({ code: 'UNAUTHORIZED' });
    expect(wrongCap.headers.get('cache-control')).toBe('no-store');
    expect((await fetch(`${engine.url}/pic/${cap}/${png.id}/${name}`)).status).toBe(401);
    const unknown = await fetch(`${engine.url}/pic/${cap}/${jpg.id}/${'0'.repeat(32)}`);
    expect(unknown.status).toBe(404);
    const mediaCap = clip.mediaUrl!.split('/')[2]!;
    expect((await fetch(`${engine.url}/media/${mediaCap}/${jpg.id}`)).status).toBe(401);

    // The vault copy: ranges decrypt to exactly the original's bytes.
    const original = await readFile(join(media, 'cake.mp4'));
    const ranged = await fetch(`${engine.url}${clip.mediaUrl!}`, {
      headers: { range: 'bytes=100-4099' },
    });
    expect(ranged.status).toBe(206);
    expect(ranged.headers.get('content-range')).toBe(`bytes 100-4099/${original.length}`);
    expect(ranged.headers.get('content-type')).toBe('video/mp4');
    expect(ranged.headers.get('cache-control')).toBe('no-store');
    expect(Buffer.from(await ranged.arrayBuffer()).equals(original.subarray(100, 4100))).toBe(true);
    const whole = await fetch(`${engine.url}${clip.mediaUrl!}`);
    expect(whole.headers.get('accept-ranges')).toBe('bytes');
    expect(Buffer.from(await whole.arrayBuffer()).equals(original)).toBe(true);
    const beyond = await fetch(`${engine.url}${clip.mediaUrl!}`, {
      headers: { range: `bytes=${original.length}-` },
    });
    expect(beyond.status).toBe(416);

    // A title and a date: set, shown, ordered by; then cleared back to what the file says.
    const title = 'Christmas at Grandma’s 1989';
    const set = await patch(engine, png.id, { title, date: '1989-12-24' });
    expect(set.status).toBe(200);
    expect(set.body).toMatchObject({
      id: png.id,
      title,
      capturedAt: '1989-12-24T00:00:00',
      capturedFrom: 'user',
      pictures: png.pictures,
    });
    expect((await listItems(engine)).map((i) => i.name)).toEqual([
      'garden.jpg',
      'cake.mp4',
      'IMG_20190812_101010.png',
      'notes.txt',
    ]);
    // Only the date cleared: the title stays, the file's own date is back.
    const dateCleared = (await patch(engine, png.id, { date: null })).body as LibraryItem;
    expect(dateCleared).toMatchObject({ title, capturedFrom: 'filename' });
    const cleared = (await patch(engine, png.id, { title: null })).body as LibraryItem;
    expect(cleared.title).toBeUndefined();
    expect(cleared.capturedAt).toMatch(/^2019-08-12/);
    await patch(engine, clip.id, { title: 'The cake' });

    // Wrong input is refused in plain words; nothing changes.
    const badDate = await patch(engine, jpg.id, { date: '1989-13-40' });
    expect(badDate.status).toBe(400);
    expect(badDate.body).toMatchObject({ code: 'USAGE' });
    expect((badDate.body as { message: string }).message).toMatch(/is not a date.*1989-12-24/);
    const future = await patch(engine, jpg.id, { date: '2999-01-01' });
    expect((future.body as { message: string }).message).toMatch(/in the future/);
    const badTitle = await patch(engine, jpg.id, { title: 'two\nlines' });
    expect(badTitle.status).toBe(400);
    expect((badTitle.body as { message: string }).message).toMatch(/line breaks/);
    expect((await patch(engine, jpg.id, { colour: 'red' })).status).toBe(400);
    expect((await patch(engine, 'maaaaaaaaaaaa', { title: 'x' })).status).toBe(404);
    expect((await listItems(engine)).find((i) => i.id === jpg.id)).toMatchObject({
      capturedFrom: 'exif',
    });

    // Titles are as private as the items: not in the activity log, not on disk.
    const log = await api.get<ActivityEntry[]>('/v1/activity');
    expect(log.filter((e) => e.action === 'library.label').map((e) => e.detail)).toContain(
      'title set, date set',
    );
    expect(JSON.stringify(log)).not.toContain('Christmas');
    expect(await filesContaining(engine.session.dataDir, Buffer.from('The cake'))).toEqual([]);

    // An upload has no original on disk: it is in the vault only.
    const up = await fetch(`${engine.url}/v1/library/uploads`, {
      method: 'POST',
      headers: {
        authorization: `Bearer ${engine.token}`,
        'content-type': 'application/octet-stream',
        'x-file-name': 'scan.png',
      },
      body: new Uint8Array(plain),
    });
    expect(up.status).toBe(201);
    const uploaded = (await listItems(engine)).find((i) => i.name === 'scan.png');
    expect(uploaded).toMatchObject({
      folderName: 'Uploaded files',
      encrypted: true,
      sourceExists: false,
      inVaultOnly: true,
    });

    // Locked: no picture, no video, no dates or titles, no labels set.
    expect((await api.post('/v1/vault/lock')).status).toBe(204);
    const lockedPic = await fetch(`${engine.url}${jpg.pictures.thumb!}`);
    expect(lockedPic.status).toBe(401);
    expect(await lockedPic.json()).toMatchObject({ code: 'PASSWORD_REQUIRED' });
    expect(lockedPic.headers.get('cache-control')).toBe('no-store');
    const lockedMedia = await fetch(`${engine.url}${clip.mediaUrl!}`);
    expect(await lockedMedia.json()).toMatchObject({ code: 'PASSWORD_REQUIRED' });
    const locked = await listItems(engine);
    expect(locked).toHaveLength(5);
    expect(locked.every((i) => i.capturedAt === undefined && i.title === undefined)).toBe(true);
    expect((await patch(engine, jpg.id, { title: 'x' })).body).toMatchObject({
      code: 'PASSWORD_REQUIRED',
    });
  });
});
