// Browser mode across an engine restart (issue 14, finding 9): the engine keeps its port
// and token in the data folder, so the tab left open sees the engine go, comes back by
// itself when it returns (no reload), asks to unlock, and works again; the address the
// engine printed works as a bookmark.
import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { expect, test } from '@playwright/test';
import type { Page } from '@playwright/test';
import { startEngine } from './engine';
import { nav, shot } from './ui';

const run = promisify(execFile);
const cli = fileURLToPath(new URL('../engine/bin/keepsake.mjs', import.meta.url));
const PASSWORD = 'gardenia kettle seven rivers';

async function unlock(page: Page): Promise<void> {
  await page.getByLabel('Password', { exact: true }).fill(PASSWORD);
  await page.getByRole('button', { name: 'Unlock' }).click();
  await expect(nav(page, 'Library')).toHaveAttribute('aria-current', 'page');
  await expect(page.getByTestId('events-state')).toHaveText('Live updates');
}

test('an open tab survives an engine restart; the printed address works as a bookmark', async ({
  page,
}, testInfo) => {
  test.setTimeout(120_000);
  const engine = await startEngine({ keepAddress: true });
  // The vault is made beside the engine (the CLI on the same data folder), so this test
  // is about the restart, not the vault screens.
  await run(process.execPath, [cli, 'vault', 'init', '--data-dir', engine.dataDir], {
    env: { ...process.env, KEEPSAKE_PASSWORD: PASSWORD },
  });

  await page.goto(engine.openUrl);
  await unlock(page);
  // Marks this document: a reload would lose it.
  await page.evaluate(() => ((window as unknown as { sameTab: boolean }).sameTab = true));

  expect(await engine.halt()).toBe(0);
  await expect(
    page.getByText('This page keeps trying and comes back by itself', { exact: false }),
  ).toBeVisible();
  await shot(page, testInfo, 'restart-engine-gone');

  const again = await startEngine({ dataDir: engine.dataDir, keepAddress: true });
  try {
    expect(again.openUrl).toBe(engine.openUrl);
    // The same tab, untouched: it finds the engine again and asks to unlock (a restarted
    // engine's vault is locked).
    await expect(page.getByText('Unlock the vault to continue.')).toBeVisible({
      timeout: 20_000,
    });
    await expect(nav(page, 'Vault')).toHaveAttribute('aria-current', 'page');
    await shot(page, testInfo, 'restart-engine-back');
    await unlock(page);
    expect(await page.evaluate(() => (window as unknown as { sameTab?: boolean }).sameTab)).toBe(
      true,
    );

    // A bookmark of the printed address, opened fresh.
    const bookmark = await page.context().newPage();
    await bookmark.goto(again.openUrl);
    await expect(nav(bookmark, 'Library')).toHaveAttribute('aria-current', 'page');
    await expect(bookmark.getByTestId('events-state')).toHaveText('Live updates');
    await shot(bookmark, testInfo, 'restart-bookmark');
  } finally {
    expect(await again.stop()).toBe(0);
  }
});
