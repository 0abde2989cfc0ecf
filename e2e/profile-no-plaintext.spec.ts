// Nothing private is left in a persistent browser profile (issue 17). A family that opens
// Keepsake in an ordinary browser keeps that browser's profile on disk, unencrypted: its
// HTTP and media caches, localStorage, session restore and history. This drives a real
// Chromium with a profile folder of its own through the whole library (timeline, a photo
// full size, a video playing, a title set, Recently watched), closes it, and searches
// every file of the profile, byte for byte, for the title, the file names and slices of
// every decrypted picture and video body the page received.
import { execFile } from 'node:child_process';
import { mkdir, mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { chromium, expect, test } from '@playwright/test';
import type { BrowserContext, Page } from '@playwright/test';
import { startEngine } from './engine';
import type { RunningEngine } from './engine';

const run = promisify(execFile);
const cli = fileURLToPath(new URL('../engine/bin/keepsake.mjs', import.meta.url));
const PASSWORD = 'lantern meadow quietly nine';
// Distinctive, so a hit can only be this run's: no other text holds them.
const TITLE = 'Quillfeather Picnic 7319';
const PHOTO = 'zephyrgarden-5521.jpg';
const VIDEO = 'marrowbeach-8846.mp4';

const SHOTS = '/tmp/shots-h2';

let engine: RunningEngine;
let work: string;

test.describe.configure({ mode: 'serial' });

test.beforeAll(async () => {
  test.setTimeout(120_000);
  work = await mkdtemp(join(tmpdir(), 'keepsake-e2e-profile-'));
  const dir = join(work, 'Family');
  await mkdir(dir);
  const ffmpeg = (...args: string[]) => run('ffmpeg', ['-v', 'error', '-y', ...args]);
  await ffmpeg('-f', 'lavfi', '-i', 'testsrc=size=1200x900', '-frames:v', '1', join(dir, PHOTO));
  await ffmpeg(
    ...['-f', 'lavfi', '-i', 'testsrc=duration=6:size=320x240:rate=25'],
    ...['-f', 'lavfi', '-i', 'sine=duration=6', '-c:v', 'libx264', '-preset', 'ultrafast'],
    ...['-pix_fmt', 'yuv420p', '-c:a', 'aac', '-movflags', '+faststart'],
    join(dir, VIDEO),
  );
  engine = await startEngine();
  await run(process.execPath, [cli, 'vault', 'init', '--data-dir', engine.dataDir], {
    env: { ...process.env, KEEPSAKE_PASSWORD: PASSWORD },
  });
});

test.afterAll(async () => {
  expect(await engine.stop()).toBe(0);
  await rm(work, { recursive: true, force: true });
});

interface Item {
  id: string;
  name: string;
  pictures: { thumb?: string };
}

async function api<T>(path: string, method = 'GET', body?: unknown): Promise<T> {
  const res = await fetch(`${engine.origin}${path}`, {
    method,
    headers: {
      authorization: `Bearer ${engine.token}`,
      ...(body === undefined ? {} : { 'content-type': 'application/json' }),
    },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  expect(res.ok, `${method} ${path}: ${res.status}`).toBe(true);
  return (await res.json()) as T;
}

/** Every file under `dir`, recursively (a profile holds no symlinks worth following). */
async function filesUnder(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { withFileTypes: true });
  const nested = await Promise.all(
    entries.map((e) => {
      const path = join(dir, e.name);
      if (e.isDirectory()) return filesUnder(path);
      return Promise.resolve(e.isFile() ? [path] : []);
    }),
  );
  return nested.flat();
}

/** The text as Chromium may store it: UTF-8 (history, caches) or UTF-16 (LevelDB values). */
function encodings(text: string): Buffer[] {
  return [Buffer.from(text, 'utf8'), Buffer.from(text, 'utf16le')];
}

test('a browser profile holds no title, file name or decrypted picture after a visit', async () => {
  test.setTimeout(180_000);
  const profile = join(work, 'profile');
  const context: BrowserContext = await chromium.launchPersistentContext(profile, {
    executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium',
    headless: true,
    args: ['--no-sandbox', '--disable-gpu', '--no-first-run', '--disable-sync'],
  });
  // Every decrypted body the page fetched: a 64-byte slice of its middle is what to look for.
  const bodies: { url: string; slice: Buffer }[] = [];
  const pending: Promise<void>[] = [];
  const page: Page = context.pages()[0] ?? (await context.newPage());
  page.on('response', (response) => {
    const path = new URL(response.url()).pathname;
    if (!path.startsWith('/pic/') && !path.startsWith('/media/')) return;
    pending.push(
      response.body().then(
        (body) => {
          if (body.length < 256) return;
          const mid = Math.floor(body.length / 2);
          bodies.push({ url: path, slice: body.subarray(mid, mid + 64) });
        },
        // A media element's ranged read may be gone before it is asked for; others count.
        () => undefined,
      ),
    );
  });

  await page.goto(engine.openUrl);
  await page.getByLabel('Password', { exact: true }).fill(PASSWORD);
  await page.getByRole('button', { name: 'Unlock' }).click();
  const library = page
    .getByRole('navigation', { name: 'Main' })
    .getByRole('button', { name: 'Library', exact: true });
  await expect(library).toHaveAttribute('aria-current', 'page');

  const folder = await api<{ id: string }>('/v1/library', 'POST', { path: join(work, 'Family') });
  await api(`/v1/library/${folder.id}/encrypt`, 'POST');
  let items: Item[] = [];
  await expect
    .poll(
      async () => {
        items = (await api<{ items: Item[] }>('/v1/library/items')).items;
        return items.filter((i) => i.pictures.thumb).length;
      },
      { timeout: 90_000 },
    )
    .toBe(2);
  const idOf = (name: string) => items.find((i) => i.name === name)!.id;
  const tile = (name: string) =>
    page.locator(`[data-testid="tile"][data-id="${idOf(name)}"]`).locator('.tile-open');

  // The timeline, with both pictures shown.
  await page.reload();
  await expect(library).toHaveAttribute('aria-current', 'page');
  for (const name of [PHOTO, VIDEO]) {
    await expect(tile(name).locator('img')).toHaveJSProperty('complete', true);
  }
  await page.mouse.wheel(0, 600);

  // The photo, full size.
  const dialog = page.getByRole('dialog');
  await tile(PHOTO).click();
  const photo = dialog.getByTestId('viewer-photo');
  await expect(photo).toHaveAttribute('data-source', 'original');
  await expect.poll(() => photo.evaluate((i: HTMLImageElement) => i.naturalWidth)).toBe(1200);
  await page.keyboard.press('Escape');

  // The video, played a little; then a title for it.
  await tile(VIDEO).click();
  const video = dialog.getByTestId('player-video');
  await expect(video).toHaveAttribute('src', /^\/media\//);
  await video.evaluate((v: HTMLVideoElement) => {
    v.muted = true;
    void v.play();
  });
  await expect
    .poll(() => video.evaluate((v: HTMLVideoElement) => v.currentTime), { timeout: 20_000 })
    .toBeGreaterThan(1);
  await dialog.getByRole('button', { name: 'Edit title and date' }).click();
  await dialog.getByRole('textbox', { name: 'Title' }).fill(TITLE);
  await dialog.getByRole('button', { name: 'Save' }).click();
  await expect(dialog.getByRole('heading', { name: TITLE })).toBeVisible();
  await page.keyboard.press('Escape');

  // Recently watched lists it by its title.
  await page
    .getByRole('navigation', { name: 'Main' })
    .getByRole('button', { name: 'Recently watched', exact: true })
    .click();
  await expect(
    page.getByTestId('watched-list').getByRole('button', { name: `Watch ${TITLE}` }),
  ).toBeVisible();

  await Promise.all(pending);
  await context.close();
  // Both kinds of decrypted body were seen, or the search below proves nothing about them.
  expect(bodies.some((b) => b.url.startsWith('/pic/'))).toBe(true);
  expect(bodies.some((b) => b.url.startsWith('/media/'))).toBe(true);

  const needles: { what: string; bytes: Buffer }[] = [
    ...encodings(TITLE).map((bytes) => ({ what: `the title "${TITLE}"`, bytes })),
    ...[PHOTO, VIDEO].flatMap((name) =>
      encodings(name).map((bytes) => ({ what: `the file name ${name}`, bytes })),
    ),
    ...bodies.map((b) => ({ what: `the decrypted body of ${b.url}`, bytes: b.slice })),
  ];
  const files = await filesUnder(profile);
  expect(files.length).toBeGreaterThan(10);
  const found: string[] = [];
  for (const file of files) {
    const content = await readFile(file).catch(() => undefined);
    if (!content) continue;
    for (const needle of needles) {
      if (content.includes(needle.bytes)) found.push(`${relative(profile, file)}: ${needle.what}`);
    }
  }
  expect([...new Set(found)]).toEqual([]);
});

async function unlock(page: Page) {
  await page.goto(engine.openUrl);
  const password = page.getByLabel('Password', { exact: true });
  const library = page
    .getByRole('navigation', { name: 'Main' })
    .getByRole('button', { name: 'Library', exact: true });
  await expect(password.or(library.and(page.locator('[aria-current="page"]')))).toBeVisible();
  if (await password.isVisible()) {
    await password.fill(PASSWORD);
    await page.getByRole('button', { name: 'Unlock' }).click();
  }
  await expect(library).toHaveAttribute('aria-current', 'page');
}

test('what an older version kept in localStorage moves to the engine once, and is removed', async ({
  page,
}) => {
  const items = (await api<{ items: Item[] }>('/v1/library/items')).items;
  const photo = items.find((i) => i.name === PHOTO)!;
  const folder = join(work, 'Delivered');
  await page.goto(engine.openUrl);
  await page.evaluate(
    ([ids, dir]) => {
      localStorage.setItem('keepsake.recentlyWatched', JSON.stringify(ids));
      localStorage.setItem('keepsake.make.outDir', dir);
    },
    [[photo.id], folder] as const,
  );
  await page.reload();
  await expect
    .poll(() =>
      page.evaluate(() => Object.keys(localStorage).filter((k) => k.startsWith('keepsake'))),
    )
    .toEqual([]);
  const watched = await api<{ items: { fileId: string }[] }>('/v1/library/watched');
  expect(watched.items[0]?.fileId).toBe(photo.id);
  expect(await api('/v1/settings')).toMatchObject({ deliveryFolder: folder });

  // Make › Advanced offers the folder the engine now keeps.
  await mkdir(SHOTS, { recursive: true });
  await unlock(page);
  await page
    .getByRole('navigation', { name: 'Main' })
    .getByRole('button', { name: 'Make', exact: true })
    .click();
  await page.getByText('Advanced: choose the exact settings yourself').click();
  await page.getByRole('radio', { name: /^Automated/ }).check();
  const field = page.getByRole('textbox', { name: 'Output folder' });
  await expect(field).toHaveValue(folder);
  await field.scrollIntoViewIfNeeded();
  await page.screenshot({ path: join(SHOTS, 'make-remembered-folder.png') });

  // Recently watched names the item the old list held, from the library.
  await page
    .getByRole('navigation', { name: 'Main' })
    .getByRole('button', { name: 'Recently watched', exact: true })
    .click();
  await expect(page.getByTestId('watched-list').getByRole('button').first()).toHaveAccessibleName(
    `Watch ${PHOTO}`,
  );
  await page.screenshot({ path: join(SHOTS, 'recently-watched.png') });
});

test('a delivered copy says where it went: the path to copy in a browser, Show in folder in the app', async ({
  page,
  context,
}) => {
  test.setTimeout(120_000);
  await mkdir(SHOTS, { recursive: true });
  const items = (await api<{ items: Item[] }>('/v1/library/items')).items;
  const video = items.find((i) => i.name === VIDEO)!;
  const folder = join(work, 'Videos', 'Keepsake');
  const made = await api<{ id: string }>('/v1/jobs', 'POST', {
    fileId: video.id,
    preset: 'web-h264',
    mode: 'automated',
    outDir: folder,
  });
  let path = '';
  await expect
    .poll(
      async () => {
        const job = await api<{ delivery?: { state: string; path?: string } }>(
          `/v1/jobs/${made.id}`,
        );
        path = job.delivery?.path ?? '';
        return job.delivery?.state;
      },
      { timeout: 90_000 },
    )
    .toBe('saved');
  expect(path.startsWith(`${folder}/`)).toBe(true);

  // A browser: the short words, and the full path with Copy.
  await context.grantPermissions(['clipboard-read', 'clipboard-write']);
  await unlock(page);
  const tile = page.locator(`[data-testid="tile"][data-id="${video.id}"]`).locator('.tile-open');
  await tile.click();
  const note = page.getByRole('dialog').getByTestId('item-outputs').getByTestId('delivered');
  const words = path.split('/').slice(-3).join(' › ');
  await expect(note).toContainText(`Saved to ${words}`);
  await expect(note.getByRole('textbox', { name: 'Where the copy was saved' })).toHaveValue(path);
  await expect(note.getByRole('button', { name: 'Show in folder' })).toHaveCount(0);
  await note.getByRole('button', { name: 'Copy' }).click();
  await expect(note).toContainText('Copied.');
  expect(await page.evaluate(() => navigator.clipboard.readText())).toBe(path);
  await page.screenshot({ path: join(SHOTS, 'delivered-browser.png') });

  // The Jobs screen says it too.
  await page.keyboard.press('Escape');
  await page
    .getByRole('navigation', { name: 'Main' })
    .getByRole('button', { name: 'Jobs', exact: true })
    .click();
  await expect(page.getByTestId('delivered').first()).toContainText(`Saved to ${words}`);
  await page.screenshot({ path: join(SHOTS, 'delivered-jobs.png'), fullPage: true });

  // The app: a bridge whose reveal the page calls with exactly the delivered path.
  await page.addInitScript(() => {
    const shown: string[] = [];
    (window as unknown as { shown: string[] }).shown = shown;
    (window as unknown as { keepsake: unknown }).keepsake = {
      reveal: async (p: string) => void shown.push(p),
    };
  });
  await page.reload();
  await page
    .getByRole('navigation', { name: 'Main' })
    .getByRole('button', { name: 'Library', exact: true })
    .click();
  await tile.click();
  await expect(note).toContainText(`Saved to ${words}`);
  await expect(note.getByRole('textbox')).toHaveCount(0);
  await note.getByRole('button', { name: 'Show in folder' }).click();
  await expect
    .poll(() => page.evaluate(() => (window as unknown as { shown: string[] }).shown))
    .toEqual([path]);
  await page.screenshot({ path: join(SHOTS, 'delivered-app.png') });
});
