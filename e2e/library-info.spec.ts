// What the library reads of each item, seen in a real Chromium against a real engine: the
// day each photo or video was taken (from its EXIF, its name), and a clear mark on a file
// that will not play, with the reason in plain words.
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect, test } from '@playwright/test';
import sharp from 'sharp';
import { startEngine } from './engine';
import { nav, shot } from './ui';
import type { RunningEngine } from './engine';

const PASSWORD = 'gardenia kettle seven rivers';

// Dates are written in the browser's own way; this test reads them as a British browser does.
test.use({ locale: 'en-GB' });

let engine: RunningEngine;
let media: string;

test.beforeEach(async () => {
  engine = await startEngine();
  media = await mkdtemp(join(tmpdir(), 'keepsake-e2e-info-'));
});

test.afterEach(async () => {
  await engine.stop();
  await rm(media, { recursive: true, force: true });
});

test('the file list says when each item was taken, and marks one that will not play', async ({
  page,
  request,
}, testInfo) => {
  const photo = await sharp({
    create: { width: 64, height: 48, channels: 3, background: '#cc8844' },
  })
    .withExif({ IFD2: { DateTimeOriginal: '1998:06:20 15:45:00' } })
    .jpeg()
    .toBuffer();
  await writeFile(join(media, 'scan 017.jpg'), photo);
  await writeFile(join(media, '1989-12-24 Christmas.mp4'), randomBytes(40_000));
  const headers = { authorization: `Bearer ${engine.token}` };
  const vault = await request.post(`${engine.origin}/v1/vault`, {
    headers,
    data: { password: PASSWORD },
  });
  expect(vault.status()).toBe(201);
  const added = await request.post(`${engine.origin}/v1/library`, {
    headers,
    data: { path: media },
  });
  expect(added.status()).toBe(201);

  await page.goto(engine.openUrl);
  await nav(page, 'Library').click();
  await page.getByRole('button', { name: 'Details', exact: true }).click();
  const folder = page.getByRole('listitem', { name: /keepsake-e2e-info-/ });
  await folder.getByRole('button', { name: 'Show files' }).click();
  const photoRow = folder.getByRole('row', { name: /scan 017\.jpg/ });
  const tapeRow = folder.getByRole('row', { name: /1989-12-24 Christmas\.mp4/ });
  // Read in the background after protecting; the list refreshes until it is there.
  await expect(photoRow).toContainText('20 Jun 1998', { timeout: 30_000 });
  await expect(tapeRow).toContainText('24 Dec 1989', { timeout: 30_000 });
  await expect(photoRow.getByTestId('needs-attention')).toHaveCount(0);
  const badge = tapeRow.getByTestId('needs-attention');
  await expect(badge).toHaveText('Needs attention');
  await expect(badge).toHaveAttribute('title', /damaged or incomplete/);
  await expect(photoRow.getByTitle("Date from the camera's record in the photo")).toBeVisible();
  await shot(page, testInfo, 'library-taken-dates');
});
