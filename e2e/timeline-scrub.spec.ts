// Hover-scrubbing on the timeline, in a real Chromium against a real engine: moving the
// mouse across a video's tile shows the frame of its sprite strip for that place (a 16:9
// and a 4:3 clip, each kept in shape), with a bar saying how far in; leaving shows the
// poster again. The strip is fetched on the first hover only and held in the page's
// memory until the Library is left, and the keyboard still opens the video.
import { execFile } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { expect, test } from '@playwright/test';
import type { Locator } from '@playwright/test';
import sharp from 'sharp';
import { startEngine } from './engine';
import { nav, shot } from './ui';
import type { RunningEngine } from './engine';

const run = promisify(execFile);
const PASSWORD = 'marigold ferry ninety lanterns';

let engine: RunningEngine;
let media: string;

test.beforeEach(async () => {
  engine = await startEngine();
  media = await mkdtemp(join(tmpdir(), 'keepsake-e2e-scrub-'));
});

test.afterEach(async () => {
  await engine.stop();
  await rm(media, { recursive: true, force: true });
});

/** A clip whose every moment looks different (testsrc draws a running counter). */
async function clip(name: string, size: string): Promise<void> {
  await run('ffmpeg', [
    '-v',
    'error',
    '-f',
    'lavfi',
    '-i',
    `testsrc=duration=6:size=${size}:rate=25`,
    '-c:v',
    'libx264',
    '-preset',
    'ultrafast',
    '-pix_fmt',
    'yuv420p',
    join(media, name),
  ]);
}

/**
 * Hovers `fraction` of the way across a tile's picture, at its middle height: straight
 * onto the tile (a path with steps could cross, and so fetch, a neighbour's strip), then
 * across it in steps as a hand would.
 */
async function hoverAt(open: Locator, fraction: number): Promise<void> {
  const box = await open.boundingBox();
  if (!box) throw new Error('the tile is not on screen');
  const mouse = open.page().mouse;
  const y = box.y + box.height / 2;
  await mouse.move(box.x + box.width * fraction, y);
  await mouse.move(box.x + box.width * fraction + 1, y, { steps: 2 });
}

test('moving the mouse across a video tile scrubs through its sprite strip', async ({
  page,
  request,
}, testInfo) => {
  await Promise.all([clip('garden 16x9.mp4', '640x360'), clip('attic 4x3.mp4', '320x240')]);
  const headers = { authorization: `Bearer ${engine.token}` };
  const vault = await request.post(`${engine.origin}/v1/vault`, {
    headers,
    data: { password: PASSWORD },
  });
  expect(vault.status()).toBe(201);

  const spriteRequests: string[] = [];
  page.on('request', (r) => {
    if (sprites.some((s) => r.url().endsWith(s))) spriteRequests.push(r.url());
  });
  let sprites: string[] = [];

  await page.setViewportSize({ width: 1200, height: 900 });
  await page.goto(engine.openUrl);
  await nav(page, 'Library').click();
  await page.getByLabel('Folder path').fill(media);
  await page.getByRole('button', { name: 'Add folder' }).click();
  const tiles = page.getByTestId('tile');
  await expect(tiles).toHaveCount(2, { timeout: 60_000 });
  await expect(page.getByTestId('timeline-scroll').locator('.tile-open img')).toHaveCount(2, {
    timeout: 60_000,
  });

  // The engine lists each video's strip; it answers 200 with a JPEG of 10 frames side by side.
  let items: { name: string; pictures: { sprite?: string; spriteFrames?: number } }[] = [];
  await expect
    .poll(
      async () => {
        const res = await request.get(`${engine.origin}/v1/library/items`, { headers });
        items = ((await res.json()) as { items: typeof items }).items;
        return items.filter((i) => i.pictures.sprite).length;
      },
      { timeout: 60_000 },
    )
    .toBe(2);
  sprites = items.map((i) => i.pictures.sprite!);
  for (const item of items) {
    const res = await request.get(`${engine.origin}${item.pictures.sprite}`);
    expect(res.status()).toBe(200);
    expect(res.headers()['content-type']).toMatch(/^image\/jpeg/);
    expect(res.headers()['cache-control']).toBe('no-store');
    const meta = await sharp(await res.body()).metadata();
    const frames = item.pictures.spriteFrames!;
    expect(frames).toBeGreaterThan(1);
    const frameAspect = meta.width! / frames / meta.height!;
    expect(frameAspect).toBeCloseTo(item.name.includes('16x9') ? 16 / 9 : 4 / 3, 1);
  }
  // Scrolling past or showing a tile fetched no strip.
  expect(spriteRequests).toEqual([]);

  const garden = tiles.filter({ hasText: 'garden 16x9.mp4' });
  const open = garden.locator('.tile-open');
  const scrub = garden.getByTestId('tile-scrub');
  await hoverAt(open, 0.1);
  await expect(scrub).toBeVisible();
  await expect(scrub).toHaveAttribute('data-frame', '1');
  const early = await scrub.evaluate((el) => getComputedStyle(el).backgroundPosition);
  // 10 frames of 16:9 over a square tile: the strip is 10 × 16/9 tiles wide, filled by height.
  expect(await scrub.evaluate((el) => getComputedStyle(el).backgroundSize)).toMatch(
    /^1777\.7\d*% auto$/,
  );
  await hoverAt(open, 0.9);
  await expect(scrub).toHaveAttribute('data-frame', '9');
  const late = await scrub.evaluate((el) => getComputedStyle(el).backgroundPosition);
  expect(late).not.toBe(early);
  // Strip and poster are held in the page's memory (object URLs), not fetched again.
  const stripUrl = /url\("(blob:[^"]+)"\)/.exec(
    await scrub.evaluate((el) => getComputedStyle(el).backgroundImage),
  )?.[1];
  const posterUrl = await garden.locator('.tile-open img').getAttribute('src');
  expect(stripUrl).toMatch(/^blob:/);
  expect(posterUrl).toMatch(/^blob:/);
  // The bar says how far in: about 90 % of the tile's width.
  const bar = garden.locator('.tile-scrub-bar');
  const [barBox, openBox] = [await bar.boundingBox(), await open.boundingBox()];
  expect(barBox!.width / openBox!.width).toBeCloseTo(0.9, 1);
  await shot(page, testInfo, 'timeline-scrub-hover');
  await garden.screenshot({ path: testInfo.outputPath('timeline-scrub-tile.png') });

  // Leaving shows the poster again; coming back uses the strip already fetched.
  await page.mouse.move(5, 5);
  await expect(scrub).toHaveCount(0);
  await expect(garden.locator('.tile-scrub-bar')).toHaveCount(0);
  await expect(garden.locator('.tile-open img')).toBeVisible();
  await hoverAt(open, 0.5);
  await expect(scrub).toHaveAttribute('data-frame', '5');
  expect(spriteRequests).toHaveLength(1);

  // A 4:3 clip keeps its shape too.
  const attic = tiles.filter({ hasText: 'attic 4x3.mp4' });
  await hoverAt(attic.locator('.tile-open'), 0.3);
  const atticScrub = attic.getByTestId('tile-scrub');
  await expect(atticScrub).toHaveAttribute('data-frame', '3');
  expect(await atticScrub.evaluate((el) => getComputedStyle(el).backgroundSize)).toMatch(
    /^1333\.3\d*% auto$/,
  );
  expect(spriteRequests).toHaveLength(2);

  // The keyboard loses nothing: Enter on a tile opens the video.
  await page.mouse.move(5, 5);
  await open.focus();
  await page.keyboard.press('Enter');
  await expect(page.getByRole('dialog')).toBeVisible();
  await page.keyboard.press('Escape');

  // Leaving the Library (as locking the vault does) lets those pictures go.
  // (Read as an image: the page's policy lets blob: URLs be pictures, not be fetched.)
  const readable = (url: string) =>
    page.evaluate((u) => {
      const img = new Image();
      img.src = u;
      return img.decode().then(
        () => true,
        () => false,
      );
    }, url);
  expect(await readable(stripUrl!)).toBe(true);
  expect(await readable(posterUrl!)).toBe(true);
  await nav(page, 'Settings').click();
  await expect(tiles).toHaveCount(0);
  expect(await readable(stripUrl!)).toBe(false);
  expect(await readable(posterUrl!)).toBe(false);
});
