// The strip of proposed clips (issue 18, part 1), in Chromium against the real engine: a
// generated tape with boundaries planted at 9, 19 and 25 s (engine/src/testing/
// tape-media.ts, made playable in a browser as H.264) is looked through; the clips panel
// shows a card for each proposed clip with small pictures that really load, where it
// starts, how long it is and how sure Keepsake is, and pressing a card shows that place
// in the player. "Use the suggested clips" still takes them.
import { execFile } from 'node:child_process';
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { expect, test } from '@playwright/test';
import type { Page } from '@playwright/test';
import { makeTape } from '../engine/src/testing/tape-media';
import { startEngine } from './engine';
import { nav } from './ui';
import type { RunningEngine } from './engine';

const run = promisify(execFile);
const cli = fileURLToPath(new URL('../engine/bin/keepsake.mjs', import.meta.url));
const PASSWORD = 'lantern meadow quietly nine';
const SHOTS = '/tmp/shots-h18strip';

let engine: RunningEngine;
let media: string;

test.beforeAll(async () => {
  test.setTimeout(120_000);
  media = await mkdtemp(join(tmpdir(), 'keepsake-e2e-strip-'));
  const dir = join(media, 'Tapes');
  await mkdir(dir);
  const tape = await makeTape(media, 'tape.ts');
  // The same pictures and sound, as a browser plays them (still interlaced, still 4:3).
  await run('ffmpeg', [
    ...['-v', 'error', '-y', '-i', tape],
    ...['-c:v', 'libx264', '-preset', 'ultrafast', '-flags', '+ildct+ilme', '-pix_fmt', 'yuv420p'],
    ...['-c:a', 'aac', '-metadata', 'creation_time=1991-07-14T15:00:00Z'],
    join(dir, 'summer-tape.mp4'),
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

async function unlock(page: Page) {
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

test('the proposed clips are shown as a strip of pictures, and a card shows its place', async ({
  page,
  request,
}) => {
  test.setTimeout(180_000);
  await page.setViewportSize({ width: 1280, height: 900 });
  await unlock(page);
  const headers = { authorization: `Bearer ${engine.token}` };
  const folder = (await (
    await request.post(`${engine.origin}/v1/library`, {
      headers,
      data: { path: join(media, 'Tapes') },
    })
  ).json()) as { id: string };
  await request.post(`${engine.origin}/v1/library/${folder.id}/encrypt`, { headers });
  let tapeId = '';
  await expect
    .poll(
      async () => {
        const { items } = (await (
          await request.get(`${engine.origin}/v1/library/items`, { headers })
        ).json()) as { items: { id: string; durationSeconds?: number; pictures: object }[] };
        tapeId = items[0]?.id ?? '';
        return items[0]?.durationSeconds !== undefined && 'thumb' in (items[0]?.pictures ?? {});
      },
      { timeout: 90_000 },
    )
    .toBe(true);

  await page.goto('about:blank');
  await unlock(page);
  await page.locator(`[data-testid="tile"][data-id="${tapeId}"] .tile-open`).click();
  const video = page.getByRole('dialog').getByTestId('player-video');
  await expect(video).toHaveAttribute('src', /^\/media\//);
  await video.evaluate((v: HTMLVideoElement) => {
    v.muted = true;
    v.pause();
  });
  const panel = page.getByTestId('clips-panel');
  const cut = page.getByRole('button', { name: 'Cut into clips' });
  if (await cut.isVisible()) await cut.click();
  const suggestions = panel.getByTestId('clip-suggestions');
  // First as it looks while the pictures are still being made (held back here, so the
  // moment can be seen): the cards are there, their pictures on the way.
  const analysisUrl = `**/v1/library/files/${tapeId}/tape-analysis`;
  await page.route(analysisUrl, async (route) => {
    const response = await route.fetch();
    const view = (await response.json()) as {
      state: string;
      clips?: { pictures: string[] }[];
    };
    if (view.state !== 'succeeded' || !view.clips) return route.fulfill({ response });
    const clips = view.clips.map((c) => ({ ...c, pictures: [] }));
    await route.fulfill({ response, json: { ...view, clips, picturesPending: true } });
  });
  await suggestions.getByRole('button', { name: 'Find where the clips begin' }).click();
  await expect(suggestions).toContainText('Looking through the tape');

  const strip = suggestions.getByTestId('clip-strip');
  const cards = strip.getByTestId('clip-card');
  await expect(cards).toHaveCount(4, { timeout: 120_000 });
  await expect(suggestions.getByText('Making small pictures of each clip')).toBeVisible();
  await strip.scrollIntoViewIfNeeded();
  await page.screenshot({ path: join(SHOTS, '0-pictures-on-the-way.png') });
  await page.unroute(analysisUrl);

  const pictures = strip.locator('img');
  await expect(pictures).toHaveCount(12, { timeout: 60_000 });
  await expect(suggestions.getByText('Making small pictures')).toHaveCount(0);
  // Every picture arrived and decoded: a broken link has no width.
  await expect
    .poll(() =>
      pictures.evaluateAll((imgs) =>
        (imgs as HTMLImageElement[]).every((i) => i.complete && i.naturalWidth > 0),
      ),
    )
    .toBe(true);
  const sizes = await pictures.evaluateAll((imgs) =>
    (imgs as HTMLImageElement[]).map((i) => `${i.naturalWidth}x${i.naturalHeight}`),
  );
  expect(new Set(sizes)).toEqual(new Set(['160x120']));

  // Plain words: where, how long (up to the black gap at 8 s), how sure; no tool names.
  await expect(cards.nth(0)).toContainText('Clip 1 starts at 0:00, 8 seconds long');
  await expect(cards.nth(0)).toContainText('Start of the tape');
  await expect(cards.nth(1)).toContainText('starts at 0:09');
  await expect(cards.nth(1)).toContainText(/Clear break: the picture goes dark/);
  await expect(strip).not.toContainText(/scdet|blackdetect|silencedetect|confidence/i);
  await strip.scrollIntoViewIfNeeded();
  await page.screenshot({ path: join(SHOTS, '1-strip.png') });
  await strip.screenshot({ path: join(SHOTS, '2-strip-close.png') });

  // A card pressed: the player shows that place.
  const now = () => video.evaluate((v: HTMLVideoElement) => v.currentTime);
  await cards.nth(2).click();
  await expect.poll(now).toBeGreaterThanOrEqual(19);
  expect(await now()).toBeLessThan(19.5);
  await expect(panel.getByTestId('clips-time')).toHaveText(/^0:19/);
  await cards.nth(1).click();
  await expect.poll(now).toBeLessThan(10);
  expect(await now()).toBeGreaterThanOrEqual(9);
  await expect(cards.nth(1)).toContainText('Clip 2 starts at 0:09, 8 seconds long');
  // The picture shown once the player has reached that place.
  await expect
    .poll(() => video.evaluate((v: HTMLVideoElement) => !v.seeking && v.readyState >= 2))
    .toBe(true);
  await page.screenshot({ path: join(SHOTS, '3-card-pressed.png') });

  // The suggestions are still taken only when asked.
  await suggestions.getByRole('button', { name: 'Use the suggested clips' }).click();
  await expect(panel.getByTestId('clip-range')).toHaveCount(4);
  await page.screenshot({ path: join(SHOTS, '4-used.png') });
});
