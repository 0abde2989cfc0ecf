// The desktop API's job rules that protect a family's work, on a real embedded engine with
// real FFmpeg: a lock never silently stops a job (it asks, then waits or requeues without
// using up an attempt), and a preset that cannot take a file is refused at submit.

import { randomBytes } from 'node:crypto';
import { mkdir, readFile, readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { databasePath } from '../jobs/db';
import { SqliteJobQueue } from '../jobs/sqlite-queue';
import { pairWithServer } from '../net/pair-client';
import { saveRemote } from '../remote/remotes';
import {
  TEST_PASSWORD as PASSWORD,
  startTestDesktop as desktopForTest,
  until,
  type DesktopApi as Api,
} from '../testing/desktop';
import { makeClip, testScratch } from '../testing/media';
import { freshDir } from '../testing/tmp';
import type { DesktopJob, FileView, FolderView } from '../net/desktop-contract';
import { createPairingCode } from '../net/pairing';
import { startServe } from '../serve/serve';
import { parseServeConfig } from './serve-config';

/** A vault, a folder with a video and a photo, both encrypted. */
async function library(a: Api, clip: { seconds: number; size?: string }) {
  expect((await a.post('/v1/vault', { password: PASSWORD })).status).toBe(201);
  const media = join(await freshDir(), 'Family');
  await mkdir(media, { recursive: true });
  await makeClip(media, 'tape.mp4', clip);
  await makeClip(media, 'photo.png', { still: true });
  const folder = (await a.post('/v1/library', { path: media })).body as FolderView;
  await a.post(`/v1/library/${folder.id}/encrypt`);
  await until(
    () => a.get<FolderView[]>('/v1/library'),
    (list) => list[0]!.encrypted === 2 && !list[0]!.encrypting,
    20_000,
  );
  const files = await a.get<FileView[]>(`/v1/library/${folder.id}/files`);
  return {
    video: files.find((f) => f.kind === 'video')!,
    photo: files.find((f) => f.kind === 'photo')!,
  };
}

const running = (a: Api, id: string) =>
  until(
    () => a.get<DesktopJob>(`/v1/jobs/${id}`),
    (j) => j.state === 'running' && (j.progress?.percent ?? 0) > 0,
  );

describe('desktop jobs', () => {
  it('a lock with jobs running asks first; "stop" requeues them with no attempt used', async () => {
    const engine = await desktopForTest();
    const { api: a } = engine;
    const { video } = await library(a, { seconds: 60, size: '640x360' });
    const job = (await a.post('/v1/jobs', { fileId: video.id, preset: 'archive-hevc' }))
      .body as DesktopJob;
    expect((await running(a, job.id)).attempts).toBe(1);

    const refused = await a.post('/v1/vault/lock');
    expect(refused).toMatchObject({
      status: 409,
      body: { code: 'JOBS_RUNNING', message: expect.stringMatching(/^1 job is running/) as string },
    });
    // Nothing changed: still unlocked, the job still runs.
    expect(await a.get('/v1/vault')).toMatchObject({ unlocked: true });
    expect((await a.get<DesktopJob>(`/v1/jobs/${job.id}`)).state).toBe('running');

    expect((await a.post('/v1/vault/lock', { jobs: 'stop' })).status).toBe(204);
    expect(await a.get('/v1/vault')).toMatchObject({ unlocked: false });
    // Read beside the engine: back in the queue, its attempt given back, no failure.
    const queue = new SqliteJobQueue(databasePath(engine.session.dataDir));
    const stopped = await queue.get(job.id);
    const events = (await queue.events(job.id)).map((e) => `${e.kind}:${e.detail ?? ''}`);
    await queue.close();
    expect(stopped).toMatchObject({ state: 'queued', attempts: 0 });
    expect(stopped.lastError).toBeUndefined();
    expect(events).toContain('interrupted:the vault was locked');

    // Unlocked again, it starts over as its first attempt.
    expect((await a.post('/v1/vault/unlock', { password: PASSWORD })).status).toBe(204);
    expect((await running(a, job.id)).attempts).toBe(1);
    await a.post(`/v1/jobs/${job.id}/cancel`);
  });

  it('a lock that waits starts nothing new and locks once the running job is done', async () => {
    const { api: a } = await desktopForTest();
    const { video } = await library(a, { seconds: 8 });
    const first = (await a.post('/v1/jobs', { fileId: video.id, preset: 'web-h264' }))
      .body as DesktopJob;
    const second = (await a.post('/v1/jobs', { fileId: video.id, preset: 'remux' }))
      .body as DesktopJob;
    await running(a, first.id);

    expect((await a.post('/v1/vault/lock', { jobs: 'wait' })).status).toBe(202);
    expect(await a.get('/v1/vault')).toMatchObject({
      unlocked: true,
      lockPending: { running: 1 },
    });
    await until(
      () => a.get<{ unlocked: boolean }>('/v1/vault'),
      (v) => !v.unlocked,
    );
    const unlockedAt = Date.now();
    expect((await a.post('/v1/vault/unlock', { password: PASSWORD })).status).toBe(204);
    expect((await a.get<DesktopJob>(`/v1/jobs/${first.id}`)).state).toBe('succeeded');
    // The queued job did not start while the lock waited: only after the unlock.
    const next = await a.get<DesktopJob>(`/v1/jobs/${second.id}`);
    expect(next.startedAt === undefined || next.startedAt >= unlockedAt).toBe(true);
    expect(await a.get('/v1/vault')).not.toHaveProperty('lockPending');
  });

  it('refuses a preset that cannot take the file, and a lock with nothing running just locks', async () => {
    const { api: a } = await desktopForTest();
    const { video, photo } = await library(a, { seconds: 1 });
    expect(await a.post('/v1/jobs', { fileId: photo.id, preset: 'web-h264' })).toMatchObject({
      status: 422,
      body: {
        code: 'PRESET_KIND_MISMATCH',
        message: 'web-h264 is for videos, and photo.png is a photo',
      },
    });
    expect(await a.post('/v1/jobs', { fileId: video.id, preset: 'photo-web' })).toMatchObject({
      status: 422,
      body: {
        code: 'PRESET_KIND_MISMATCH',
        message: 'photo-web is for photos, and tape.mp4 is a video file',
      },
    });
    expect(await a.get<DesktopJob[]>('/v1/jobs')).toEqual([]);
    const fits = (await a.post('/v1/jobs', { fileId: photo.id, preset: 'photo-web' }))
      .body as DesktopJob;
    await until(
      () => a.get<DesktopJob>(`/v1/jobs/${fits.id}`),
      (j) => j.state === 'succeeded',
    );
    expect((await a.post('/v1/vault/lock', { jobs: 'later' })).status).toBe(400);
    expect((await a.post('/v1/vault/lock')).status).toBe(204);
  });

  it('names each job by its file, so a list of jobs needs no other request', async () => {
    const { api: a } = await desktopForTest();
    const { photo } = await library(a, { seconds: 1 });
    const made = (await a.post('/v1/jobs', { fileId: photo.id, preset: 'photo-web' }))
      .body as DesktopJob;
    expect(made).toMatchObject({ fileId: photo.id, fileName: 'photo.png' });
    const done = await until(
      () => a.get<DesktopJob>(`/v1/jobs/${made.id}`),
      (j) => j.state === 'succeeded',
    );
    expect(done.fileName).toBe('photo.png');
    expect(done.title).toBeUndefined();
    expect((await a.get<DesktopJob[]>('/v1/jobs')).map((j) => j.fileName)).toEqual(['photo.png']);
    // The title the family gives the item names its jobs from then on.
    const set = await a.call('PATCH', `/v1/library/files/${photo.id}`, { title: 'Christmas 1989' });
    expect(set.status).toBe(200);
    expect((await a.get<DesktopJob[]>('/v1/jobs')).map((j) => j.title)).toEqual(['Christmas 1989']);
  });

  it('a job for a paired server that is down says which server and since when', async () => {
    const engine = await desktopForTest();
    const { api: a } = engine;
    const { video } = await library(a, { seconds: 1 });
    const server = await startServe({
      config: parseServeConfig({ port: 0 }),
      dataDir: join(await freshDir(), 'server'),
      kek: randomBytes(32),
      scratch: await testScratch(),
      logError: () => undefined,
    });
    const { code } = createPairingCode(server.db);
    await saveRemote(
      engine.session.dataDir,
      engine.session.requireVault(),
      await pairWithServer(server.url, code, 'laptop', 'lxc'),
    );
    await server.close();

    const submitted = Date.now();
    const job = (await a.post('/v1/jobs', { fileId: video.id, preset: 'remux', remote: 'lxc' }))
      .body as DesktopJob;
    const waiting = await until(
      () => a.get<DesktopJob>(`/v1/jobs/${job.id}`),
      (j) => j.waiting !== undefined,
      20_000,
    );
    expect(waiting).toMatchObject({
      state: 'queued',
      attempts: 0,
      waiting: { server: 'lxc', lastError: expect.stringContaining('ECONNREFUSED') as string },
    });
    expect(waiting.waiting!.since).toBeGreaterThanOrEqual(submitted);
    expect(waiting.waiting!.since).toBeLessThanOrEqual(Date.now());
    // The list and the live stream carry the same.
    const listed = (await a.get<DesktopJob[]>('/v1/jobs')).find((j) => j.id === job.id);
    expect(listed?.waiting?.since).toBe(waiting.waiting!.since);
    // A local job never waits this way.
    const local = (await a.post('/v1/jobs', { fileId: video.id, preset: 'remux' }))
      .body as DesktopJob;
    expect(local.waiting).toBeUndefined();
    await a.post(`/v1/jobs/${job.id}/cancel`);
  });
  it("saves a copy of a finished job's results under a free name, as the player serves them", async () => {
    const { api: a, url } = await desktopForTest();
    const { video, photo } = await library(a, { seconds: 3 });
    const made = async (fileId: string, preset: string) => {
      const job = (await a.post('/v1/jobs', { fileId, preset })).body as DesktopJob;
      return until(
        () => a.get<DesktopJob>(`/v1/jobs/${job.id}`),
        (j) => j.state === 'succeeded',
      );
    };
    const web = await made(photo.id, 'photo-web');
    const thumbs = await made(video.id, 'thumbnails');
    expect(web.filesUrl).toMatch(new RegExp(`^/play/[\\w-]{32}/${web.id}/$`));

    const dir = join(await freshDir(), 'Saved');
    const save = async (id: string) => {
      const started = await a.post(`/v1/jobs/${id}/save`, { dir });
      expect(started.status).toBe(202);
      const task = started.body as { id: string };
      return until(
        () =>
          a.get<{ state: string; path?: string; bytes: number; total: number }>(
            `/v1/saves/${task.id}`,
          ),
        (t) => t.state !== 'running',
      );
    };
    const first = await save(web.id);
    const second = await save(web.id);
    expect(first).toMatchObject({ state: 'done' });
    const ext = web.outputs[0]!.name.split('.').pop();
    expect(first.path).toBe(join(dir, `photo (photo-web).${ext}`));
    expect(second.path).toBe(join(dir, `photo (photo-web) 2.${ext}`));
    expect(first.bytes).toBeGreaterThanOrEqual(first.total);
    // Byte for byte what the engine decrypts for viewing.
    const served = Buffer.from(
      await (await fetch(`${url}${web.filesUrl}${web.outputs[0]!.name}`)).arrayBuffer(),
    );
    expect((await readFile(first.path!)).equals(served)).toBe(true);
    expect((await readFile(second.path!)).equals(served)).toBe(true);

    // Several outputs: one folder holding them under their own names.
    const grid = await save(thumbs.id);
    expect(grid.path).toBe(join(dir, 'tape (thumbnails)'));
    expect((await readdir(grid.path!)).sort()).toEqual(thumbs.outputs.map((o) => o.name).sort());

    // Nothing to save from a job that did not succeed, and only into a full path.
    const queued = (await a.post('/v1/jobs', { fileId: video.id, preset: 'remux' }))
      .body as DesktopJob;
    await a.post(`/v1/jobs/${queued.id}/cancel`);
    expect((await a.post(`/v1/jobs/${queued.id}/save`, { dir })).body).toMatchObject({
      code: 'USAGE',
    });
    expect((await a.post(`/v1/jobs/${web.id}/save`, { dir: 'relative' })).status).toBe(400);
  });
});
