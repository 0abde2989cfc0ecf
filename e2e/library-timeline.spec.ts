// The Library as a timeline, in a real Chromium against a real engine, on generated media
// whose dates are known (EXIF, a video's creation_time, dates in file names): every item's
// picture shows, under the right year and month; filters and the search narrow it;
// tiles are selected with the mouse (shift for a range) and the keyboard; the folders stay
// one click away in Details.
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm, utimes, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { expect, test } from '@playwright/test';
import type { Page } from '@playwright/test';
import sharp from 'sharp';
import { startEngine } from './engine';
import { nav, shot } from './ui';
import type { RunningEngine } from './engine';

const run = promisify(execFile);
const PASSWORD = 'gardenia kettle seven rivers';

let engine: RunningEngine;
let media: string;

test.beforeEach(async () => {
  engine = await startEngine();
  media = await mkdtemp(join(tmpdir(), 'keepsake-e2e-timeline-'));
});

test.afterEach(async () => {
  await engine.stop();
  await rm(media, { recursive: true, force: true });
});

async function photo(name: string, colour: string, exifDate?: string): Promise<void> {
  let image = sharp({ create: { width: 320, height: 240, channels: 3, background: colour } });
  if (exifDate) image = image.withExif({ IFD2: { DateTimeOriginal: exifDate } });
  await writeFile(join(media, name), await image.jpeg().toBuffer());
}

/** A two-second clip; `created` becomes its QuickTime creation_time when given. */
async function clip(name: string, created?: string): Promise<void> {
  await run('ffmpeg', [
    '-v',
    'error',
    '-f',
    'lavfi',
    '-i',
    'testsrc=duration=2:size=320x240:rate=25',
    '-c:v',
    'libx264',
    '-preset',
    'ultrafast',
    '-pix_fmt',
    'yuv420p',
    ...(created ? ['-metadata', `creation_time=${created}`] : []),
    join(media, name),
  ]);
}

/** Each tile's name with the month heading it sits under, in the order shown. */
function monthsOfTiles(page: Page): Promise<[string, string][]> {
  return page.getByTestId('timeline-scroll').evaluate((timeline) => {
    const out: [string, string][] = [];
    let month = '';
    const rows = timeline.querySelector('.timeline-rows')?.children ?? [];
    for (const row of rows) {
      if (row.classList.contains('timeline-month')) {
        month = (row.firstChild?.textContent ?? '').trim();
      } else if (row.classList.contains('timeline-tiles')) {
        for (const name of row.querySelectorAll('.tile-name')) {
          out.push([name.textContent ?? '', month]);
        }
      }
    }
    return out;
  });
}

test('the timeline shows every picture under its year and month; filters, search and selection narrow it', async ({
  page,
  request,
}, testInfo) => {
  await Promise.all([
    photo('scan 017.jpg', '#cc8844', '1998:06:20 15:45:00'),
    photo('beach.jpg', '#4488cc', '1998:06:02 09:00:00'),
    photo('IMG_20190812_101500.jpg', '#44aa66'),
    clip('party.mp4', '2005-03-10T18:00:00Z'),
    clip('1989-12-24 Christmas.mp4'),
    writeFile(join(media, 'broken.mp4'), randomBytes(40_000)),
  ]);
  // Its only date is the file's own: one easy to find on the timeline.
  const march2001 = new Date(2001, 2, 15, 12);
  await utimes(join(media, 'broken.mp4'), march2001, march2001);
  const headers = { authorization: `Bearer ${engine.token}` };
  const vault = await request.post(`${engine.origin}/v1/vault`, {
    headers,
    data: { password: PASSWORD },
  });
  expect(vault.status()).toBe(201);

  // An empty library says how to begin, with the way to add a folder right there.
  // Tall enough for the whole (small) timeline to be in the page: it renders only the rows
  // in view.
  await page.setViewportSize({ width: 1200, height: 1600 });
  await page.goto(engine.openUrl);
  await nav(page, 'Library').click();
  await expect(page.getByTestId('library-start')).toContainText(
    'Add a folder of photos and videos',
  );
  await shot(page, testInfo, 'timeline-empty');
  await page.getByLabel('Folder path').fill(media);
  await page.getByRole('button', { name: 'Add folder' }).click();

  // Every item's picture, made in the background after protecting, loads.
  const tiles = page.getByTestId('tile');
  await expect(tiles).toHaveCount(6, { timeout: 60_000 });
  const pictures = page.getByTestId('timeline-scroll').locator('.tile-open img');
  await expect(pictures).toHaveCount(5, { timeout: 60_000 });
  // The one that will not play: no picture, its kind and name instead, and a mark whose
  // title says why.
  const broken = tiles.filter({ hasText: 'broken.mp4' });
  await expect(broken.locator('.tile-placeholder')).toContainText('broken.mp4');
  await expect(broken.getByTestId('tile-attention')).toHaveAttribute(
    'title',
    /damaged or incomplete/,
  );
  // Opened, it says so in a sentence; what FFprobe said waits under a small "Details".
  await broken.locator('.tile-open').click();
  const note = page.getByRole('dialog').getByTestId('attention-note');
  await expect(note).toContainText(
    "This video is damaged or incomplete: Keepsake can't read its start. The original is kept as it is.",
  );
  const technical = note.getByTestId('attention-technical');
  await expect(technical).toBeHidden();
  await note.getByText('Details', { exact: true }).click();
  await expect(technical).toBeVisible();
  await expect(technical).not.toBeEmpty();
  await shot(page, testInfo, 'viewer-needs-attention');
  await page.keyboard.press('Escape');
  await expect(page.getByRole('dialog')).toHaveCount(0);
  await expect
    .poll(
      () =>
        pictures.evaluateAll((imgs) =>
          imgs.every(
            (img) =>
              (img as HTMLImageElement).complete && (img as HTMLImageElement).naturalWidth > 0,
          ),
        ),
      { timeout: 30_000 },
    )
    .toBe(true);
  await expect(page.getByTestId('timeline-count')).toHaveText('6 items');

  // Under the right headings, newest first, whatever gave the date.
  await expect
    .poll(() => monthsOfTiles(page), { timeout: 30_000 })
    .toEqual([
      ['IMG_20190812_101500.jpg', 'August 2019'],
      ['party.mp4', 'March 2005'],
      ['broken.mp4', 'March 2001'],
      ['scan 017.jpg', 'June 1998'],
      ['beach.jpg', 'June 1998'],
      ['1989-12-24 Christmas.mp4', 'December 1989'],
    ]);
  const years = page.getByRole('heading', { level: 3 });
  await expect(years).toHaveText(['2019', '2005', '2001', '1998', '1989']);
  const christmas = tiles.filter({ hasText: '1989-12-24 Christmas.mp4' });
  await expect(christmas.locator('.tile-duration')).toHaveText('0:02');
  await expect(christmas.getByRole('button')).toHaveAccessibleName(
    '1989-12-24 Christmas.mp4, video, 24 December 1989, 2 s',
  );
  await expect(page.getByRole('navigation', { name: 'Years' }).getByRole('button')).toHaveText([
    '2019',
    '2005',
    '2001',
    '1998',
    '1989',
  ]);
  await shot(page, testInfo, 'timeline-pictures');

  // Filters and the search narrow it, and the count says by how much.
  const find = page.getByRole('search', { name: 'Find in the library' });
  await find.getByRole('button', { name: 'Videos' }).click();
  await expect(tiles).toHaveCount(3);
  await expect(page.getByTestId('timeline-count')).toHaveText('3 of 6 items');
  await find.getByLabel('Needs attention').check();
  await expect(tiles).toHaveCount(1);
  await expect(tiles).toContainText('broken.mp4');
  await find.getByLabel('Needs attention').uncheck();
  await find.getByRole('button', { name: 'All', exact: true }).click();
  await find.getByRole('searchbox').fill('1998');
  await expect(tiles).toHaveCount(2);
  expect((await monthsOfTiles(page)).map(([name]) => name)).toEqual(['scan 017.jpg', 'beach.jpg']);
  await find.getByRole('button', { name: 'Photos' }).click();
  await find.getByRole('searchbox').fill('christmas');
  await expect(tiles).toHaveCount(0);
  await expect(page.getByTestId('timeline-scroll')).toContainText('Nothing matches');
  await find.getByRole('button', { name: 'All', exact: true }).click();
  await expect(tiles).toHaveCount(1);
  await shot(page, testInfo, 'timeline-filtered');
  await find.getByRole('button', { name: 'Show all' }).click();
  await expect(tiles).toHaveCount(6);

  // Selecting: a tick box, then shift for the range up to another.
  await tiles.nth(0).hover();
  await page.getByRole('checkbox', { name: 'Select IMG_20190812_101500.jpg' }).click();
  await page.getByRole('checkbox', { name: 'Select beach.jpg' }).click({ modifiers: ['Shift'] });
  const bar = page.getByTestId('selection-bar');
  await expect(bar).toContainText('5 selected');
  await expect(
    page.getByRole('checkbox', { name: 'Select 1989-12-24 Christmas.mp4' }),
  ).not.toBeChecked();
  await shot(page, testInfo, 'timeline-selection');
  // Make… takes the selection to the Make screen; coming back, it is still selected.
  await bar.getByRole('button', { name: 'Make…' }).click();
  await expect(nav(page, 'Make')).toHaveAttribute('aria-current', 'page');
  await nav(page, 'Library').click();
  await expect(bar).toContainText('5 selected');
  await bar.getByRole('button', { name: 'Clear' }).click();
  await expect(bar).toBeHidden();

  // The keyboard: arrows move between tiles, Space selects.
  // Tab from the search box reaches the timeline's first tile.
  await find.getByRole('searchbox').focus();
  await page.keyboard.press('Tab');
  await expect(tiles.nth(0).getByRole('button')).toBeFocused();
  await page.keyboard.press('ArrowRight');
  await expect(tiles.nth(1).getByRole('button')).toBeFocused();
  await page.keyboard.press('ArrowDown');
  await expect(tiles.nth(2).getByRole('button')).toBeFocused();
  await page.keyboard.press('ArrowDown');
  await expect(tiles.nth(3).getByRole('button')).toBeFocused();
  await page.keyboard.press('ArrowRight');
  await expect(tiles.nth(4).getByRole('button')).toBeFocused();
  await page.keyboard.press('Space');
  await expect(bar).toContainText('1 selected');
  await expect(page.getByRole('checkbox', { name: 'Select beach.jpg' })).toBeChecked();
  await bar.getByRole('button', { name: 'Clear' }).click();

  // In a smaller window only the rows in view are in the page; the year scrubber jumps.
  await page.setViewportSize({ width: 1000, height: 700 });
  await expect(tiles.filter({ hasText: 'Christmas' })).toHaveCount(0);
  await page
    .getByRole('navigation', { name: 'Years' })
    .getByRole('button', { name: 'Go to 1989' })
    .click();
  await expect(tiles.filter({ hasText: 'Christmas' }).locator('img')).toBeInViewport();
  await expect(tiles.filter({ hasText: 'IMG_2019' })).toHaveCount(0);
  await expect(
    page.getByRole('navigation', { name: 'Years' }).getByRole('button', { name: 'Go to 1989' }),
  ).toHaveAttribute('aria-current', 'true');

  // The folders, as before, one click away.
  await page.getByRole('group', { name: 'View' }).getByRole('button', { name: 'Details' }).click();
  const folder = page.getByRole('listitem', { name: /keepsake-e2e-timeline-/ });
  await expect(folder.getByTestId('folder-encrypted')).toHaveText('6');
  await expect(tiles).toHaveCount(0);
  await shot(page, testInfo, 'timeline-details-view');
});
