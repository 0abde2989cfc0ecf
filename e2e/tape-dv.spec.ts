// A camcorder's DV tape cut where its clock jumps (issue 18, part 1), in Chromium against
// the real engine: a generated DV tape of one still picture and tone throughout, recorded
// on 1 July 1994 for 4 s and on Christmas Eve for 4 s (engine/src/testing/dv-media.ts),
// is looked through; Keepsake proposes one break, at 0:04, where the camera's date jumps,
// and "Use the suggested clips" dates each clip by the camera's clock.
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { expect, test } from '@playwright/test';
import type { Page } from '@playwright/test';
import { makeDvTape } from '../engine/src/testing/dv-media';
import { startEngine } from './engine';
import { nav } from './ui';
import type { RunningEngine } from './engine';

const run = promisify(execFile);
const cli = fileURLToPath(new URL('../engine/bin/keepsake.mjs', import.meta.url));
const PASSWORD = 'lantern meadow quietly nine';
const SHOTS = '/tmp/shots-h18dv';

let engine: RunningEngine;
let media: string;

test.beforeAll(async () => {
  test.setTimeout(120_000);
  media = await mkdtemp(join(tmpdir(), 'keepsake-e2e-dv-'));
  const dir = join(media, 'Tapes');
  await mkdir(dir);
  await makeDvTape(dir, [
    { seconds: 4, recorded: '1994-07-01T10:00:00Z' },
    { seconds: 4, recorded: '1994-12-24T18:30:00Z' },
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

test("a DV tape is cut where the camera's date jumps, and its clips are dated", async ({
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
        ).json()) as { items: { id: string; durationSeconds?: number }[] };
        tapeId = items[0]?.id ?? '';
        return items[0]?.durationSeconds !== undefined;
      },
      { timeout: 90_000 },
    )
    .toBe(true);

  await page.goto('about:blank');
  await unlock(page);
  await page.locator(`[data-testid="tile"][data-id="${tapeId}"] .tile-open`).click();
  const panel = page.getByTestId('clips-panel');
  const cut = page.getByRole('button', { name: 'Cut into clips' });
  await expect(cut.or(panel)).toBeVisible({ timeout: 30_000 });
  if (await cut.isVisible()) await cut.click();
  const suggestions = panel.getByTestId('clip-suggestions');
  await suggestions.getByRole('button', { name: 'Find where the clips begin' }).click();

  // The same picture and sound on both sides: only the camera's date says where.
  await expect(suggestions).toContainText('Keepsake found one place where a new clip may begin', {
    timeout: 120_000,
  });
  await suggestions.scrollIntoViewIfNeeded();
  // The tape itself is dated by the camcorder's clock in its first frames.
  await expect(page.getByText("1 July 1994 · from the camcorder's recording date")).toBeVisible();
  await page.screenshot({ path: join(SHOTS, '1-proposed.png') });

  await suggestions.getByRole('button', { name: 'Use the suggested clips' }).click();
  const rows = panel.getByTestId('clip-row');
  await expect(rows).toHaveCount(2);
  await expect(panel.getByTestId('clip-range')).toHaveText(['0:00 – 0:04', '0:04 – 0:08']);
  await expect(rows.nth(0)).toContainText('1994-07-01 10:00');
  await expect(rows.nth(1)).toContainText('1994-12-24 18:30');
  await rows.nth(1).scrollIntoViewIfNeeded();
  await page.screenshot({ path: join(SHOTS, '2-used-dated.png') });

  // The engine takes the camera's dates as they are offered.
  await panel.getByRole('button', { name: 'Save', exact: true }).click();
  await expect(panel.getByTestId('clips-message')).toHaveText('Clips saved.');
  await expect(rows.nth(1)).toContainText('1994-12-24');
});
