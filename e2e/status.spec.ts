// The first screen, end to end: engine process → HTTP API → React UI in Chromium.
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { expect, test } from '@playwright/test';
import { startEngine } from './engine';
import type { RunningEngine } from './engine';

let engine: RunningEngine;

test.beforeEach(async () => {
  engine = await startEngine();
});

test.afterEach(async () => {
  // The engine must shut down cleanly, not just die.
  expect(await engine.stop()).toBe(0);
});

test('Settings says what this Keepsake is: version, FFmpeg, data folder', async ({
  page,
  request,
}, testInfo) => {
  const problems: string[] = [];
  page.on('console', (msg) => {
    if (msg.type() === 'error') problems.push(`${msg.text()} (${msg.location().url})`);
  });
  page.on('pageerror', (err) => problems.push(err.message));

  // What the engine itself reports, to compare the screen against.
  const api = await request.get(`${engine.origin}/v1/status`, {
    headers: { authorization: `Bearer ${engine.token}` },
  });
  expect(api.status()).toBe(200);
  const status = (await api.json()) as { ffmpeg: { version?: string } };
  expect(status.ffmpeg.version, 'FFmpeg found by the engine').toBeTruthy();

  await page.goto(engine.openUrl);

  await expect(page).toHaveTitle('Keepsake');
  await expect(page.getByRole('heading', { level: 1, name: 'Keepsake' })).toBeVisible();
  // With everything working, the first screen is about the family's vault, not the engine.
  await expect(page.getByRole('button', { name: 'Create vault' })).toBeVisible();
  await expect(page.getByRole('heading', { name: 'Engine status' })).toHaveCount(0);

  const made = await request.post(`${engine.origin}/v1/vault`, {
    headers: { authorization: `Bearer ${engine.token}` },
    data: { password: 'gardenia kettle seven rivers' },
  });
  expect(made.status()).toBe(201);
  await page.reload();
  await page
    .getByRole('navigation', { name: 'Main' })
    .getByRole('button', { name: 'Settings' })
    .click();
  const about = page.getByRole('region', { name: 'About this Keepsake' });
  await expect(about.getByLabel('FFmpeg')).toContainText(status.ffmpeg.version ?? '');
  await expect(about.getByLabel('Data folder')).toContainText(engine.dataDir);
  await expect(page.getByRole('alert')).toHaveCount(0);

  // Kept as an artifact for CI and for reviewing the screen (e2e/artifacts is ignored by git).
  const artifacts = join(testInfo.project.testDir, 'artifacts');
  await mkdir(artifacts, { recursive: true });
  const shot = await page.screenshot({
    path: join(artifacts, 'status-screen.png'),
    fullPage: true,
  });
  await testInfo.attach('status-screen', { body: shot, contentType: 'image/png' });

  // No CSP violations, failed requests or script errors along the way.
  expect(problems).toEqual([]);
});

test('without the token the page explains how to open it', async ({ page }) => {
  await page.goto(`${engine.origin}/`);
  await expect(page.getByRole('alert')).toContainText('no valid access token');
  await expect(page.getByLabel('FFmpeg')).toHaveCount(0);
  // Nothing else to do without the token: no screens, no navigation.
  await expect(page.getByRole('navigation', { name: 'Main' })).toHaveCount(0);
});
