// Jobs keep the family's work (issue 14, findings 3 and 8), in Chromium against the real
// engine: a finished job's results open (a photo shown, thumbnails as a grid) and save as a
// copy byte-identical to what the CLI decrypts; Remove asks first, naming what goes; a
// lock while a job runs asks, and "stop" puts the job back in the queue without using up
// an attempt. A job waiting for a paired server that is down names it and since when.
import { execFile } from 'node:child_process';
import { mkdir, mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
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
const PASSWORD = 'gardenia kettle seven rivers';

let engine: RunningEngine;
let media: string;

test.beforeAll(async () => {
  media = await mkdtemp(join(tmpdir(), 'keepsake-e2e-jobs-'));
  await mkdir(join(media, 'Family'));
  const lavfi = (args: string[]) => run('ffmpeg', ['-v', 'error', '-f', 'lavfi', ...args]);
  await Promise.all([
    lavfi(['-i', 'testsrc=size=640x480', '-frames:v', '1', join(media, 'Family', 'garden.png')]),
    lavfi([
      '-i',
      'testsrc=duration=4:size=320x240:rate=25',
      '-c:v',
      'libx264',
      '-pix_fmt',
      'yuv420p',
      join(media, 'Family', 'picnic.mp4'),
    ]),
    // Long enough to still be encoding when the vault is locked.
    lavfi([
      '-i',
      'testsrc=duration=60:size=640x360:rate=25',
      '-c:v',
      'libx264',
      '-preset',
      'ultrafast',
      '-pix_fmt',
      'yuv420p',
      join(media, 'Family', 'tape.mp4'),
    ]),
  ]);
});

test.afterAll(async () => {
  await rm(media, { recursive: true, force: true });
});

test.beforeEach(async () => {
  engine = await startEngine();
  // The vault is made beside the engine (the CLI on the same data folder): these tests are
  // about jobs, not the vault screens.
  await run(process.execPath, [cli, 'vault', 'init', '--data-dir', engine.dataDir], {
    env: { ...process.env, KEEPSAKE_PASSWORD: PASSWORD },
  });
});

test.afterEach(async () => {
  expect(await engine.stop()).toBe(0);
});

async function unlock(page: Page): Promise<void> {
  await page.goto(engine.openUrl);
  await page.getByLabel('Password', { exact: true }).fill(PASSWORD);
  await page.getByRole('button', { name: 'Unlock' }).click();
  await expect(nav(page, 'Library')).toHaveAttribute('aria-current', 'page');
}

/** The engine's API with the token, for the setup steps the UI is not under test for. */
function api(request: APIRequestContext) {
  const headers = { authorization: `Bearer ${engine.token}` };
  return {
    get: async <T>(path: string) =>
      (await (await request.get(`${engine.origin}${path}`, { headers })).json()) as T,
    post: async <T>(path: string, data: unknown = {}) =>
      (await (await request.post(`${engine.origin}${path}`, { headers, data })).json()) as T,
  };
}

/** The Family folder added and protected; its files by name. */
async function family(request: APIRequestContext): Promise<Map<string, string>> {
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
    .toBe(3);
  const files = await a.get<{ id: string; rel: string }[]>(`/v1/library/${folder.id}/files`);
  return new Map(files.map((f) => [f.rel, f.id]));
}

const jobRow = (page: Page, name: RegExp) =>
  page.getByTestId('job-list').getByRole('article', { name });

test('finished results open, save as a copy identical to the CLI, and are removed only when confirmed', async ({
  page,
  request,
}, testInfo) => {
  test.setTimeout(180_000);
  await unlock(page);
  const files = await family(request);
  const a = api(request);
  const photo = await a.post<{ id: string }>('/v1/jobs', {
    fileId: files.get('garden.png'),
    preset: 'photo-web',
  });
  await a.post('/v1/jobs', { fileId: files.get('picnic.mp4'), preset: 'thumbnails' });
  await a.post('/v1/jobs', { fileId: files.get('picnic.mp4'), preset: 'web-h264' });

  await nav(page, 'Jobs').click();
  const photoRow = jobRow(page, /^Photo for sharing · /);
  const thumbsRow = jobRow(page, /^Poster and contact sheet · /);
  const webRow = jobRow(page, /^Copy to watch · /);
  for (const row of [photoRow, thumbsRow, webRow]) {
    await expect(row.getByTestId('job-state')).toHaveText('Done', { timeout: 90_000 });
  }
  await shot(page, testInfo, 'jobs-results');

  // --- Save a copy: into a typed folder (a plain browser has no folder picker). ----------
  const saved = await mkdtemp(join(tmpdir(), 'keepsake-e2e-saved-'));
  try {
    await photoRow.getByRole('button', { name: /^Save a copy of Photo for sharing · / }).click();
    await photoRow.getByLabel('Save into folder').fill(saved);
    await shot(page, testInfo, 'jobs-save-folder');
    await photoRow.getByRole('button', { name: 'Save', exact: true }).click();
    await expect(photoRow.getByTestId('save-done')).toContainText(
      `Saved to ${join(saved, 'garden (photo-web)')}`,
    );
    await shot(page, testInfo, 'jobs-saved');
    const [copy] = await readdir(saved);
    expect(copy).toMatch(/^garden \(photo-web\)\.\w+$/);

    // The same output decrypted by the CLI, from the engine's outputs folder.
    const outputs = join(engine.dataDir, 'outputs', photo.id);
    const [sealed] = (await readdir(outputs)).filter((n) => n.endsWith('.ksv'));
    const byCli = join(saved, 'cli');
    await mkdir(byCli);
    await run(
      process.execPath,
      [cli, 'decrypt', join(outputs, sealed!), byCli, '--data-dir', engine.dataDir],
      { env: { ...process.env, KEEPSAKE_PASSWORD: PASSWORD } },
    );
    const [fromCli] = await readdir(byCli);
    expect((await readFile(join(saved, copy!))).equals(await readFile(join(byCli, fromCli!)))).toBe(
      true,
    );

    // Saved again: a new name beside the first, nothing replaced.
    await photoRow.getByRole('button', { name: /^Save a copy of Photo for sharing · / }).click();
    await photoRow.getByLabel('Save into folder').fill(saved);
    await photoRow.getByRole('button', { name: 'Save', exact: true }).click();
    await expect(photoRow.getByTestId('save-done')).toContainText('garden (photo-web) 2.');
  } finally {
    await rm(saved, { recursive: true, force: true });
  }

  // --- Open: in the viewer, a photo is shown; thumbnails one at a time, picked in a strip.
  await photoRow.getByRole('button', { name: /^Open Photo for sharing · / }).click();
  const picture = page.getByTestId('viewer-picture').locator('img');
  await expect
    .poll(() => picture.evaluate((img: HTMLImageElement) => img.naturalWidth))
    .toBeGreaterThan(0);
  await shot(page, testInfo, 'viewer-photo');
  await page.keyboard.press('Escape');
  await thumbsRow.getByRole('button', { name: /^Open Poster and contact sheet · / }).click();
  const grid = page.getByRole('list', { name: 'Pictures in this result' });
  await expect(grid.locator('img').first()).toBeVisible();
  const thumbs = await grid.locator('img').count();
  expect(thumbs).toBeGreaterThan(1);
  await expect
    .poll(() =>
      grid
        .getByRole('img')
        .evaluateAll((imgs) => imgs.every((i) => (i as HTMLImageElement).naturalWidth > 0)),
    )
    .toBe(true);
  await shot(page, testInfo, 'viewer-thumbnails');
  await grid.getByRole('button').nth(1).click();
  await expect(page.getByTestId('viewer-picture')).toContainText(`2 of ${thumbs}`);
  await shot(page, testInfo, 'viewer-thumbnail-one');
  await page.keyboard.press('Escape');

  // --- Remove asks first, naming each result and its size. -----------------------------
  await nav(page, 'Jobs').click();
  await webRow.getByRole('button', { name: /^Remove Copy to watch · / }).click();
  const confirm = webRow.getByTestId('job-remove-confirm');
  await expect(confirm).toContainText('Delete what this job made?');
  await expect(confirm).toContainText(/\.mp4 · [\d.]+ [kKM]B/);
  await expect(confirm).toContainText('This cannot be undone.');
  await shot(page, testInfo, 'jobs-remove-confirm');
  await confirm.getByRole('button', { name: 'Keep it' }).click();
  await expect(confirm).toBeHidden();
  await expect(webRow).toHaveCount(1);
  await webRow.getByRole('button', { name: /^Remove Copy to watch · / }).click();
  await webRow.getByRole('button', { name: 'Delete the result' }).click();
  await expect(webRow).toHaveCount(0);
});

test('locking while a job runs asks first; "stop" requeues it with no attempt used', async ({
  page,
  request,
}, testInfo) => {
  test.setTimeout(120_000);
  await unlock(page);
  const files = await family(request);
  const job = await api(request).post<{ id: string }>('/v1/jobs', {
    fileId: files.get('tape.mp4'),
    preset: 'archive-hevc',
  });
  await nav(page, 'Jobs').click();
  const row = jobRow(page, /^Archive master · /);
  await expect(row.getByTestId('job-state')).toHaveText('Running', { timeout: 30_000 });

  await nav(page, 'Vault').click();
  await page.getByRole('button', { name: 'Lock vault' }).click();
  const ask = page.getByRole('alertdialog', { name: 'A job is running' });
  await expect(ask).toContainText(
    'it goes back in the queue and starts again from the beginning when you next unlock',
  );
  await shot(page, testInfo, 'lock-jobs-running');
  // "Keep working" changes nothing.
  await ask.getByRole('button', { name: 'Keep working' }).click();
  await expect(page.getByTestId('vault-state')).toContainText('unlocked');

  await page.getByRole('button', { name: 'Lock vault' }).click();
  await ask.getByRole('button', { name: 'Stop it and lock now' }).click();
  await expect(page.getByRole('button', { name: 'Unlock' })).toBeVisible();
  await shot(page, testInfo, 'lock-stopped');

  // Beside the engine: back in the queue, none of its three attempts used, no failure.
  const { stdout } = await run(
    process.execPath,
    [cli, 'job', 'list', '--json', '--data-dir', engine.dataDir],
    { env: { ...process.env, KEEPSAKE_PASSWORD: PASSWORD } },
  );
  const { jobs } = JSON.parse(stdout) as {
    jobs: { id: string; state: string; attempts: number }[];
  };
  const listed = jobs.find((j) => j.id === job.id);
  expect(listed).toMatchObject({ state: 'queued', attempts: 0 });
  expect(listed).not.toHaveProperty('lastError');

  // Unlocked again, the job runs again; this time the lock waits for it.
  await page.getByLabel('Password', { exact: true }).fill(PASSWORD);
  await page.getByRole('button', { name: 'Unlock' }).click();
  await expect(nav(page, 'Library')).toHaveAttribute('aria-current', 'page');
  await nav(page, 'Jobs').click();
  await expect(row.getByTestId('job-state')).toHaveText('Running', { timeout: 30_000 });
  await nav(page, 'Vault').click();
  await page.getByRole('button', { name: 'Lock vault' }).click();
  await ask.getByRole('button', { name: 'Wait, then lock' }).click();
  await expect(page.getByTestId('lock-pending')).toContainText(
    'Keepsake will lock the vault as soon as the running job finishes.',
  );
  await expect(page.getByTestId('vault-state')).toContainText('unlocked');
  // The job ends (cancelled here, to keep the test short): the vault locks by itself.
  await api(request).post(`/v1/jobs/${job.id}/cancel`);
  await expect(page.getByRole('button', { name: 'Unlock' })).toBeVisible({ timeout: 30_000 });
});

test('a lock that waits is shown until it happens; a job waiting for its server names it', async ({
  page,
}, testInfo) => {
  // The engine's side is covered in desktop-jobs.test.ts; here, what the family reads.
  await page.route(/\/v1\/vault$/, (route) =>
    route.fulfill({
      json: { exists: true, unlocked: true, dir: '/vault', lockPending: { running: 2 } },
    }),
  );
  const since = new Date();
  since.setHours(10, 42, 0, 0);
  const waiting = {
    id: 'jaaaaaaaaaaaa',
    state: 'queued',
    preset: 'archive-hevc',
    params: {},
    mode: 'manual',
    priority: 0,
    createdAt: since.getTime(),
    attempts: 0,
    maxAttempts: 3,
    waitingForKeys: false,
    notes: [],
    outputs: [],
    remote: 'lxc',
    waiting: { server: 'lxc', since: since.getTime(), lastError: 'connect ECONNREFUSED' },
  };
  await page.route(/\/v1\/jobs\?/, (route) => route.fulfill({ json: [waiting] }));
  await page.route(/\/v1\/jobs\/events$/, (route) => route.abort('connectionreset'));
  await page.goto(engine.openUrl);
  await nav(page, 'Vault').click();
  await expect(page.getByTestId('lock-pending')).toContainText(
    'Keepsake will lock the vault as soon as the 2 running jobs finish.',
  );
  await expect(page.getByRole('button', { name: 'Stop them and lock now' })).toBeVisible();
  await shot(page, testInfo, 'lock-pending');

  await nav(page, 'Jobs').click();
  // A job of no library file is named by what it makes alone.
  const row = jobRow(page, /^Archive master$/);
  const time = since.toLocaleTimeString([], { hour: '2-digit', minute: '2-digit' });
  await expect(row).toContainText(`Waiting for “lxc” — unreachable since ${time}.`);
  await expect(page.getByTestId('overall-eta')).toContainText('waiting for “lxc” to be reachable');
  await shot(page, testInfo, 'jobs-waiting-for-server');
});

test('the Make screen never starts a preset on a file it cannot take', async ({
  page,
  request,
}, testInfo) => {
  await unlock(page);
  await family(request);
  await nav(page, 'Make').click();
  // The preset forms are under "Advanced" (the screen opens with goals).
  await page.getByText('Advanced: choose the exact settings yourself').click();
  const pick = async (name: string) => {
    const select = page.getByLabel('File', { exact: true });
    const value = await select.locator('option', { hasText: name }).getAttribute('value');
    await select.selectOption(value ?? '');
  };
  await pick('picnic.mp4');
  await expect(page.getByRole('radio', { name: /^photo-web/ })).toBeDisabled();
  await page.getByRole('radio', { name: /^web-h264/ }).check();
  // The photo picked after the video preset: said plainly, and nothing starts.
  await pick('garden.png');
  await expect(page.getByRole('alert')).toContainText(
    'web-h264 is for video files, and garden.png is a photo: choose another preset.',
  );
  await shot(page, testInfo, 'make-preset-unfit');
  await page.getByRole('button', { name: 'Start job' }).click();
  await expect(nav(page, 'Make')).toHaveAttribute('aria-current', 'page');
  expect(await api(request).get<unknown[]>('/v1/jobs')).toEqual([]);
});
