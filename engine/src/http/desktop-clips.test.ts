// A tape's clips on a real engine with a real generated video: the cut list saved as
// versions against the length and frame rate read from the vault copy (never the
// editor's), a stale save refused, the CSV form downloaded and imported, photos and a
// locked vault refused, and no title in the log or on disk.

import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import sharp from 'sharp';
import { describe, expect, it } from 'vitest';
import type { CutListView } from '../net/desktop-clip-contract';
import type { ActivityEntry, LibraryItem } from '../net/desktop-contract';
import { TEST_PASSWORD, startTestDesktop, until, type TestDesktop } from '../testing/desktop';
import { filesContaining } from '../testing/marker';
import { makeClip } from '../testing/media';
import { freshDir } from '../testing/tmp';

const TITLE = 'Grandma blows out the candles';

const clipsPath = (id: string) => `/v1/library/files/${id}/clips`;

async function send(
  engine: TestDesktop,
  method: string,
  path: string,
  body?: string,
  type = 'text/csv',
) {
  const res = await fetch(`${engine.url}${path}`, {
    method,
    headers: {
      authorization: `Bearer ${engine.token}`,
      ...(body === undefined ? {} : { 'content-type': type }),
    },
    body,
  });
  return res;
}

describe("a tape's clips on the desktop API", () => {
  it('saves versions checked against the tape, refuses a stale save, and round-trips CSV', async () => {
    const engine = await startTestDesktop();
    const { api } = engine;
    await api.post('/v1/vault', { password: TEST_PASSWORD });
    const media = join(await freshDir(), 'Tapes');
    await mkdir(media);
    await makeClip(media, 'christmas.mp4', { seconds: 6 });
    const photo = await sharp({
      create: { width: 32, height: 24, channels: 3, background: '#884422' },
    })
      .jpeg()
      .toBuffer();
    await writeFile(join(media, 'card.jpg'), photo);
    await api.post('/v1/library', { path: media });
    const items = await until(
      () => api.get<{ items: LibraryItem[] }>('/v1/library/items').then((r) => r.items),
      (list) => list.length === 2 && list.every((i) => i.capturedAt !== undefined),
    );
    const tape = items.find((i) => i.kind === 'video')!;
    const card = items.find((i) => i.kind === 'photo')!;

    // Nothing saved yet: version 0, the tape's own length and frame rate.
    const empty = await api.get<CutListView>(clipsPath(tape.id));
    expect(empty).toMatchObject({ version: 0, latest: 0, clips: [], versions: [], fps: 25 });
    expect(empty.duration).toBeCloseTo(6, 1);

    // Saved as version 1, boundaries snapped to the tape's frames (2.01 s → frame 50).
    const first = await api.call('PUT', clipsPath(tape.id), {
      basedOn: 0,
      duration: empty.duration,
      clips: [
        { start: 0, end: 2.01, title: TITLE, date: '1994-12-25' },
        { start: 2.01, end: empty.duration },
      ],
    });
    expect(first.status).toBe(200);
    const v1 = first.body as CutListView;
    expect(v1).toMatchObject({ version: 1, latest: 1 });
    expect(v1.clips).toEqual([
      { start: 0, end: 2, title: TITLE, date: '1994-12-25' },
      { start: 2, end: empty.duration },
    ]);

    // Another window still editing version 0 overwrites nothing.
    const stale = await api.call('PUT', clipsPath(tape.id), {
      basedOn: 0,
      clips: [{ start: 0, end: 3 }],
    });
    expect(stale.status).toBe(409);
    expect(stale.body).toMatchObject({ code: 'CUT_LIST_CHANGED' });

    // The tape's length is the engine's: a clip past it, or another length, is refused.
    const past = await api.call('PUT', clipsPath(tape.id), {
      basedOn: 1,
      clips: [{ start: 0, end: 60 }],
    });
    expect(past.status).toBe(422);
    expect(past.body).toMatchObject({ code: 'CUT_LIST_INVALID' });
    expect((past.body as { message: string }).message).toMatch(/after the tape ends/);
    const otherTape = await api.call('PUT', clipsPath(tape.id), {
      basedOn: 1,
      duration: 60,
      clips: [{ start: 0, end: 50 }],
    });
    expect(otherTape.status).toBe(422);

    // A removed clip goes in version 2; version 1 is still there to go back to.
    const v2 = (await api.call('PUT', clipsPath(tape.id), { basedOn: 1, clips: [v1.clips[0]] }))
      .body as CutListView;
    expect(v2).toMatchObject({ version: 2, latest: 2, clips: [v1.clips[0]] });
    expect(v2.versions.map((v) => v.version)).toEqual([2, 1]);
    const old = await api.get<CutListView>(`${clipsPath(tape.id)}?version=1`);
    expect(old).toMatchObject({ version: 1, latest: 2, clips: v1.clips });
    const missing = await api.call('GET', `${clipsPath(tape.id)}?version=9`);
    expect(missing.status).toBe(404);

    // CSV out: an attachment named after the tape, one row per clip.
    const csv = await send(engine, 'GET', `${clipsPath(tape.id)}.csv?version=1`);
    expect(csv.status).toBe(200);
    expect(csv.headers.get('content-type')).toMatch(/^text\/csv/);
    expect(csv.headers.get('content-disposition')).toContain('filename="christmas clips.csv"');
    expect(await csv.text()).toBe(
      'start,end,title,date\r\n' +
        `0:00:00.000,0:00:02.000,${TITLE},1994-12-25\r\n` +
        `0:00:02.000,${csvEnd(empty.duration)},,\r\n`,
    );

    // CSV in: a new version from a spreadsheet's rows, based on the newest.
    const edited =
      'start,end,title,date\n0:00,0:01.6,Candles,1994-12-25\n0:03,0:05,"Presents, then cake",\n';
    const imported = await send(engine, 'POST', `${clipsPath(tape.id)}.csv?basedOn=2`, edited);
    expect(imported.status).toBe(200);
    expect((await imported.json()) as CutListView).toMatchObject({
      version: 3,
      clips: [
        { start: 0, end: 1.6, title: 'Candles', date: '1994-12-25' },
        { start: 3, end: 5, title: 'Presents, then cake' },
      ],
    });
    // A bad row is named by its number in the file; a stale import is refused too.
    const badRow = await send(
      engine,
      'POST',
      `${clipsPath(tape.id)}.csv?basedOn=3`,
      'start,end\n0:00,0:02\n0:01,0:99\n',
    );
    expect(badRow.status).toBe(422);
    expect(((await badRow.json()) as { message: string }).message).toMatch(/^row 3:/);
    const asJson = await send(
      engine,
      'POST',
      `${clipsPath(tape.id)}.csv?basedOn=3`,
      JSON.stringify(edited),
      'application/json',
    );
    expect(await asJson.json()).toMatchObject({ code: 'UNSUPPORTED_MEDIA_TYPE' });
    const staleCsv = await send(engine, 'POST', `${clipsPath(tape.id)}.csv?basedOn=2`, edited);
    expect(staleCsv.status).toBe(409);
    const huge = await send(
      engine,
      'POST',
      `${clipsPath(tape.id)}.csv?basedOn=3`,
      'start,end\n' + '0:00,0:01\n'.repeat(120_000),
    );
    expect(huge.status).toBe(413);
    expect(await huge.json()).toMatchObject({ code: 'TOO_LARGE' });

    // Photos have no clips.
    const ofPhoto = await api.call('GET', clipsPath(card.id));
    expect(ofPhoto.status).toBe(400);
    expect((ofPhoto.body as { message: string }).message).toMatch(/only videos/);

    // The log says what happened, never a title; nothing plain on disk either.
    const log = await api.get<ActivityEntry[]>('/v1/activity');
    const lines = log.filter((e) => e.action.startsWith('tape.clips'));
    expect(lines.map((e) => e.detail)).toEqual([
      'version 3 from a CSV file: 2 clips',
      '2 clips',
      'version 2: 1 clip',
      'version 1: 2 clips',
    ]);
    expect(JSON.stringify(log)).not.toContain('Candles');
    expect(await filesContaining(engine.session.dataDir, Buffer.from(TITLE))).toEqual([]);
    expect(await filesContaining(engine.session.dataDir, Buffer.from('Candles'))).toEqual([]);

    // Locked: the usual answer, and nothing of the list.
    expect((await api.post('/v1/vault/lock')).status).toBe(204);
    const locked = await api.call('GET', clipsPath(tape.id));
    expect(locked.body).toMatchObject({ code: 'PASSWORD_REQUIRED' });
    await engine.close();
  });

  it('makes the saved clips into library items of their own, each once, with pictures', async () => {
    const engine = await startTestDesktop();
    const { api } = engine;
    await api.post('/v1/vault', { password: TEST_PASSWORD });
    const media = join(await freshDir(), 'Tapes');
    await mkdir(media);
    await makeClip(media, 'tape 3.mp4', { seconds: 6 });
    await api.post('/v1/library', { path: media });
    const [tape] = await until(
      () => api.get<{ items: LibraryItem[] }>('/v1/library/items').then((r) => r.items),
      (list) => list.length === 1 && list[0]!.durationSeconds !== undefined,
    );
    // Nothing saved yet: nothing to make, said so.
    const unsaved = await api.call('POST', `${clipsPath(tape!.id)}/make`);
    expect(unsaved.body).toMatchObject({ code: 'NOT_FOUND' });

    const saved = await api.call('PUT', clipsPath(tape!.id), {
      basedOn: 0,
      clips: [
        { start: 0, end: 2, title: TITLE, date: '1994-12-25' },
        { start: 2, end: tape!.durationSeconds! },
      ],
    });
    expect(saved.status).toBe(200);
    const made = await api.call('POST', `${clipsPath(tape!.id)}/make`);
    expect(made.status).toBe(202);
    expect(made.body).toMatchObject({ version: 1, started: 2, kept: 0, running: 0 });

    // Each finished clip joins the library with its title and date, and gets a poster.
    const clips = await until(
      () => api.get<{ items: LibraryItem[] }>('/v1/library/items').then((r) => r.items),
      (list) =>
        list.filter((i) => i.rel.startsWith('Clips of tape 3/') && i.pictures.poster).length === 2,
      90_000,
    ).then((list) => list.filter((i) => i.rel.startsWith('Clips of tape 3/')));
    const first = clips.find((c) => c.title === TITLE);
    expect(first).toMatchObject({ kind: 'video', encrypted: true, inVaultOnly: true });
    expect(first!.capturedAt).toMatch(/^1994-12-25/);
    expect(first!.durationSeconds).toBeCloseTo(2, 1);

    // Asked again: nothing is made twice.
    const again = await api.call('POST', `${clipsPath(tape!.id)}/make`);
    expect(again.body).toMatchObject({ started: 0, kept: 2 });
    const log = await api.get<ActivityEntry[]>('/v1/activity');
    expect(log.filter((e) => e.action === 'library.clip' && e.outcome === 'ok')).toHaveLength(2);
    expect(JSON.stringify(log)).not.toContain(TITLE);
    expect(await filesContaining(engine.session.dataDir, Buffer.from(TITLE))).toEqual([]);
    await engine.close();
  });
});

/** 5.98 → "0:00:05.980", as the CSV writes times. */
function csvEnd(seconds: number): string {
  return `0:00:${seconds.toFixed(3).padStart(6, '0')}`;
}
