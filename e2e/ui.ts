// What every end-to-end spec does to the page: reach a screen from the main navigation,
// and keep a screenshot (in e2e/artifacts, and attached to the report) to look at.
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import type { Page, TestInfo } from '@playwright/test';

export const nav = (page: Page, name: string) =>
  page.getByRole('navigation', { name: 'Main' }).getByRole('button', { name, exact: true });

export async function shot(page: Page, testInfo: TestInfo, name: string): Promise<void> {
  const artifacts = join(testInfo.project.testDir, 'artifacts');
  await mkdir(artifacts, { recursive: true });
  const body = await page.screenshot({ path: join(artifacts, `${name}.png`), fullPage: true });
  await testInfo.attach(name, { body, contentType: 'image/png' });
}
