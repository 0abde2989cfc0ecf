// The item viewer (issue 17, part 4) in Chromium against the real engine, on generated
// media: a photo opens full size and zooms, arrow keys browse, an H.264 video plays from
// the vault and seeks, an MPEG-2 video the browser cannot decode plays from a copy made
// on the spot (and kept), a title and date set in the viewer survive a reload, and what
// was played is listed under Recently watched by name, never by a job id.
import { execFile } from 'node:child_process';
import { mkdir, mkdtemp, rm, utimes } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { expect, test } from '@playwright/test';
import type { APIRequestContext, Page } from '@playwright/test';
import { startEngine } from './engine';
import { nav, shot } from './ui';
import type { RunningEngine } from './engine';

const run = promisify(execFile);
const cli = fileURLToPath(new URL('../engine/bin/keepsake.mjs', import.meta.url));
const PASSWORD = 'lantern meadow quietly nine';
const SHOTS = '/tmp/shots-viewer';

interface Item {
  id: string;
  name: string;
  width?: number;
  title?: string;
  pictures: { preview?: string; poster?: string; thumb?: string };
  browserPlayable: boolean;
  jobs: { id: string; preset: string; state: string }[];
}

let engine: RunningEngine;
let media: string;
let items: Item[] = [];

test.describe.configure({ mode: 'serial' });

async function ffmpeg(...args: string[]) {
  await run('ffmpeg', ['-v', 'error', '-y', ...args]);
}

test.beforeAll(async () => {
  test.setTimeout(120_000);
  media = await mkdtemp(join(tmpdir(), 'keepsake-e2e-viewer-'));
  const dir = join(media, 'Family');
  await mkdir(dir);
  // Smaller than the 1600 px preview: the preview is the photo at full size.
  await ffmpeg(
    '-f',
    'lavfi',
    '-i',
    'testsrc=size=1200x900',
    '-frames:v',
    '1',
    join(dir, 'garden.jpg'),
  );
  await ffmpeg(
    ...['-f', 'lavfi', '-i', 'testsrc=duration=8:size=320x240:rate=25'],
    ...['-f', 'lavfi', '-i', 'sine=duration=8', '-c:v', 'libx264', '-preset', 'ultrafast'],
    ...['-pix_fmt', 'yuv420p', '-c:a', 'aac', '-metadata', 'creation_time=2005-07-01T10:00:00Z'],
    join(dir, 'beach.mp4'),
  );
  // MPEG-2 in a program stream, as old DVD rips and tape captures are: no browser plays it.
  await ffmpeg(
    ...['-f', 'lavfi', '-i', 'testsrc=duration=4:size=320x240:rate=25'],
    ...['-f', 'lavfi', '-i', 'sine=duration=4', '-c:v', 'mpeg2video', '-c:a', 'mp2'],
    join(dir, 'tape.mpg'),
  );
  // Known file dates, so the library's order (newest first) is: photo, tape, beach.
  await utimes(join(dir, 'garden.jpg'), new Date('2020-06-01'), new Date('2020-06-01'));
  await utimes(join(dir, 'tape.mpg'), new Date('2010-01-01'), new Date('2010-01-01'));
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

function api(request: APIRequestContext) {
  const headers = { authorization: `Bearer ${engine.token}` };
  return {
    get: async <T>(path: string) =>
      (await (await request.get(`${engine.origin}${path}`, { headers })).json()) as T,
    post: async <T>(path: string, data: unknown = {}) =>
      (await (await request.post(`${engine.origin}${path}`, { headers, data })).json()) as T,
  };
}

async function open(page: Page) {
  await page.goto(engine.openUrl);
  const password = page.getByLabel('Password', { exact: true });
  const library = nav(page, 'Library');
  await expect(password.or(library.and(page.locator('[aria-current="page"]')))).toBeVisible();
  if (await password.isVisible()) {
    await password.fill(PASSWORD);
    await page.getByRole('button', { name: 'Unlock' }).click();
  }
  await expect(library).toHaveAttribute('aria-current', 'page');
}

const tile = (page: Page, name: string) =>
  page
    .locator(`[data-testid="tile"][data-id="${items.find((i) => i.name === name)!.id}"]`)
    .locator('.tile-open');
const viewer = (page: Page) => page.getByRole('dialog');

async function shoot(page: Page, name: string) {
  await page.screenshot({ path: join(SHOTS, `${name}.png`) });
}

test('the library is added and its pictures made', async ({ page, request }) => {
  test.setTimeout(120_000);
  await open(page);
  const a = api(request);
  const folder = await a.post<{ id: string }>('/v1/library', { path: join(media, 'Family') });
  await a.post(`/v1/library/${folder.id}/encrypt`);
  await expect
    .poll(
      async () => {
        items = (await a.get<{ items: Item[] }>('/v1/library/items')).items;
        return items.map((i) => `${i.name}:${i.pictures.thumb ? 'pic' : '-'}`).join(' ');
      },
      { timeout: 90_000 },
    )
    .toBe('garden.jpg:pic tape.mpg:pic beach.mp4:pic');
  expect(items.find((i) => i.name === 'beach.mp4')!.browserPlayable).toBe(true);
  expect(items.find((i) => i.name === 'tape.mpg')!.browserPlayable).toBe(false);
});

test('a video the browser cannot decode plays from a copy prepared on the spot', async ({
  page,
  request,
}) => {
  test.setTimeout(120_000);
  await open(page);
  await tile(page, 'tape.mpg').click();
  const dialog = viewer(page);
  await expect(dialog.getByTestId('viewer-preparing')).toContainText('Preparing a copy to play');
  await shoot(page, 'preparing');
  const video = dialog.getByTestId('player-video');
  await expect(video).toHaveAttribute('src', /^\/play\//, { timeout: 90_000 });
  await video.evaluate((v: HTMLVideoElement) => {
    v.muted = true;
    void v.play();
  });
  await expect
    .poll(() => video.evaluate((v: HTMLVideoElement) => v.currentTime), { timeout: 20_000 })
    .toBeGreaterThan(1);

  // What was made is listed by name, with Play, Save a copy… and Delete; no job id shows.
  const made = dialog.getByTestId('item-outputs');
  const copy = made.getByRole('listitem', { name: 'Copy to watch' });
  await expect(copy.getByRole('button', { name: 'Play the copy to watch' })).toBeVisible();
  await expect(copy.getByRole('button', { name: /^Save a copy/ })).toBeVisible();
  await expect(copy.getByRole('button', { name: 'Delete the copy to watch' })).toBeVisible();
  await copy.getByRole('button', { name: 'Delete the copy to watch' }).click();
  await expect(copy.getByRole('alertdialog')).toContainText('This cannot be undone');
  await shoot(page, 'outputs-list');
  await copy.getByRole('button', { name: 'Keep it' }).click();
  const tape = (await api(request).get<{ items: Item[] }>('/v1/library/items')).items.find(
    (i) => i.name === 'tape.mpg',
  )!;
  expect(tape.jobs.length).toBeGreaterThan(0);
  const text = await page.evaluate(() => document.body.innerText);
  for (const job of tape.jobs) expect(text).not.toContain(job.id);

  // Kept: opening it again plays at once, without preparing anything.
  await page.keyboard.press('Escape');
  await tile(page, 'tape.mpg').click();
  await expect(dialog.getByTestId('player-video')).toHaveAttribute('src', /^\/play\//);
  await expect(dialog.getByTestId('viewer-preparing')).toHaveCount(0);
});

test('a photo opens full size, zooms and pans; arrow keys browse; Escape closes', async ({
  page,
}, testInfo) => {
  await open(page);
  const photo = items.find((i) => i.name === 'garden.jpg')!;
  await tile(page, 'garden.jpg').click();
  const dialog = viewer(page);
  await expect(dialog).toBeVisible();
  await expect(dialog.getByRole('heading', { name: 'garden.jpg' })).toBeVisible();
  const img = dialog.getByTestId('viewer-photo');
  await expect(img).toHaveAttribute('data-source', 'original');
  // Full size: the picture decoded at the preview's width (here the photo's own).
  const natural = await img.evaluate((i: HTMLImageElement) => i.naturalWidth);
  const previewWidth = await page.evaluate(async (src) => {
    const i = new Image();
    i.src = src;
    await i.decode();
    return i.naturalWidth;
  }, photo.pictures.preview!);
  expect(natural).toBe(previewWidth);
  expect(natural).toBe(1200);
  await shoot(page, 'photo-viewer');
  await shot(page, testInfo, 'viewer-photo');

  // Zoom: a button, then double-click to 100 %, then drag to move around.
  const level = dialog.getByTestId('zoom-level');
  const fitted = await level.textContent();
  await dialog.getByRole('button', { name: 'Zoom in' }).click();
  await expect(level).not.toHaveText(fitted ?? '');
  await dialog.getByRole('button', { name: 'Fit to screen' }).click();
  await expect(level).toHaveText(fitted ?? '');
  await img.dblclick();
  await expect(level).toHaveText('100 %');
  const before = await img.evaluate((i: HTMLImageElement) => i.style.transform);
  const box = (await img.boundingBox())!;
  await page.mouse.move(box.x + box.width / 2, box.y + box.height / 2);
  await page.mouse.down();
  await page.mouse.move(box.x + box.width / 2 + 120, box.y + box.height / 2 + 60, { steps: 5 });
  await page.mouse.up();
  expect(await img.evaluate((i: HTMLImageElement) => i.style.transform)).not.toBe(before);
  await shoot(page, 'photo-zoomed');
  await img.dblclick();
  await expect(level).toHaveText(fitted ?? '');

  // The next item in the library's order (newest first) is the tape.
  await page.keyboard.press('ArrowRight');
  await expect(dialog.getByRole('heading', { name: 'tape.mpg' })).toBeVisible();
  await page.keyboard.press('ArrowLeft');
  await expect(dialog.getByRole('heading', { name: 'garden.jpg' })).toBeVisible();

  // Focus stays inside: tabbing round never leaves the dialog.
  for (let i = 0; i < 25; i++) {
    await page.keyboard.press('Tab');
    expect(await dialog.evaluate((d) => d.contains(document.activeElement))).toBe(true);
  }
  await page.keyboard.press('Escape');
  await expect(dialog).toBeHidden();
  await expect(tile(page, 'garden.jpg')).toBeFocused();

  // Browsed on before closing: focus lands on the tile of the item last shown.
  await page.keyboard.press('Enter');
  await expect(dialog.getByRole('heading', { name: 'garden.jpg' })).toBeVisible();
  await page.keyboard.press('ArrowRight');
  await expect(dialog.getByRole('heading', { name: 'tape.mpg' })).toBeVisible();
  await page.keyboard.press('Escape');
  await expect(tile(page, 'tape.mpg')).toBeFocused();
});

test('an H.264 video plays from the vault at once and seeks to 75 %', async ({ page }) => {
  await open(page);
  await tile(page, 'beach.mp4').click();
  const video = viewer(page).getByTestId('player-video');
  await expect(video).toHaveAttribute('src', /^\/media\//);
  await video.evaluate((v: HTMLVideoElement) => {
    v.muted = true;
    void v.play();
  });
  await expect
    .poll(() => video.evaluate((v: HTMLVideoElement) => v.currentTime), { timeout: 20_000 })
    .toBeGreaterThan(1);
  await shoot(page, 'video-playing');
  const [landed, duration] = await video.evaluate(
    (v: HTMLVideoElement) =>
      new Promise<[number, number]>((resolve) => {
        v.addEventListener('seeked', () => resolve([v.currentTime, v.duration]), { once: true });
        v.currentTime = v.duration * 0.75;
      }),
  );
  expect(duration).toBeGreaterThan(7.5);
  expect(Math.abs(landed - duration * 0.75)).toBeLessThan(0.5);
  await expect
    .poll(() => video.evaluate((v: HTMLVideoElement) => v.currentTime), { timeout: 10_000 })
    .toBeGreaterThan(landed + 0.5);
});

test('a title and date set in the viewer show and survive a reload', async ({ page, request }) => {
  await open(page);
  await tile(page, 'beach.mp4').click();
  const dialog = viewer(page);
  await dialog.getByRole('button', { name: 'Edit title and date' }).click();
  await dialog.getByRole('textbox', { name: 'Title' }).fill('Christmas 1989');
  await dialog.getByRole('textbox', { name: 'Date' }).fill('1989-12-45');
  await dialog.getByRole('button', { name: 'Save' }).click();
  await expect(dialog.getByTestId('labels-error')).toContainText('is not a date');
  await shoot(page, 'edit-form-error');
  await dialog.getByRole('textbox', { name: 'Date' }).fill('1989-12-24');
  await dialog.getByRole('button', { name: 'Save' }).click();
  await expect(dialog.getByRole('heading', { name: 'Christmas 1989' })).toBeVisible();
  await expect(dialog.getByTestId('viewer-date')).toHaveText('24 December 1989 · set by you');

  await page.reload();
  await open(page);
  await tile(page, 'beach.mp4').click();
  await expect(dialog.getByRole('heading', { name: 'Christmas 1989' })).toBeVisible();
  await expect(dialog.getByTestId('viewer-date')).toHaveText('24 December 1989 · set by you');
  // A web copy made after this carries the title and date the family typed.
  const beach = (await api(request).get<{ items: Item[] }>('/v1/library/items')).items.find(
    (i) => i.name === 'beach.mp4',
  )!;
  const made = await api(request).post<{ id: string }>('/v1/jobs', {
    fileId: beach.id,
    preset: 'web-h264',
  });
  let webCopy: { state: string; playUrl?: string } = { state: 'queued' };
  await expect
    .poll(
      async () => {
        webCopy = await api(request).get<typeof webCopy>(`/v1/jobs/${made.id}`);
        return webCopy.state;
      },
      { timeout: 60_000 },
    )
    .toBe('succeeded');
  const probed = await run('ffprobe', [
    ...['-v', 'error', '-show_entries', 'format_tags', '-of', 'json'],
    `${engine.origin}${webCopy.playUrl!}`,
  ]);
  const tags = (JSON.parse(probed.stdout) as { format: { tags: Record<string, string> } }).format
    .tags;
  expect(tags.title).toBe('Christmas 1989');
  expect(tags.date).toBe('1989-12-24');
  expect(tags.creation_time).toMatch(/^1989-12-2[34]T/);

  // The item before it in the library's order: the tape, which plays from its copy.
  await page.keyboard.press('ArrowLeft');
  await expect(dialog.getByRole('heading', { name: 'tape.mpg' })).toBeVisible();
  await expect
    .poll(() => dialog.getByTestId('player-video').evaluate((v: HTMLVideoElement) => v.currentTime))
    .toBeGreaterThan(0);
  await page.keyboard.press('Escape');

  // Recently watched lists what was played, by title and name.
  await nav(page, 'Recently watched').click();
  const list = page.getByTestId('watched-list');
  await expect(list.getByRole('button', { name: 'Watch Christmas 1989' })).toBeVisible();
  await expect(list.getByRole('button', { name: 'Watch tape.mpg' })).toBeVisible();
  await shoot(page, 'recently-watched');
  await list.getByRole('button', { name: 'Watch tape.mpg' }).click();
  await expect(viewer(page).getByRole('heading', { name: 'tape.mpg' })).toBeVisible();

  // Deleting the copy to watch (confirmed) removes it from the engine; the viewer then
  // offers to make one instead of quietly making it again.
  const copy = dialog.getByTestId('item-outputs').getByRole('listitem', { name: 'Copy to watch' });
  await copy.getByRole('button', { name: 'Delete the copy to watch' }).click();
  await copy.getByRole('button', { name: 'Delete it' }).click();
  await expect(dialog.getByTestId('item-outputs')).toHaveCount(0);
  await expect(dialog.getByRole('button', { name: 'Make a copy to play' })).toBeVisible();
  const tape = (await api(request).get<{ items: Item[] }>('/v1/library/items')).items.find(
    (i) => i.name === 'tape.mpg',
  )!;
  expect(tape.jobs).toEqual([]);
});
