// What the desktop remembers for the family, on a real engine and a real SQLite file: the
// folder automated delivery last used (a setting, kept across a restart on a new port),
// recently watched (item ids and times only, newest first, capped, gone with the item),
// and where automated delivery put a job's results (so the job can say so).

import { access, mkdir, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { runDesktop } from '../desktop/desktop-entry';
import type { AddedFolder, DesktopJob, FileView, WatchedList } from '../net/desktop-contract';
import { TEST_PASSWORD, desktopApi, startTestDesktop, until } from '../testing/desktop';
import { makeClip, testScratch } from '../testing/media';
import { TEST_SCRYPT, freshDir } from '../testing/tmp';

const patch = (api: ReturnType<typeof desktopApi>, path: string, body: unknown) =>
  api.call('PATCH', path, body);

describe('remembered choices on the desktop API', () => {
  it('keeps the delivery folder as a setting, refuses a relative one, and still has it after a restart', async () => {
    const engine = await startTestDesktop();
    const { api } = engine;
    expect(await api.get('/v1/settings')).toEqual({ encryptOnAdd: true });
    const bad = await patch(api, '/v1/settings', { deliveryFolder: 'Videos/Keepsake' });
    expect(bad.status).toBe(400);
    expect(bad.body).toMatchObject({ code: 'USAGE' });
    expect((await patch(api, '/v1/settings', { deliveryFolder: '/home/a/../b' })).status).toBe(400);
    const chosen = join(await freshDir(), 'Videos', 'Keepsake');
    const saved = await patch(api, '/v1/settings', { deliveryFolder: chosen });
    expect(saved).toEqual({ status: 200, body: { encryptOnAdd: true, deliveryFolder: chosen } });
    // Changing another setting keeps it.
    await patch(api, '/v1/settings', { encryptOnAdd: false });
    expect(await api.get('/v1/settings')).toEqual({ encryptOnAdd: false, deliveryFolder: chosen });

    // A new launch (in the app, on a new port: a new browser origin) on the same data folder.
    const dataDir = engine.session.dataDir;
    await engine.close();
    const again = await runDesktop({
      dataDir,
      out: { write: () => true } as unknown as NodeJS.WritableStream,
      session: { scrypt: TEST_SCRYPT, scratch: await testScratch() },
    });
    try {
      expect(await desktopApi(again).get('/v1/settings')).toEqual({
        encryptOnAdd: false,
        deliveryFolder: chosen,
      });
    } finally {
      await again.close();
    }
  });

  it('lists recently watched as ids and times, newest first, at most 50, skipping unknown ids and dropping removed items', async () => {
    const engine = await startTestDesktop();
    const { api } = engine;
    await api.post('/v1/vault', { password: TEST_PASSWORD });
    const media = join(await freshDir(), 'Family');
    await mkdir(media);
    // 55 small files are 55 library items (kind "other"): enough to pass the cap.
    for (let i = 0; i < 55; i++) await writeFile(join(media, `note-${i}.txt`), `note ${i}`);
    const folder = (await api.post('/v1/library', { path: media })).body as AddedFolder;
    const files = await api.get<FileView[]>(`/v1/library/${folder.id}/files`);
    expect(files).toHaveLength(55);
    const ids = files.map((f) => f.id);
    const watched = async () =>
      (await api.get<WatchedList>('/v1/library/watched')).items.map((w) => w.fileId);

    expect(await api.get('/v1/library/watched')).toEqual({ items: [] });
    const first = await api.post('/v1/library/watched', { fileIds: [ids[0]] });
    expect(first.status).toBe(200);
    const entry = (first.body as WatchedList).items[0]!;
    // Ids and times only: nothing that names the item.
    expect(Object.keys(entry).sort()).toEqual(['fileId', 'watchedAt']);
    expect(entry.fileId).toBe(ids[0]);
    await new Promise((r) => setTimeout(r, 5));
    await api.post('/v1/library/watched', { fileIds: [ids[1]] });
    expect(await watched()).toEqual([ids[1], ids[0]]);
    // Watching again moves it to the front, once.
    await new Promise((r) => setTimeout(r, 5));
    await api.post('/v1/library/watched', { fileIds: [ids[0]] });
    expect(await watched()).toEqual([ids[0], ids[1]]);

    // An id the library does not hold is skipped; one that is not an id is refused.
    const unknown = await api.post('/v1/library/watched', { fileIds: ['maaaaaaaaaaaa'] });
    expect(unknown.status).toBe(200);
    expect(await watched()).toEqual([ids[0], ids[1]]);
    expect((await api.post('/v1/library/watched', { fileIds: ['../etc'] })).status).toBe(400);
    expect((await api.post('/v1/library/watched', { fileIds: [] })).status).toBe(400);

    // A list (newest first, as an old browser kept it) keeps its order, each a millisecond
    // older than the one before; the cap holds. (The waits keep the lists' times apart.)
    await new Promise((r) => setTimeout(r, 100));
    await api.post('/v1/library/watched', { fileIds: ids.slice(5, 55) });
    await new Promise((r) => setTimeout(r, 100));
    await api.post('/v1/library/watched', { fileIds: ids.slice(2, 5) });
    const capped = await watched();
    expect(capped).toHaveLength(50);
    expect(capped).toEqual([...ids.slice(2, 5), ...ids.slice(5, 52)]);

    // Removing the folder with its copies removes its items, and so their entries.
    expect((await api.call('DELETE', `/v1/library/${folder.id}?deleteEncrypted=true`)).status).toBe(
      204,
    );
    expect(await watched()).toEqual([]);
  });

  it("says where automated delivery put a job's results, and forgets it with the job", async () => {
    const engine = await startTestDesktop();
    const { api } = engine;
    await api.post('/v1/vault', { password: TEST_PASSWORD });
    const media = join(await freshDir(), 'Family');
    await mkdir(media);
    await makeClip(media, 'cake.mp4', { seconds: 1 });
    const folder = (await api.post('/v1/library', { path: media, encrypt: true }))
      .body as AddedFolder;
    const cake = await until(
      () => api.get<FileView[]>(`/v1/library/${folder.id}/files`),
      (list) => list[0]?.encrypted === true,
    ).then((list) => list[0]!);

    const out = join(await freshDir(), 'Videos', 'Keepsake');
    const made = (
      await api.post('/v1/jobs', {
        fileId: cake.id,
        preset: 'web-h264',
        mode: 'automated',
        outDir: out,
      })
    ).body as DesktopJob;
    expect(made.delivery).toBeUndefined();
    const done = await until(
      () => api.get<DesktopJob>(`/v1/jobs/${made.id}`),
      (j) => j.delivery?.state === 'saved' || j.delivery?.state === 'failed',
    );
    expect(done.state).toBe('succeeded');
    expect(done.delivery).toEqual({ state: 'saved', path: join(out, 'cake (web-h264).mp4') });
    if (done.delivery?.state !== 'saved') throw new Error('not saved');
    expect(dirname(done.delivery.path)).toBe(out);
    await access(done.delivery.path);

    // A job kept in the vault (not delivered) says nothing of a folder.
    const manual = (await api.post('/v1/jobs', { fileId: cake.id, preset: 'web-h264' }))
      .body as DesktopJob;
    const kept = await until(
      () => api.get<DesktopJob>(`/v1/jobs/${manual.id}`),
      (j) => j.state === 'succeeded',
    );
    expect(kept.delivery).toBeUndefined();

    expect((await api.call('DELETE', `/v1/jobs/${made.id}`)).status).toBe(204);
    expect(engine.session.delivery(made.id)).toBeUndefined();
  });
});
