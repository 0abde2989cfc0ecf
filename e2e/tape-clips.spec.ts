// A tape cut into clips in the viewer (issue 18, part 2), in Chromium against the real
// engine: a generated interlaced 720x576 tape of three 5-second scenes is split twice at
// the scene changes, a boundary is moved by frame steps (the picture shows that frame),
// a clip is titled and dated and the clips saved; after a reload they are still there;
// the CSV export holds those rows, and an edited CSV imported changes the clips.
import { execFile } from 'node:child_process';
import { mkdir, mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { expect, test } from '@playwright/test';
import type { Page } from '@playwright/test';
import { startEngine } from './engine';
import { nav } from './ui';
import type { RunningEngine } from './engine';

const run = promisify(execFile);
const cli = fileURLToPath(new URL('../engine/bin/keepsake.mjs', import.meta.url));
const PASSWORD = 'lantern meadow quietly nine';
const SHOTS = '/tmp/shots-h8';

let engine: RunningEngine;
let media: string;
let tapeId = '';

test.describe.configure({ mode: 'serial' });

test.beforeAll(async () => {
  test.setTimeout(120_000);
  media = await mkdtemp(join(tmpdir(), 'keepsake-e2e-clips-'));
  const dir = join(media, 'Tapes');
  await mkdir(dir);
  // Three scenes with hard cuts at 5 s and 10 s, made interlaced (top field first) the
  // way a PAL capture card records: 50 pictures a second woven into 25 frames.
  const scene = (src: string) => `${src}=size=720x576:rate=50:duration=5`;
  await run('ffmpeg', [
    ...['-v', 'error', '-y'],
    ...['-f', 'lavfi', '-i', scene('testsrc')],
    ...['-f', 'lavfi', '-i', scene('smptebars')],
    ...['-f', 'lavfi', '-i', scene('rgbtestsrc')],
    ...['-f', 'lavfi', '-i', 'sine=frequency=440:duration=15'],
    '-filter_complex',
    '[0:v][1:v][2:v]concat=n=3:v=1:a=0,tinterlace=interleave_top,setfield=tff[v]',
    ...['-map', '[v]', '-map', '3:a'],
    ...['-c:v', 'libx264', '-preset', 'ultrafast', '-flags', '+ildct+ilme', '-pix_fmt', 'yuv420p'],
    ...['-c:a', 'aac', '-metadata', 'creation_time=1994-12-25T15:00:00Z'],
    join(dir, 'christmas-tape.mp4'),
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

async function openTape(page: Page) {
  // A fresh page: the same address again would only move to its #fragment.
  await page.goto('about:blank');
  await open(page);
  await page.locator(`[data-testid="tile"][data-id="${tapeId}"] .tile-open`).click();
  const video = page.getByRole('dialog').getByTestId('player-video');
  await expect(video).toHaveAttribute('src', /^\/media\//);
  // Quiet and still: the test moves the picture itself.
  await video.evaluate((v: HTMLVideoElement) => {
    v.muted = true;
    v.pause();
  });
  await expect
    .poll(() => video.evaluate((v: HTMLVideoElement) => v.readyState))
    .toBeGreaterThanOrEqual(1);
  return video;
}

const shoot = (page: Page, name: string) => page.screenshot({ path: join(SHOTS, `${name}.png`) });
const ranges = (page: Page) => page.getByTestId('clip-range').allInnerTexts();

test('a tape is split, a boundary moved by frames, a clip named, saved and kept', async ({
  page,
  request,
}) => {
  test.setTimeout(150_000);
  await open(page); // unlocks the vault
  const headers = { authorization: `Bearer ${engine.token}` };
  const folder = (await (
    await request.post(`${engine.origin}/v1/library`, {
      headers,
      data: { path: join(media, 'Tapes') },
    })
  ).json()) as { id: string };
  await request.post(`${engine.origin}/v1/library/${folder.id}/encrypt`, { headers });
  await expect
    .poll(
      async () => {
        const { items } = (await (
          await request.get(`${engine.origin}/v1/library/items`, { headers })
        ).json()) as { items: { id: string; durationSeconds?: number; pictures: object }[] };
        const tape = items[0];
        tapeId = tape?.id ?? '';
        return tape?.durationSeconds !== undefined && 'thumb' in (tape?.pictures ?? {});
      },
      { timeout: 90_000 },
    )
    .toBe(true);

  const video = await openTape(page);
  const panel = page.getByTestId('clips-panel');
  // A short video is not taken for a tape by itself: the family asks for its clips.
  await page.getByRole('button', { name: 'Cut into clips' }).click();
  await expect(panel.getByRole('heading', { name: 'Clips on this tape' })).toBeVisible();
  await expect(panel.getByTestId('clips-version')).toHaveText('Not saved yet');
  expect(await ranges(page)).toEqual(['0:00 – 0:15']);
  await shoot(page, '1-whole-tape');

  // Split at the two scene changes.
  const seek = (t: number) =>
    video.evaluate((v: HTMLVideoElement, to: number) => {
      v.currentTime = to;
    }, t);
  await seek(5.01);
  await expect(panel.getByTestId('clips-time')).toHaveText('0:05');
  await panel.getByRole('button', { name: 'Split here' }).click();
  await seek(10.01);
  await expect(panel.getByTestId('clips-time')).toHaveText('0:10');
  await panel.getByRole('button', { name: 'Split here' }).click();
  expect(await ranges(page)).toEqual(['0:00 – 0:05', '0:05 – 0:10', '0:10 – 0:15']);
  await shoot(page, '2-split-twice');

  // Choose the second clip (the video goes to its first frame), step three frames on and
  // move its start there: the first clip ends where it now starts.
  await panel.getByRole('button', { name: /^2\. 0:05 – 0:10/ }).click();
  await expect(panel.getByTestId('clips-time')).toHaveText('0:05');
  for (let i = 0; i < 3; i++) await panel.getByRole('button', { name: 'One frame on' }).click();
  await expect(panel.getByTestId('clips-time')).toHaveText('0:05.12');
  // The picture is that frame: the video has seeked there and stopped.
  await expect
    .poll(() => video.evaluate((v: HTMLVideoElement) => [v.paused, v.seeking, v.readyState >= 2]))
    .toEqual([true, false, true]);
  expect(await video.evaluate((v: HTMLVideoElement) => v.currentTime)).toBeCloseTo(5.124, 2);
  await panel.getByRole('button', { name: 'One frame back' }).click();
  await expect(panel.getByTestId('clips-time')).toHaveText('0:05.08');
  await panel.getByRole('button', { name: 'Start here' }).click();
  expect(await ranges(page)).toEqual(['0:00 – 0:05.08', '0:05.08 – 0:10', '0:10 – 0:15']);
  await shoot(page, '3-boundary-moved');

  // Title and date, then Save.
  await panel.getByLabel('Title').fill('Grandma opens the presents');
  await panel.getByLabel('Date').fill('1994-12-25');
  await panel.getByLabel('Date').press('Enter');
  await expect(panel.getByRole('button', { name: /^2\. / })).toContainText(
    'Grandma opens the presents',
  );
  await panel.getByRole('button', { name: 'Save', exact: true }).click();
  await expect(panel.getByTestId('clips-version')).toContainText('version 1');
  await expect(panel.getByTestId('clips-message')).toHaveText('Clips saved.');
  await shoot(page, '4-saved');

  // After a reload the clips are there as saved (and open by themselves).
  await page.reload();
  await openTape(page);
  await expect(panel.getByTestId('clips-version')).toContainText('version 1');
  expect(await ranges(page)).toEqual(['0:00 – 0:05.08', '0:05.08 – 0:10', '0:10 – 0:15']);
  await expect(panel.getByRole('button', { name: /^2\. / })).toContainText(
    'Grandma opens the presents',
  );
  await expect(panel.getByRole('button', { name: /^2\. / })).toContainText('1994-12-25');
  await shoot(page, '5-after-reload');
});

test('the clips go out as CSV and come back in edited', async ({ page }) => {
  test.setTimeout(60_000);
  await openTape(page);
  const panel = page.getByTestId('clips-panel');
  const [download] = await Promise.all([
    page.waitForEvent('download'),
    panel.getByRole('button', { name: 'Export CSV' }).click(),
  ]);
  expect(download.suggestedFilename()).toBe('christmas-tape clips.csv');
  const csv = await readFile((await download.path())!, 'utf8');
  expect(csv.split('\r\n')).toEqual([
    'start,end,title,date',
    '0:00:00.000,0:00:05.080,,',
    '0:00:05.080,0:00:10.000,Grandma opens the presents,1994-12-25',
    '0:00:10.000,0:00:15.000,,',
    '',
  ]);

  // Edited in a spreadsheet: the first clip named, the last left out.
  const edited = [
    'start,end,title,date',
    '0:00:00.000,0:00:05.080,"Tree, lights and tinsel",1994-12-24',
    '0:00:05.080,0:00:10.000,Grandma opens the presents,1994-12-25',
  ].join('\n');
  await panel.getByTestId('clips-import').setInputFiles({
    name: 'christmas.csv',
    mimeType: 'text/csv',
    buffer: Buffer.from(edited),
  });
  await expect(panel.getByTestId('clips-message')).toHaveText(
    'Clips read from the file and saved.',
  );
  await expect(panel.getByTestId('clips-version')).toContainText('version 2');
  expect(await ranges(page)).toEqual(['0:00 – 0:05.08', '0:05.08 – 0:10']);
  await expect(panel.getByRole('button', { name: /^1\. / })).toContainText(
    'Tree, lights and tinsel',
  );
  await shoot(page, '6-imported');

  // A file with a bad row says which row, and changes nothing.
  await panel.getByTestId('clips-import').setInputFiles({
    name: 'typo.csv',
    mimeType: 'text/csv',
    buffer: Buffer.from('start,end\n0:00,0:04\n0:03,0:99\n'),
  });
  await expect(panel.getByRole('alert')).toContainText('Row 3: "0:99" is not a time');
  await expect(panel.getByTestId('clips-version')).toContainText('version 2');
  await shoot(page, '7-bad-csv');

  // Undo the last save: the three clips of version 1 come back, as version 3.
  await panel.getByRole('button', { name: 'Undo the last save' }).click();
  await expect(panel.getByTestId('clips-version')).toContainText('version 3');
  expect(await ranges(page)).toEqual(['0:00 – 0:05.08', '0:05.08 – 0:10', '0:10 – 0:15']);
});

test('removing a clip says the tape keeps it, and Undo brings it back', async ({ page }) => {
  await openTape(page);
  const panel = page.getByTestId('clips-panel');
  await panel.getByRole('button', { name: /^3\. / }).click();
  await panel.getByRole('button', { name: 'Remove clip' }).click();
  await expect(panel.getByTestId('clips-message')).toContainText(
    'The tape keeps it; this only leaves it out of the clips.',
  );
  expect(await ranges(page)).toEqual(['0:00 – 0:05.08', '0:05.08 – 0:10']);
  await shoot(page, '8-removed');
  // Unsaved: closing the viewer asks first, and staying keeps the changes.
  // (The question blocks the page until answered: answer it as it comes.)
  const asked: string[] = [];
  page.once('dialog', (dialog) => {
    asked.push(dialog.message());
    void dialog.dismiss();
  });
  await page.keyboard.press('Escape');
  await expect.poll(() => asked).toHaveLength(1);
  expect(asked[0]).toContain("The changes to this tape's clips are not saved yet.");
  await expect(panel).toBeVisible();
  expect(await ranges(page)).toEqual(['0:00 – 0:05.08', '0:05.08 – 0:10']);
  await panel.getByTestId('clips-message').getByRole('button', { name: 'Undo' }).click();
  expect(await ranges(page)).toEqual(['0:00 – 0:05.08', '0:05.08 – 0:10', '0:10 – 0:15']);
});

test('a save after another window saved says so and offers to open the clips again', async ({
  page,
  request,
}) => {
  await openTape(page);
  const panel = page.getByTestId('clips-panel');
  await panel.getByRole('button', { name: /^1\. / }).click();
  await panel.getByRole('button', { name: 'Join with next' }).click();
  // Meanwhile, another window saves.
  const headers = { authorization: `Bearer ${engine.token}` };
  const res = await request.put(`${engine.origin}/v1/library/files/${tapeId}/clips`, {
    headers,
    data: { basedOn: 3, clips: [{ start: 0, end: 15 }] },
  });
  expect(res.status()).toBe(200);
  await panel.getByRole('button', { name: 'Save', exact: true }).click();
  await expect(panel.getByRole('alert')).toContainText(
    'These clips were changed in another window.',
  );
  await shoot(page, '9-changed-elsewhere');
  await panel.getByRole('button', { name: 'Open them again' }).click();
  await expect(panel.getByTestId('clips-version')).toContainText('version 4');
  expect(await ranges(page)).toEqual(['0:00 – 0:15']);
});

test("Keepsake's own suggestions are offered, and taken only when asked", async ({ page }) => {
  test.setTimeout(120_000);
  await openTape(page);
  const panel = page.getByTestId('clips-panel');
  const suggestions = panel.getByTestId('clip-suggestions');
  await suggestions.getByRole('button', { name: 'Find where the clips begin' }).click();
  await expect(suggestions).toContainText('Looking through the tape');
  const use = suggestions.getByRole('button', { name: 'Use the suggested clips' });
  await expect(use).toBeVisible({ timeout: 90_000 });
  await shoot(page, '10-suggestions');
  await use.click();
  // The hard cuts planted at 5 s and 10 s.
  expect(await ranges(page)).toEqual(['0:00 – 0:05', '0:05 – 0:10', '0:10 – 0:15']);
  await expect(panel.getByTestId('clips-message')).toContainText("Keepsake's suggestions");
  await expect(panel.getByTestId('clips-version')).toContainText('changes not saved yet');
  await panel.getByRole('button', { name: 'Save', exact: true }).click();
  await expect(panel.getByTestId('clips-version')).toContainText('version 5');
  await shoot(page, '11-suggestions-saved');
});

test('the saved clips are made into videos of their own, each once', async ({ page }) => {
  test.setTimeout(120_000);
  await openTape(page);
  const panel = page.getByTestId('clips-panel');
  await panel.getByRole('button', { name: 'Make these clips' }).click();
  await expect(panel.getByTestId('clips-message')).toHaveText(
    'Making 3 clips. They appear in your library under “Clips of christmas-tape” when ready.',
  );
  await shoot(page, '12-making-clips');
  // Each clip becomes an item of its own, with a picture, its length on the frame.
  const items = async () => {
    const res = await page.request.get(`${engine.origin}/v1/library/items`, {
      headers: { authorization: `Bearer ${engine.token}` },
    });
    const body = (await res.json()) as {
      items: { rel: string; durationSeconds?: number; pictures: { poster?: string } }[];
    };
    return body.items.filter((i) => i.rel.startsWith('Clips of christmas-tape/'));
  };
  await expect
    .poll(async () => (await items()).filter((i) => i.pictures.poster).length, {
      timeout: 90_000,
    })
    .toBe(3);
  expect((await items()).map((i) => Math.round(i.durationSeconds ?? 0)).sort()).toEqual([5, 5, 5]);
  // Asked again: nothing is made twice.
  await panel.getByRole('button', { name: 'Make these clips' }).click();
  await expect(panel.getByTestId('clips-message')).toHaveText(
    '3 clips already in your library: nothing new to make.',
  );
  await page.keyboard.press('Escape');
  await expect(page.getByRole('dialog')).toHaveCount(0);
  await page.reload();
  await expect(page.locator('[data-testid="tile"]')).toHaveCount(4);
  await shoot(page, '13-clips-in-library');
});
