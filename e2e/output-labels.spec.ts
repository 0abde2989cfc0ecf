// A title and a date set on an item, and the copies made from it afterwards, in Chromium
// against the real engine: a copy to watch (MP4) carries them and says nothing; a copy to
// watch on the TV (HLS, which has no place for a title) says so beside it, in words.
import { execFile } from 'node:child_process';
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { expect, test } from '@playwright/test';
import { startEngine } from './engine';
import { nav } from './ui';
import type { RunningEngine } from './engine';

const run = promisify(execFile);
const cli = fileURLToPath(new URL('../engine/bin/keepsake.mjs', import.meta.url));
const PASSWORD = 'lantern meadow quietly nine';
const SHOTS = '/tmp/shots-h3';

let engine: RunningEngine;
let media: string;

test.beforeAll(async () => {
  media = await mkdtemp(join(tmpdir(), 'keepsake-e2e-labels-'));
  await mkdir(join(media, 'Tapes'));
  await run('ffmpeg', [
    ...['-v', 'error', '-f', 'lavfi', '-i', 'testsrc=duration=3:size=320x240:rate=25'],
    ...['-f', 'lavfi', '-i', 'sine=duration=3', '-c:v', 'libx264', '-preset', 'ultrafast'],
    ...['-pix_fmt', 'yuv420p', '-c:a', 'aac', join(media, 'Tapes', 'tape 3.mp4')],
  ]);
  await mkdir(SHOTS, { recursive: true });
  engine = await startEngine();
  await run(process.execPath, [cli, 'vault', 'init', '--data-dir', engine.dataDir], {
    env: { ...process.env, KEEPSAKE_PASSWORD: PASSWORD },
  });
});

test.afterAll(async () => {
  expect(await engine.stop()).toBe(0);
  await rm(media, { recursive: true, force: true });
});

test('a copy that cannot carry the title and date says so beside it', async ({ page, request }) => {
  test.setTimeout(180_000);
  await page.goto(engine.openUrl);
  await page.getByLabel('Password', { exact: true }).fill(PASSWORD);
  await page.getByRole('button', { name: 'Unlock' }).click();
  await expect(nav(page, 'Library')).toHaveAttribute('aria-current', 'page');

  const headers = { authorization: `Bearer ${engine.token}` };
  const url = (path: string) => `${engine.origin}${path}`;
  const folder = (await (
    await request.post(url('/v1/library'), { headers, data: { path: join(media, 'Tapes') } })
  ).json()) as { id: string };
  await request.post(url(`/v1/library/${folder.id}/encrypt`), { headers });
  let item: { id: string; pictures: { thumb?: string } } | undefined;
  await expect
    .poll(
      async () => {
        const body = (await (await request.get(url('/v1/library/items'), { headers })).json()) as {
          items: { id: string; pictures: { thumb?: string } }[];
        };
        item = body.items[0];
        return !!item?.pictures.thumb;
      },
      { timeout: 90_000 },
    )
    .toBe(true);
  const patched = await request.patch(url(`/v1/library/files/${item!.id}`), {
    headers,
    data: { title: 'Christmas 1989', date: '1989' },
  });
  expect(patched.status()).toBe(200);
  const jobs: string[] = [];
  for (const [preset, params] of [
    ['web-h264', { maxHeight: '360' }],
    ['hls-playback', {}],
  ] as const) {
    const res = await request.post(url('/v1/jobs'), {
      headers,
      data: { fileId: item!.id, preset, params },
    });
    expect(res.status()).toBe(201);
    jobs.push(((await res.json()) as { id: string }).id);
  }
  await expect
    .poll(
      async () => {
        const states = await Promise.all(
          jobs.map(
            async (id) =>
              (
                (await (await request.get(url(`/v1/jobs/${id}`), { headers })).json()) as {
                  state: string;
                }
              ).state,
          ),
        );
        return states.join(' ');
      },
      { timeout: 150_000 },
    )
    .toBe('succeeded succeeded');

  await page.locator(`[data-testid="tile"][data-id="${item!.id}"]`).locator('.tile-open').click();
  const dialog = page.getByRole('dialog');
  await expect(dialog.getByRole('heading', { name: 'Christmas 1989' })).toBeVisible();
  // The year alone reads as a year.
  await expect(dialog.getByTestId('viewer-date')).toHaveText('1989 · set by you');
  const made = dialog.getByTestId('item-outputs');
  const tv = made.getByRole('listitem', { name: 'Copy to watch on the TV' });
  await expect(tv.getByTestId('output-labels-note')).toHaveText(
    "This copy doesn't carry the title and date.",
  );
  const web = made.getByRole('listitem', { name: 'Copy to watch', exact: true });
  await expect(web).toBeVisible();
  await expect(web.getByTestId('output-labels-note')).toHaveCount(0);
  await made.scrollIntoViewIfNeeded();
  await page.screenshot({ path: join(SHOTS, 'outputs-labels-note.png') });

  // A year-only item sits under January of its year on the timeline.
  await dialog.getByRole('button', { name: 'Close' }).click();
  await expect(page.getByText('January 1989')).toBeVisible();
  await page.screenshot({ path: join(SHOTS, 'timeline-year-only.png') });

  // A month alone reads as the month, in the viewer and its form.
  const month = await request.patch(url(`/v1/library/files/${item!.id}`), {
    headers,
    data: { date: '1989-12' },
  });
  expect(month.status()).toBe(200);
  await page.reload();
  await page.locator(`[data-testid="tile"][data-id="${item!.id}"]`).locator('.tile-open').click();
  await expect(dialog.getByTestId('viewer-date')).toHaveText('December 1989 · set by you');
  await dialog.getByRole('button', { name: 'Edit title and date' }).click();
  await expect(dialog.getByRole('textbox', { name: 'Date' })).toHaveValue('1989-12');
  await page.screenshot({ path: join(SHOTS, 'viewer-month-only.png') });
});
