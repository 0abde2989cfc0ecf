// The library is an archive, in a real Chromium against a real engine: uploads are
// encrypted as they stream in (bytes, percent and time left while they do; no plaintext in
// the data folder), a tab closed mid-upload is reported on return, a deleted original stays
// in the vault and can be saved back byte for byte, and Remove keeps the protected copies
// unless the family ticks the box that says what goes.
import { randomBytes } from 'node:crypto';
import { mkdir, mkdtemp, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect, test } from '@playwright/test';
import type { APIRequestContext, Page } from '@playwright/test';
import { startEngine } from './engine';
import { nav, shot } from './ui';
import type { RunningEngine } from './engine';

const PASSWORD = 'gardenia kettle seven rivers';

let engine: RunningEngine;
let work: string;

test.beforeEach(async ({ request }) => {
  engine = await startEngine();
  work = await mkdtemp(join(tmpdir(), 'keepsake-e2e-archive-'));
  const res = await api(request, 'POST', '/v1/vault', { password: PASSWORD });
  expect(res.status()).toBe(201);
});

test.afterEach(async () => {
  await engine.stop();
  await rm(work, { recursive: true, force: true });
});

function api(request: APIRequestContext, method: string, path: string, data?: unknown) {
  return request.fetch(`${engine.origin}${path}`, {
    method,
    headers: { authorization: `Bearer ${engine.token}` },
    data,
  });
}

/** Media bytes carrying a marker that must never be found in the data folder in the clear. */
function marked(size: number): { bytes: Buffer; marker: Buffer } {
  const marker = randomBytes(32);
  const bytes = randomBytes(size);
  marker.copy(bytes, 4096);
  marker.copy(bytes, size - 64);
  return { bytes, marker };
}

async function filesContaining(root: string, needle: Buffer): Promise<string[]> {
  const hits: string[] = [];
  for (const entry of await readdir(root, { recursive: true, withFileTypes: true })) {
    if (!entry.isFile()) continue;
    const path = join(entry.parentPath, entry.name);
    if ((await readFile(path)).includes(needle)) hits.push(path);
  }
  return hits;
}

/** Slows this page's uploads (Chromium's own throttling), so progress can be watched. */
async function throttleUploads(page: Page, bytesPerSecond: number): Promise<void> {
  const cdp = await page.context().newCDPSession(page);
  await cdp.send('Network.enable');
  await cdp.send('Network.emulateNetworkConditions', {
    offline: false,
    latency: 0,
    downloadThroughput: -1,
    uploadThroughput: bytesPerSecond,
  });
}

async function openLibrary(page: Page): Promise<void> {
  await page.goto(engine.openUrl);
  await nav(page, 'Library').click();
  await expect(page.getByRole('heading', { name: 'Library' })).toBeVisible();
  // The folders, not the timeline of pictures.
  await page.getByRole('button', { name: 'Details', exact: true }).click();
}

test('an upload is encrypted as it streams in, shows bytes, percent and time left, and saves back byte for byte', async ({
  page,
}, testInfo) => {
  const { bytes, marker } = marked(3_000_000);
  await openLibrary(page);
  await throttleUploads(page, 1_000_000);
  await page.getByTestId('upload-files').setInputFiles({
    name: 'Christmas 1994.mov',
    mimeType: 'video/quicktime',
    buffer: bytes,
  });
  const progress = page.getByTestId('upload-progress');
  await expect(progress).toContainText(
    /Uploading 1 of 1: Christmas 1994\.mov — \d+% · [\d.]+ [KM]B of 3\.0 MB · /,
  );
  await expect(progress).toContainText(/left/, { timeout: 10_000 });
  await shot(page, testInfo, 'library-upload-progress');
  await expect(progress).toContainText('Uploaded and protected 1 of 1 files.', {
    timeout: 30_000,
  });
  // Nothing of it was ever written in the clear.
  expect(await filesContaining(engine.dataDir, marker)).toEqual([]);

  const uploads = page.getByRole('listitem', { name: 'Uploaded files', exact: true });
  await expect(uploads.getByTestId('folder-encrypted')).toHaveText('1');
  await expect(uploads).toContainText('the only copy');
  await uploads.getByRole('button', { name: 'Show files' }).click();
  await uploads.getByRole('button', { name: 'Save a copy of Christmas 1994.mov' }).click();
  const out = join(work, 'saved');
  await uploads.getByLabel('Save into folder').fill(out);
  await uploads.getByRole('button', { name: 'Save', exact: true }).click();
  await expect(uploads.getByTestId('save-done')).toHaveText(
    `Saved to ${join(out, 'Christmas 1994.mov')}`,
  );
  await shot(page, testInfo, 'library-save-copy-done');
  expect((await readFile(join(out, 'Christmas 1994.mov'))).equals(bytes)).toBe(true);
});

test('a tab closed in the middle of an upload is reported when the family comes back', async ({
  page,
  context,
  request,
}, testInfo) => {
  await openLibrary(page);
  await throttleUploads(page, 200_000);
  // tape B's request is held (never sent on), so it cannot reach the engine before the page
  // goes: the browser sends ahead of the throttle, and under load both files could finish
  // in the moment between "Uploading 1 of 2" and the close (seen once in CI).
  await page.route('**/v1/library/uploads*', async (route) => {
    const name = decodeURIComponent(route.request().headers()['x-file-name'] ?? '');
    if (name !== 'tape B.mov') await route.continue();
  });
  await page.getByTestId('upload-files').setInputFiles([
    { name: 'tape A.mov', mimeType: 'video/quicktime', buffer: randomBytes(2_000_000) },
    { name: 'tape B.mov', mimeType: 'video/quicktime', buffer: randomBytes(1000) },
  ]);
  await expect(page.getByTestId('upload-progress')).toContainText(/Uploading 1 of 2/);
  await page.close();

  const back = await context.newPage();
  await openLibrary(back);
  const report = back.getByTestId('unfinished-uploads');
  // tape B never started; tape A may have reached the engine whole before the page went
  // (the browser sends ahead of its throttled progress). The report names exactly the
  // files the engine does not hold.
  await expect(report).toContainText('“tape B.mov”');
  const held = new Set<string>();
  for (const folder of (await (await api(request, 'GET', '/v1/library')).json()) as {
    id: string;
  }[]) {
    const files = (await (await api(request, 'GET', `/v1/library/${folder.id}/files`)).json()) as {
      rel: string;
      size: number;
    }[];
    for (const f of files) held.add(`${f.rel}:${f.size}`);
  }
  expect([...held].every((f) => f === 'tape A.mov:2000000')).toBe(true);
  if (held.size === 0) {
    await expect(report).toContainText('2 files were not finished uploading');
    await expect(report).toContainText('“tape A.mov”');
  } else {
    await expect(report).toContainText('“tape B.mov” was not finished uploading');
  }
  await expect(report).toContainText('again to finish.');
  await shot(back, testInfo, 'library-unfinished-upload');
  await report.getByRole('button', { name: 'Dismiss' }).click();
  await expect(report).toBeHidden();
  await back.reload();
  await expect(back.getByRole('heading', { name: 'Library' })).toBeVisible();
  await expect(back.getByTestId('unfinished-uploads')).toBeHidden();
});

test('a deleted original stays in the vault and saves back; Remove keeps the copies unless asked', async ({
  page,
}, testInfo) => {
  const media = join(work, 'Summer 1999');
  await mkdir(join(media, 'Tapes'), { recursive: true });
  const tape = randomBytes(400_000);
  await writeFile(join(media, 'Tapes', 'lake.mp4'), tape);
  await writeFile(join(media, 'picnic.jpg'), randomBytes(20_000));
  // An old camera card's Latin-1 name (not UTF-8) and a hidden file: left out, and said so.
  await writeFile(
    Buffer.concat([Buffer.from(`${media}/No`), Buffer.from([0xeb]), Buffer.from('l.jpg')]),
    randomBytes(2_000),
  );
  await writeFile(join(media, '.hidden.jpg'), randomBytes(2_000));

  await openLibrary(page);
  await page.getByLabel('Folder path').fill(media);
  await page.getByRole('button', { name: 'Add folder' }).click();
  const folder = page.getByRole('listitem', { name: 'Summer 1999', exact: true });
  await expect(folder.getByTestId('folder-encrypted')).toHaveText('2', { timeout: 30_000 });
  await expect(folder.getByTestId('folder-left-out')).toHaveText(
    'Left out 2: 1 file with a name Keepsake cannot read, 1 hidden file or folder (names starting with a dot). These are not in your library: keep their originals.',
  );
  await shot(page, testInfo, 'library-left-out');

  // Adding it again adds nothing, and says so.
  await page.getByRole('button', { name: 'Add folder' }).click();
  await expect(page.getByText('“Summer 1999” is already in your library.')).toBeVisible();

  // The original is deleted from the disk: the item stays, in the vault only.
  await rm(join(media, 'Tapes', 'lake.mp4'));
  await folder.getByRole('button', { name: 'Look again' }).click();
  await expect(folder.getByTestId('folder-vault-only')).toHaveText('1');
  await folder.getByRole('button', { name: 'Show files' }).click();
  const row = folder.getByRole('row', { name: /Tapes\/lake\.mp4/ });
  await expect(row).toContainText('Only in the vault');
  await row.getByRole('button', { name: 'Save a copy of Tapes/lake.mp4' }).click();
  const out = join(work, 'restored');
  await row.getByLabel('Save into folder').fill(out);
  await row.getByRole('button', { name: 'Save', exact: true }).click();
  await expect(row.getByTestId('save-done')).toHaveText(`Saved to ${join(out, 'lake.mp4')}`);
  expect((await readFile(join(out, 'lake.mp4'))).equals(tape)).toBe(true);
  await shot(page, testInfo, 'library-vault-only');

  // Remove tells the truth, and keeps the protected copies unless the box is ticked.
  await folder.getByRole('button', { name: 'Remove…' }).click();
  const confirm = folder.getByTestId('remove-confirm');
  await expect(confirm).toContainText('Stop watching “Summer 1999”?');
  await expect(confirm).toContainText('The files on your disk are not touched.');
  await expect(confirm).toContainText('stay in your vault');
  await confirm.getByLabel(/Also delete the protected copies \(2 files, /).check();
  await expect(confirm.getByTestId('only-copies-warning')).toContainText('1 of these files');
  await shot(page, testInfo, 'library-remove-confirm-delete');
  await confirm.getByLabel(/Also delete the protected copies/).uncheck();
  await expect(confirm.getByTestId('only-copies-warning')).toBeHidden();
  await confirm.getByRole('button', { name: 'Stop watching', exact: true }).click();

  await expect(folder.getByTestId('folder-unwatched')).toHaveText('No longer watched');
  await expect(folder.getByTestId('folder-encrypted')).toHaveText('2');
  const copies = async () =>
    (await readdir(join(engine.dataDir, 'library'), { recursive: true })).filter((n) =>
      n.endsWith('.ksv'),
    );
  expect(await copies()).toHaveLength(2);
  await shot(page, testInfo, 'library-unwatched');

  // Deleting the copies is a second, deliberate step.
  await folder.getByRole('button', { name: 'Delete copies…' }).click();
  await expect(folder.getByTestId('remove-confirm')).toContainText('It cannot be undone.');
  await folder.getByRole('button', { name: 'Delete copies', exact: true }).click();
  await expect(folder).toBeHidden();
  expect(await copies()).toEqual([]);
  // The sources were never touched.
  expect(await readdir(media)).toEqual(expect.arrayContaining(['picnic.jpg', 'Tapes']));
});
