// Goals on a real embedded engine with real FFmpeg: a goal makes the jobs of its presets
// with the goal's settings, a goal that does not fit an item is refused in plain words
// (and starts nothing), and the estimate gives sane figures and says when the room is short.

import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  TEST_PASSWORD as PASSWORD,
  startTestDesktop,
  until,
  type DesktopApi as Api,
} from '../testing/desktop';
import { makeClip } from '../testing/media';
import { freshDir } from '../testing/tmp';
import type {
  DesktopJob,
  FileView,
  FolderView,
  GoalEstimateView,
  GoalView,
  StartedGoal,
} from '../net/desktop-contract';
import { estimateGoal } from './desktop-goal-routes';

/** A vault, and a folder with a short interlaced SD "tape" and a photo, both encrypted. */
async function library(a: Api) {
  expect((await a.post('/v1/vault', { password: PASSWORD })).status).toBe(201);
  const media = join(await freshDir(), 'Family');
  await mkdir(media, { recursive: true });
  await makeClip(media, 'tape.mp4', {
    seconds: 2,
    size: '720x576',
    outputArgs: ['-flags', '+ildct+ilme', '-top', '1'],
  });
  await makeClip(media, 'photo.png', { still: true });
  const folder = (await a.post('/v1/library', { path: media })).body as FolderView;
  await a.post(`/v1/library/${folder.id}/encrypt`);
  // Encrypted, and the tape's facts read (the estimate needs its length and size).
  const files = await until(
    () => a.get<FileView[]>(`/v1/library/${folder.id}/files`),
    (list) => list.length === 2 && list.every((f) => f.encrypted && f.info),
    30_000,
  );
  return {
    folder,
    tape: files.find((f) => f.kind === 'video')!,
    photo: files.find((f) => f.kind === 'photo')!,
  };
}

describe('goals', () => {
  it('lists the goals in plain words, each for the kinds of item it fits', async () => {
    const { api: a } = await startTestDesktop();
    const goals = await a.get<GoalView[]>('/v1/goals');
    expect(goals.map((g) => [g.id, g.name, g.kinds])).toEqual([
      ['preserve-tape', 'Preserve this tape', ['video']],
      ['watch-copy', 'Make a copy to watch on the TV or phone', ['video']],
      ['master', 'Keep a top-quality master', ['video']],
      ['share-photos', 'Convert photos for sharing', ['photo']],
    ]);
    expect(goals[0]!.steps.map((s) => s.preset)).toEqual([
      'vhs-restore',
      'exact-master',
      'web-h264',
    ]);
    expect(goals[0]!.poster).toBe(true);
  });

  it('"Preserve this tape" makes the restored copy, the master and the watchable copy, and the poster is there', async () => {
    const { api: a } = await startTestDesktop();
    const { tape, photo } = await library(a);

    // Not for a photo: refused in plain words, and nothing is started.
    const refused = await a.post('/v1/goals', {
      goal: 'preserve-tape',
      fileIds: [tape.id, photo.id],
    });
    expect(refused).toMatchObject({
      status: 422,
      body: {
        code: 'PRESET_KIND_MISMATCH',
        message: '“Preserve this tape” is for videos, and photo.png is a photo',
      },
    });
    expect(await a.post('/v1/goals', { goal: 'share-photos', fileIds: [tape.id] })).toMatchObject({
      status: 422,
      body: { message: '“Convert photos for sharing” is for photos, and tape.mp4 is a video' },
    });
    expect(await a.get<DesktopJob[]>('/v1/jobs')).toEqual([]);

    const started = await a.post('/v1/goals', { goal: 'preserve-tape', fileIds: [tape.id] });
    expect(started.status).toBe(201);
    const { jobs, posters } = started.body as StartedGoal;
    expect(jobs.map((j) => [j.preset, j.fileId])).toEqual([
      ['vhs-restore', tape.id],
      ['exact-master', tape.id],
      ['web-h264', tape.id],
    ]);
    // The watchable copy is made from the tape with the restored copy's look.
    expect(jobs[2]!.params).toMatchObject({
      deinterlace: 'bwdif',
      denoise: 'light',
      aspect: '4:3',
      loudnorm: true,
    });
    expect(posters.ready + posters.coming).toBe(1);

    for (const job of jobs) {
      await until(
        () => a.get<DesktopJob>(`/v1/jobs/${job.id}`),
        (j) => j.state === 'succeeded' || j.state === 'failed',
        120_000,
      ).then((j) =>
        expect([j.preset, j.state, j.lastError]).toEqual([j.preset, 'succeeded', undefined]),
      );
    }
    const files = await a.get<FileView[]>(`/v1/library/${tape.folderId}/files`);
    const item = files.find((f) => f.id === tape.id)!;
    expect(item.jobs.map((j) => `${j.preset}:${j.state}`).sort()).toEqual([
      'exact-master:succeeded',
      'vhs-restore:succeeded',
      'web-h264:succeeded',
    ]);
    // The poster: made by the library in the background, which the goal saw to.
    const again = await until(
      () => a.post('/v1/goals', { goal: 'preserve-tape', fileIds: [tape.id] }),
      (r) => (r.body as StartedGoal).posters.ready === 1,
      60_000,
    );
    expect((again.body as StartedGoal).posters).toEqual({ ready: 1, coming: 0 });
  });

  it('estimates time and room from the item and says when the room is short', async () => {
    const engine = await startTestDesktop();
    const { api: a } = engine;
    const { tape, photo } = await library(a);

    const estimate = (
      await a.post('/v1/goals/estimate', {
        goal: 'preserve-tape',
        fileIds: [tape.id],
      })
    ).body as GoalEstimateView;
    // Two seconds of SD tape at the default (slow) speeds: some seconds, some megabytes.
    expect(estimate).toMatchObject({ unknownItems: 0, measured: false, enough: true });
    expect(estimate.seconds).toBeGreaterThanOrEqual(5);
    expect(estimate.seconds).toBeLessThan(120);
    expect(estimate.bytes).toBeGreaterThan(500_000);
    expect(estimate.bytes).toBeLessThan(20_000_000);
    expect(estimate.freeBytes).toBeGreaterThan(estimate.bytes);

    // Photos are counted per photo.
    const photos = (
      await a.post('/v1/goals/estimate', {
        goal: 'share-photos',
        fileIds: [photo.id],
      })
    ).body as GoalEstimateView;
    expect(photos.seconds).toBeGreaterThan(0);
    expect(photos.bytes).toBeGreaterThan(0);

    // A goal that does not fit is refused here too.
    expect(
      (await a.post('/v1/goals/estimate', { goal: 'master', fileIds: [photo.id] })).status,
    ).toBe(422);

    // 8 KiB free: not enough for the results.
    const short = await estimateGoal(
      engine.session,
      { goal: 'preserve-tape', fileIds: [tape.id] },
      async () => ({ bavail: 2, bsize: 4096 }),
    );
    expect(short).toMatchObject({ freeBytes: 8192, enough: false, bytes: estimate.bytes });
  });
});
