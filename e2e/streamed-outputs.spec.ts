// Outputs written in one pass (issue 14, finding 10): FFmpeg now writes into the engine's
// encrypting sink, which cannot seek, so web-h264 is a fragmented MP4 instead of a
// fast-start one. In Chromium against the real engine: the family's video opens in the
// viewer with its full length known at once, and a seek far ahead lands and plays on.
import { execFile } from 'node:child_process';
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { expect, test } from '@playwright/test';
import type { APIRequestContext } from '@playwright/test';
import { startEngine } from './engine';
import { nav, shot } from './ui';
import type { RunningEngine } from './engine';

const run = promisify(execFile);
const cli = fileURLToPath(new URL('../engine/bin/keepsake.mjs', import.meta.url));
const PASSWORD = 'lantern meadow quietly nine';
const SECONDS = 12;

let engine: RunningEngine;
let media: string;

test.beforeAll(async () => {
  media = await mkdtemp(join(tmpdir(), 'keepsake-e2e-streamed-'));
  await mkdir(join(media, 'Family'));
  await run('ffmpeg', [
    ...['-v', 'error', '-f', 'lavfi', '-i', `testsrc=duration=${SECONDS}:size=320x240:rate=25`],
    ...['-f', 'lavfi', '-i', `sine=duration=${SECONDS}`, '-c:v', 'libx264', '-preset'],
    ...['ultrafast', '-pix_fmt', 'yuv420p', '-c:a', 'aac', join(media, 'Family', 'beach.mp4')],
  ]);
});

test.afterAll(async () => {
  await rm(media, { recursive: true, force: true });
});

test.beforeEach(async () => {
  engine = await startEngine();
  await run(process.execPath, [cli, 'vault', 'init', '--data-dir', engine.dataDir], {
    env: { ...process.env, KEEPSAKE_PASSWORD: PASSWORD },
  });
});

test.afterEach(async () => {
  expect(await engine.stop()).toBe(0);
});

function api(request: APIRequestContext) {
  const headers = { authorization: `Bearer ${engine.token}` };
  return {
    get: async <T>(path: string) =>
      (await (await request.get(`${engine.origin}${path}`, { headers })).json()) as T,
    post: async <T>(path: string, data: unknown = {}) =>
      (await (await request.post(`${engine.origin}${path}`, { headers, data })).json()) as T,
  };
}

test('a web-h264 result plays in the viewer with its length known, and seeks far ahead', async ({
  page,
  request,
}, testInfo) => {
  test.setTimeout(180_000);
  await page.goto(engine.openUrl);
  await page.getByLabel('Password', { exact: true }).fill(PASSWORD);
  await page.getByRole('button', { name: 'Unlock' }).click();
  await expect(nav(page, 'Library')).toHaveAttribute('aria-current', 'page');

  const a = api(request);
  const folder = await a.post<{ id: string }>('/v1/library', { path: join(media, 'Family') });
  await a.post(`/v1/library/${folder.id}/encrypt`);
  await expect
    .poll(
      async () =>
        (await a.get<{ id: string; encrypted: number }[]>('/v1/library')).find(
          (f) => f.id === folder.id,
        )?.encrypted,
      { timeout: 30_000 },
    )
    .toBe(1);
  const [file] = await a.get<{ id: string }[]>(`/v1/library/${folder.id}/files`);
  await a.post('/v1/jobs', { fileId: file!.id, preset: 'web-h264' });

  await nav(page, 'Jobs').click();
  const row = page.getByTestId('job-list').getByRole('article', { name: /^Copy to watch · / });
  await expect(row.getByTestId('job-state')).toHaveText('Done', { timeout: 120_000 });
  await row.getByRole('button', { name: /^Play / }).click();
  const video = page.getByRole('dialog').getByTestId('player-video');
  await expect(video).toHaveAttribute('data-playback', 'native');

  // The length is known from the start (a fragmented MP4 could leave it unknown).
  await expect
    .poll(() => video.evaluate((v: HTMLVideoElement) => v.duration), { timeout: 20_000 })
    .toBeGreaterThan(SECONDS - 0.5);
  expect(await video.evaluate((v: HTMLVideoElement) => v.duration)).toBeLessThan(SECONDS + 0.5);

  // A seek far ahead, before anything played: it lands there and playback goes on.
  const landed = await video.evaluate(
    (v: HTMLVideoElement) =>
      new Promise<number>((resolve) => {
        v.muted = true;
        v.addEventListener('seeked', () => resolve(v.currentTime), { once: true });
        v.currentTime = 9;
      }),
  );
  expect(landed).toBeGreaterThan(8.5);
  expect(landed).toBeLessThan(9.5);
  await video.evaluate((v: HTMLVideoElement) => void v.play());
  await expect
    .poll(() => video.evaluate((v: HTMLVideoElement) => v.currentTime), { timeout: 15_000 })
    .toBeGreaterThan(9.8);
  await shot(page, testInfo, 'streamed-web-h264-player');
});
