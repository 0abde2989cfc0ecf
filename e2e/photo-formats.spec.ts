// The Advanced form's photo formats in a real Chromium against a real engine: the list
// says each in words ("JPEG — opens everywhere"), and a JPEG or an AVIF made from it
// arrives with the photo's pixels and shows in the viewer (Chromium decodes AVIF).
import { execFile } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { expect, test } from '@playwright/test';
import { startEngine } from './engine';
import { nav, shot } from './ui';
import type { RunningEngine } from './engine';

const run = promisify(execFile);

let engine: RunningEngine;
let media: string;

test.beforeEach(async () => {
  engine = await startEngine();
  media = await mkdtemp(join(tmpdir(), 'keepsake-e2e-photo-'));
});

test.afterEach(async () => {
  await engine.stop();
  await rm(media, { recursive: true, force: true });
});

interface FileView {
  id: string;
  name: string;
  encrypted: boolean;
  jobs: { preset: string; state: string }[];
}

for (const [kind, words] of [
  ['jpeg', 'JPEG — opens everywhere'],
  ['avif', 'AVIF — as small as WebP, for newer phones and browsers'],
] as const) {
  test(`photo-web offers ${kind} in plain words and makes one`, async ({
    page,
    request,
  }, testInfo) => {
    test.setTimeout(120_000);
    await run('ffmpeg', [
      ...['-v', 'error', '-f', 'lavfi', '-i', 'testsrc=size=320x240', '-frames:v', '1'],
      join(media, 'garden.png'),
    ]);
    const headers = { authorization: `Bearer ${engine.token}` };
    const api = async <T>(path: string) =>
      (await (await request.get(`${engine.origin}${path}`, { headers })).json()) as T;
    const vault = await request.post(`${engine.origin}/v1/vault`, {
      headers,
      data: { password: 'gardenia kettle seven rivers' },
    });
    expect(vault.status()).toBe(201);
    const added = await request.post(`${engine.origin}/v1/library`, {
      headers,
      data: { path: media },
    });
    expect(added.status()).toBe(201);
    const folder = (await added.json()) as { id: string; name: string };
    await expect
      .poll(async () => (await api<FileView[]>(`/v1/library/${folder.id}/files`))[0]?.encrypted, {
        timeout: 60_000,
      })
      .toBe(true);

    await page.goto(engine.openUrl);
    await nav(page, 'Make').click();
    await page.getByText('Advanced: choose the exact settings yourself').click();
    await page.getByLabel('Folder', { exact: true }).selectOption({ label: folder.name });
    const file = page.getByLabel('File', { exact: true });
    await file.selectOption(
      (await file.locator('option', { hasText: 'garden.png' }).getAttribute('value')) ?? '',
    );
    await page.getByRole('radio', { name: /^photo-web/ }).check();

    const format = page.getByTestId('param-format');
    await expect(format.locator('option')).toHaveText([
      'Default',
      'WebP — smallest, for sending by email or message',
      'JPEG — opens everywhere',
      'AVIF — as small as WebP, for newer phones and browsers',
    ]);
    // A native list cannot be shot open: shown as a list box for one screenshot instead.
    await format.evaluate((el) => ((el as HTMLSelectElement).size = 4));
    await shot(page, testInfo, 'make-photo-format-choices');
    await format.evaluate((el) => ((el as HTMLSelectElement).size = 0));
    await format.selectOption({ label: words });
    await expect(format).toHaveValue(kind);
    await shot(page, testInfo, `make-photo-format-${kind}`);

    await page.getByRole('button', { name: 'Start job' }).click();
    await expect(nav(page, 'Jobs')).toHaveAttribute('aria-current', 'page');
    await expect
      .poll(
        async () => {
          const [f] = await api<FileView[]>(`/v1/library/${folder.id}/files`);
          return (f?.jobs ?? []).map((j) => `${j.preset}:${j.state}`);
        },
        { timeout: 60_000, intervals: [500] },
      )
      .toEqual(['photo-web:succeeded']);
    await expect(page.getByTestId('job-list')).toContainText('Photo for sharing');
    await shot(page, testInfo, `jobs-photo-${kind}-done`);
    // The job opens in the viewer, which shows what was made.
    await page.getByRole('button', { name: 'Open Photo for sharing · garden.png' }).click();
    const picture = page.locator('img').first();
    await expect(picture).toBeVisible();
    await expect
      .poll(() => picture.evaluate((img) => (img as HTMLImageElement).naturalWidth))
      .toBe(320);
    await shot(page, testInfo, `jobs-photo-${kind}-open`);
  });
}
