// The desktop library API on a real engine: uploads encrypted as they stream in (no
// plaintext in the data folder), "Save a copy" byte-identical with the original time,
// folders protected on add, and a Remove that keeps what it says it keeps.

import { request } from 'node:http';
import { randomBytes } from 'node:crypto';
import { mkdir, readFile, readdir, rm, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import sharp from 'sharp';
import { describe, expect, it } from 'vitest';
import { filesContaining } from '../testing/marker';
import { TEST_PASSWORD, startTestDesktop, until, type TestDesktop } from '../testing/desktop';
import { freshDir } from '../testing/tmp';
import type {
  ActivityEntry,
  AddedFolder,
  FileView,
  FolderView,
  RemovalImpact,
  SaveTaskView,
  UploadedFile,
} from '../net/desktop-contract';

const upload = (
  engine: TestDesktop,
  name: string,
  body: Buffer,
  headers: Record<string, string> = {},
) =>
  fetch(`${engine.url}/v1/library/uploads`, {
    method: 'POST',
    headers: {
      authorization: `Bearer ${engine.token}`,
      'content-type': 'application/octet-stream',
      'x-file-name': encodeURIComponent(name),
      ...headers,
    },
    body: new Uint8Array(body),
  });

/** Media bytes with a marker that must never appear in the data folder in the clear. */
function markedMedia(size: number): { bytes: Buffer; marker: Buffer } {
  const marker = randomBytes(24);
  const bytes = randomBytes(size);
  marker.copy(bytes, 1000);
  marker.copy(bytes, size - 100);
  return { bytes, marker };
}

async function saveCopy(engine: TestDesktop, fileId: string, dir: string): Promise<SaveTaskView> {
  const started = await engine.api.post(`/v1/library/files/${fileId}/save`, { dir });
  expect(started.status).toBe(202);
  return until(
    () => engine.api.get<SaveTaskView>(`/v1/saves/${(started.body as SaveTaskView).id}`),
    (t) => t.state !== 'running',
  );
}

describe('desktop library API', () => {
  it('encrypts uploads as they stream in: no plaintext on disk, the file’s own time kept, Save a copy restores it', async () => {
    const engine = await startTestDesktop();
    const { api } = engine;
    const { bytes, marker } = markedMedia(300_000);
    const mtime = Date.UTC(2004, 6, 14, 10, 30);

    // Locked (here: not even created), an upload is refused before a byte is kept.
    expect((await upload(engine, 'clip.mp4', bytes)).status).toBe(401);
    expect((await api.post('/v1/vault', { password: TEST_PASSWORD })).status).toBe(201);

    const res = await upload(engine, 'Holiday/clip one.mp4', bytes, {
      'x-file-mtime': String(mtime),
    });
    expect(res.status).toBe(201);
    const file = (await res.json()) as UploadedFile;
    expect(file).toMatchObject({
      rel: 'Holiday/clip one.mp4',
      kind: 'video',
      size: 300_000,
      mtimeMs: mtime,
      encrypted: true,
      sourceExists: false,
      alreadyThere: false,
    });
    expect(await filesContaining(engine.session.dataDir, marker)).toEqual([]);
    const [folder] = await api.get<FolderView[]>('/v1/library');
    expect(folder).toMatchObject({
      name: 'Uploaded files',
      source: 'upload',
      encrypted: 1,
      pending: 0,
      vaultOnly: 1,
    });

    // The same file again is kept once; another file of that name gets the next name.
    const again = await upload(engine, 'Holiday/clip one.mp4', bytes, {
      'x-file-mtime': String(mtime),
    });
    expect(again.status).toBe(200);
    expect(((await again.json()) as UploadedFile).alreadyThere).toBe(true);
    const other = await upload(engine, 'Holiday/clip one.mp4', randomBytes(1000));
    expect(((await other.json()) as UploadedFile).rel).toBe('Holiday/clip one 2.mp4');

    // Save a copy: byte-identical, under its own name and time, never over another file.
    const out = await freshDir();
    const saved = await saveCopy(engine, file.id, out);
    expect(saved).toMatchObject({ state: 'done', bytes: 300_000, total: 300_000 });
    expect(saved.path).toBe(join(out, 'clip one.mp4'));
    expect((await readFile(saved.path!)).equals(bytes)).toBe(true);
    expect((await stat(saved.path!)).mtimeMs).toBe(mtime);
    const second = await saveCopy(engine, file.id, out);
    expect(second.path).toBe(join(out, 'clip one 2.mp4'));

    for (const bad of ['../escape.mp4', '.hidden.mp4', 'a/../../b.mp4', '']) {
      expect((await upload(engine, bad, bytes)).status).toBe(400);
    }
    expect((await upload(engine, 'x.mp4', bytes, { 'content-type': 'text/plain' })).status).toBe(
      415,
    );
    // The engine's own data folder cannot be added as a library folder.
    expect((await api.post('/v1/library', { path: engine.session.dataDir })).status).toBe(400);
  });

  it('an upload cut short keeps nothing: no item, no partial file, no plaintext', async () => {
    const engine = await startTestDesktop();
    await engine.api.post('/v1/vault', { password: TEST_PASSWORD });
    const { bytes, marker } = markedMedia(400_000);
    const url = new URL(`${engine.url}/v1/library/uploads`);
    await new Promise<void>((resolve) => {
      const req = request({
        host: url.hostname,
        port: url.port,
        path: url.pathname,
        method: 'POST',
        headers: {
          authorization: `Bearer ${engine.token}`,
          'content-type': 'application/octet-stream',
          'content-length': String(bytes.length),
          'x-file-name': 'cut.mp4',
        },
      });
      req.on('error', () => resolve());
      req.write(bytes.subarray(0, 200_000), () => setTimeout(() => req.destroy(), 100));
      req.on('close', () => resolve());
    });
    await new Promise((r) => setTimeout(r, 300));
    const folders = await engine.api.get<FolderView[]>('/v1/library');
    const files = folders.length
      ? await engine.api.get<FileView[]>(`/v1/library/${folders[0]!.id}/files`)
      : [];
    expect(files).toEqual([]);
    const left = await readdir(join(engine.session.dataDir, 'library'), {
      recursive: true,
    }).catch(() => []);
    expect(left.filter((name) => name.endsWith('.ksv') || name.includes('.ks-tmp-'))).toEqual([]);
    expect(await filesContaining(engine.session.dataDir, marker)).toEqual([]);
  });

  it('protects a folder on add, and what was added while locked as soon as it opens', async () => {
    const engine = await startTestDesktop();
    const { api } = engine;
    await api.post('/v1/vault', { password: TEST_PASSWORD });
    const media = await freshDir();
    await writeFile(join(media, 'a.mp4'), randomBytes(5000));
    await writeFile(join(media, 'b.jpg'), randomBytes(5000));

    const added = await api.post('/v1/library', { path: media });
    expect(added.status).toBe(201);
    const id = (added.body as AddedFolder).id;
    await until(
      () => api.get<FolderView[]>('/v1/library'),
      (f) => f[0]?.encrypted === 2 && f[0].pending === 0,
    );

    // Adding it again says so and adds nothing.
    const again = await api.post('/v1/library', { path: media });
    expect(again.status).toBe(200);
    expect((again.body as AddedFolder).notice).toMatch(/already in your library/);

    // With the setting off, a new folder waits for "Encrypt".
    expect((await api.call('PATCH', '/v1/settings', { encryptOnAdd: false })).body).toEqual({
      encryptOnAdd: false,
    });
    const later = await freshDir();
    await writeFile(join(later, 'c.mp4'), randomBytes(5000));
    const off = (await api.post('/v1/library', { path: later })).body as AddedFolder;
    await new Promise((r) => setTimeout(r, 300));
    expect((await api.get<FolderView[]>('/v1/library')).find((f) => f.id === off.id)).toMatchObject(
      { encrypted: 0, pending: 1 },
    );

    // Setting on, vault locked: the new file is protected at the next unlock.
    await api.call('PATCH', '/v1/settings', { encryptOnAdd: true });
    await writeFile(join(media, 'd.mp4'), randomBytes(5000));
    expect((await api.post('/v1/vault/lock')).status).toBe(204);
    await api.post(`/v1/library/${id}/rescan`);
    expect((await api.post('/v1/vault/unlock', { password: TEST_PASSWORD })).status).toBe(204);
    await until(
      () => api.get<FolderView[]>('/v1/library'),
      (f) => f.find((x) => x.id === id)?.encrypted === 3 && f.every((x) => x.pending === 0),
    );
  });

  it('reads each protected item in the background: its capture date and picture, a damaged one flagged', async () => {
    const engine = await startTestDesktop();
    const { api } = engine;
    await api.post('/v1/vault', { password: TEST_PASSWORD });
    const media = await freshDir();
    // A marker in the photo's EXIF: read in memory only, it must never be on disk in the clear.
    const marker = randomBytes(16).toString('hex');
    const photo = await sharp({
      create: { width: 40, height: 30, channels: 3, background: '#336699' },
    })
      .withExif({
        IFD0: { Model: `Camera ${marker}` },
        IFD2: { DateTimeOriginal: '1998:06:20 15:45:00' },
      })
      .jpeg()
      .toBuffer();
    expect(photo.includes(marker)).toBe(true);
    await writeFile(join(media, 'scan 017.jpg'), photo);
    await writeFile(join(media, '2003-05-04 garden.mp4'), randomBytes(20_000));

    const { id } = (await api.post('/v1/library', { path: media })).body as AddedFolder;
    const files = await until(
      () => api.get<FileView[]>(`/v1/library/${id}/files`),
      (list) => list.length === 2 && list.every((f) => f.info !== undefined),
    );
    const byRel = Object.fromEntries(files.map((f) => [f.rel, f.info]));
    expect(byRel['scan 017.jpg']).toEqual({
      capturedAt: '1998-06-20T15:45:00',
      capturedFrom: 'exif',
      width: 40,
      height: 30,
      rotation: 0,
      hasAudio: false,
      model: `Camera ${marker}`,
    });
    expect(await filesContaining(engine.session.dataDir, Buffer.from(marker))).toEqual([]);
    expect(byRel['2003-05-04 garden.mp4']).toMatchObject({
      capturedAt: '2003-05-04',
      capturedFrom: 'filename',
      attention: 'damaged',
    });
    expect((await api.get<ActivityEntry[]>('/v1/activity')).map((a) => a.action)).toContain(
      'library.read',
    );
  });

  it('Remove says what it would delete, keeps the encrypted copies unless asked, and deletes them when asked', async () => {
    const engine = await startTestDesktop();
    const { api } = engine;
    await api.post('/v1/vault', { password: TEST_PASSWORD });
    const media = await freshDir();
    await mkdir(join(media, 'Tapes'));
    const tape = randomBytes(8000);
    await writeFile(join(media, 'Tapes', 'tape1.mp4'), tape);
    await writeFile(join(media, 'beach.jpg'), randomBytes(3000));
    const folder = (await api.post('/v1/library', { path: media })).body as AddedFolder;
    await until(
      () => api.get<FolderView[]>('/v1/library'),
      (f) => f[0]?.encrypted === 2,
    );

    // The original is deleted from disk: the item stays, in the vault only.
    await rm(join(media, 'Tapes', 'tape1.mp4'));
    await api.post(`/v1/library/${folder.id}/rescan`);
    const files = await api.get<FileView[]>(`/v1/library/${folder.id}/files`);
    const gone = files.find((f) => f.rel === 'Tapes/tape1.mp4')!;
    expect(gone).toMatchObject({ encrypted: true, sourceExists: false });
    // …and it can be brought back.
    const out = await freshDir();
    const saved = await saveCopy(engine, gone.id, out);
    expect((await readFile(saved.path!)).equals(tape)).toBe(true);

    const impact = await api.get<RemovalImpact>(`/v1/library/${folder.id}/removal`);
    expect(impact).toMatchObject({ encrypted: { files: 2 }, onlyCopies: { files: 1 } });

    expect((await api.call('DELETE', `/v1/library/${folder.id}`)).status).toBe(204);
    const [kept] = await api.get<FolderView[]>('/v1/library');
    expect(kept).toMatchObject({ id: folder.id, watching: false, encrypted: 2 });
    expect(await api.get<FileView[]>(`/v1/library/${folder.id}/files`)).toHaveLength(2);

    expect((await api.call('DELETE', `/v1/library/${folder.id}?deleteEncrypted=true`)).status).toBe(
      204,
    );
    expect(await api.get<FolderView[]>('/v1/library')).toEqual([]);
    const copies = await readdir(join(engine.session.dataDir, 'library'), {
      recursive: true,
    }).catch(() => []);
    expect(copies.filter((n) => n.endsWith('.ksv'))).toEqual([]);
    // The sources are never touched.
    expect(await readdir(media)).toEqual(expect.arrayContaining(['beach.jpg', 'Tapes']));
  });

  it('refuses upload names with control characters or line breaks, or over 255 bytes, with a 400', async () => {
    const engine = await startTestDesktop();
    expect((await engine.api.post('/v1/vault', { password: TEST_PASSWORD })).status).toBe(201);
    const bytes = randomBytes(1000);
    for (const name of [
      'a\nb.mp4',
      'Holiday/clip\r.mp4',
      'x\u001b[31mred.mp4',
      'tab\there.jpg',
      'line\u2028sep.jpg',
      `${'a'.repeat(300)}.mp4`,
      `Holiday/${'é'.repeat(128)}.jpg`, // 256 bytes in UTF-8
    ]) {
      const res = await upload(engine, name, bytes);
      expect(res.status, name).toBe(400);
      const body = (await res.json()) as { code: string; message: string };
      expect(body.code, name).toBe('INVALID_FILE_NAME');
      expect(body.message).toMatch(/rename the file/i);
    }
    // Nothing was kept, and a long name just under the limit still goes in.
    expect((await upload(engine, `${'b'.repeat(251)}.mp4`, bytes)).status).toBe(201);
    const [folder] = await engine.api.get<FolderView[]>('/v1/library');
    const files = await engine.api.get<FileView[]>(`/v1/library/${folder!.id}/files`);
    expect(files.map((f) => f.rel)).toEqual([`${'b'.repeat(251)}.mp4`]);
  });
});
