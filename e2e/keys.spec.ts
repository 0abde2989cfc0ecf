// Keys that survive people, in a real Chromium against a real engine: the recovery-key
// page cannot be left (sidebar, Escape, reload) until two groups are typed back; a page
// closed before that leads to a new key; Settings changes the password, makes a new
// recovery key (the old one stops working) and, after a recovery-key unlock, offers a new
// password; a data folder whose keyring is gone shows how to restore instead of a create
// form. And the strength meter agrees with the engine's password rule.
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { expect, test } from '@playwright/test';
import type { APIRequestContext, Page } from '@playwright/test';
import { judgePassword, PASSWORD_POLICY } from '../engine/src/vault/password-policy';
import {
  judgeStrength,
  loadEstimator,
  PASSWORD_POLICY as METER_POLICY,
} from '../renderer/src/password-strength';
import { startEngine } from './engine';
import { nav, shot } from './ui';
import type { RunningEngine } from './engine';
import { storeRecoveryKey, typeBackRecoveryKey } from './recovery-key';

const PASSWORD = 'gardenia kettle seven rivers';
const NEWER = 'copper meadow violin';
const GUARD = /Please finish storing your recovery key first/;

let engine: RunningEngine;

test.afterEach(async () => {
  if (engine) await engine.stop();
});

function api(request: APIRequestContext, method: string, path: string, data?: unknown) {
  return request.fetch(`${engine.origin}${path}`, {
    method,
    headers: { authorization: `Bearer ${engine.token}` },
    data,
  });
}

async function createInUi(page: Page): Promise<string> {
  await page.goto(engine.openUrl);
  await page.getByLabel('Password', { exact: true }).fill(PASSWORD);
  await page.getByLabel('Repeat the password').fill(PASSWORD);
  await page.getByRole('button', { name: 'Create vault' }).click();
  const key = page.getByTestId('recovery-key');
  await expect(key).toHaveText(/^KSRK(-[A-Z2-7]{1,4}){14}$/);
  return (await key.textContent()) ?? '';
}

test('the strength meter and the engine give the same verdict', async () => {
  expect(METER_POLICY).toEqual(PASSWORD_POLICY);
  const estimator = await loadEstimator();
  const samples = [
    '',
    'a',
    'pw',
    'hunter2',
    'password',
    'Password1',
    'sunshine1',
    'keepsake',
    'keepsakevault',
    'Gardenia7x',
    'qwertyuiop',
    '12345678',
    'aaaaaaaaaaaa',
    'éàüöçñø',
    'Oma1987!',
    'correct horse',
    'grandma tapes',
    'benchmark password',
    'quiet lantern orchard',
    'gardenia kettle seven rivers',
    'Tr0ub4dor&3',
    'T7#qL!v2@pZ9$wK4',
  ];
  const verdicts = await Promise.all(
    samples.map(async (pw) => ({
      pw,
      engine: (await judgePassword(pw)).ok,
      meter: judgeStrength(estimator, pw).ok,
    })),
  );
  for (const v of verdicts) expect(v.meter, v.pw).toBe(v.engine);
  // The list holds both kinds, or it would prove nothing.
  expect(verdicts.some((v) => v.engine)).toBe(true);
  expect(verdicts.some((v) => !v.engine)).toBe(true);
});

test('the recovery-key page cannot be left until two groups of the key are typed back', async ({
  page,
}, testInfo) => {
  engine = await startEngine();
  await page.goto(engine.openUrl);
  // The meter applies the engine's rule as the password is typed.
  const password = page.getByLabel('Password', { exact: true });
  await password.fill('sunshine1');
  await expect(page.getByTestId('password-strength')).toHaveAttribute('data-ok', 'no');
  await expect(page.getByText('This is a commonly used password.')).toBeVisible();
  await page.getByRole('button', { name: 'Create vault' }).click();
  await expect(page.getByText('This password is too easy to guess.')).toBeVisible();
  await shot(page, testInfo, 'keys-weak-password');

  const key = await createInUi(page);
  await shot(page, testInfo, 'keys-recovery-key');

  // Every sidebar item: the key stays, with a kind word why.
  for (const name of [
    'Library',
    'Make',
    'Jobs',
    'Servers',
    'Recently watched',
    'Activity',
    'Settings',
  ]) {
    await nav(page, name).click();
    await expect(nav(page, 'Vault')).toHaveAttribute('aria-current', 'page');
    await expect(page.getByTestId('recovery-key')).toHaveText(key);
  }
  await expect(page.getByRole('status').filter({ hasText: GUARD })).toBeVisible();
  await shot(page, testInfo, 'keys-sidebar-refused');

  // Escape does nothing to it either.
  await page.getByRole('button', { name: 'Dismiss' }).click();
  await page.keyboard.press('Escape');
  await expect(page.getByTestId('recovery-key')).toHaveText(key);
  await expect(page.getByRole('status').filter({ hasText: GUARD })).toBeVisible();

  // A reload asks first; staying keeps the very same key on screen.
  const asked = new Promise<string>((resolve) =>
    page.once('dialog', (dialog) => {
      resolve(dialog.type());
      void dialog.dismiss();
    }),
  );
  void page.evaluate(() => location.reload()).catch(() => undefined);
  expect(await asked).toBe('beforeunload');
  await expect(page.getByTestId('recovery-key')).toHaveText(key);

  // The check: the key leaves the screen, two groups are asked; a wrong one is refused.
  await page.getByRole('button', { name: 'I have written it down' }).click();
  await expect(page.getByTestId('recovery-key')).toHaveCount(0);
  const inputs = page.getByLabel(/^Group \d+/);
  await inputs.nth(0).fill('ZZZZ');
  await inputs.nth(1).fill('ZZZZ');
  await page.getByRole('button', { name: 'Finish and go to the library' }).click();
  await expect(page.getByRole('alert')).toContainText('Neither group matches');
  await nav(page, 'Library').click();
  await expect(nav(page, 'Vault')).toHaveAttribute('aria-current', 'page');
  await shot(page, testInfo, 'keys-check-wrong');
  await page.getByRole('button', { name: 'Show the key again' }).click();
  await expect(page.getByTestId('recovery-key')).toHaveText(key);

  await storeRecoveryKey(page, key, 'Finish and go to the library');
  await expect(nav(page, 'Library')).toHaveAttribute('aria-current', 'page');
  // Stored: nothing holds the user any more, and nothing asks after a reload.
  await nav(page, 'Jobs').click();
  await expect(nav(page, 'Jobs')).toHaveAttribute('aria-current', 'page');
  expect(
    ((await (await api(page.request, 'GET', '/v1/vault/keys')).json()) as Record<string, unknown>)
      .recoveryUnconfirmed,
  ).toBe(false);
});

test('a password sent before the strength meter has loaded is not dropped', async ({ page }) => {
  engine = await startEngine();
  // The meter's dictionaries (their own chunks, loaded at the first typed character)
  // arrive slowly, as on a slow link: the form is sent before they are there.
  let delayed = 0;
  await page.route(/\/assets\/dist-[^/]+\.js$/, async (route) => {
    delayed++;
    await new Promise((r) => setTimeout(r, 2000));
    await route.continue();
  });
  await page.goto(engine.openUrl);
  await page.getByLabel('Password', { exact: true }).fill(PASSWORD);
  await page.getByLabel('Repeat the password').fill(PASSWORD);
  await page.getByRole('button', { name: 'Create vault' }).click();
  await expect(page.getByTestId('recovery-key')).toHaveText(/^KSRK(-[A-Z2-7]{1,4}){14}$/);
  expect(delayed).toBeGreaterThan(0);
});

test('a page closed before the check leads to a new key; the first one stops working', async ({
  page,
}, testInfo) => {
  engine = await startEngine();
  const first = await createInUi(page);
  // Leave anyway (accept the browser's question).
  page.once('dialog', (dialog) => void dialog.accept());
  await page.reload();
  await expect(
    page.getByRole('heading', { name: 'Your recovery key was not checked' }),
  ).toBeVisible();
  // Still held: the rest of the app waits.
  await nav(page, 'Library').click();
  await expect(nav(page, 'Vault')).toHaveAttribute('aria-current', 'page');
  await shot(page, testInfo, 'keys-unconfirmed');
  await page.getByRole('button', { name: 'Make a new recovery key' }).click();
  const key = page.getByTestId('recovery-key');
  await expect(key).toHaveText(/^KSRK-/);
  const second = (await key.textContent()) ?? '';
  expect(second).not.toBe(first);
  await storeRecoveryKey(page, second, 'Finish and go to the library');
  await expect(nav(page, 'Library')).toHaveAttribute('aria-current', 'page');

  expect((await api(page.request, 'POST', '/v1/vault/lock', {})).status()).toBe(204);
  const old = await api(page.request, 'POST', '/v1/vault/unlock', { recoveryKey: first });
  expect(old.status()).toBe(401);
  const fresh = await api(page.request, 'POST', '/v1/vault/unlock', { recoveryKey: second });
  expect(fresh.status()).toBe(204);
});

test('Settings: change the password, a new recovery key, and a new password after the recovery key', async ({
  page,
}, testInfo) => {
  test.setTimeout(120_000);
  engine = await startEngine();
  const first = await createInUi(page);
  await storeRecoveryKey(page, first, 'Finish and go to the library');

  // --- About this Keepsake: the engine's version, its FFmpeg and data folder. -------------
  await nav(page, 'Settings').click();
  const about = page.getByRole('region', { name: 'About this Keepsake' });
  await expect(about.getByLabel('Version')).toHaveText(/^Keepsake \d+\.\d+/);
  await expect(about.getByLabel('FFmpeg')).toContainText(/\d/);
  await expect(about.getByLabel('Data folder')).toContainText(engine.dataDir);
  await about.scrollIntoViewIfNeeded();
  await shot(page, testInfo, 'settings-about');

  // --- Change the password. -------------------------------------------------------------
  const change = page.getByRole('form', { name: 'Change the password' });
  await change.getByLabel('Current password').fill('not the password');
  await change.getByLabel('New password', { exact: true }).fill('sunshine1');
  await expect(change.getByTestId('password-strength')).toHaveAttribute('data-ok', 'no');
  await change.getByLabel('Repeat the new password').fill('sunshine1');
  await change.getByRole('button', { name: 'Change the password' }).click();
  await expect(change.getByText('This password is too easy to guess.')).toBeVisible();
  await change.getByLabel('New password', { exact: true }).fill(NEWER);
  await change.getByLabel('Repeat the new password').fill(NEWER);
  await expect(change.getByTestId('password-strength')).toHaveAttribute('data-ok', 'yes');
  await change.getByRole('button', { name: 'Change the password' }).click();
  await expect(change.getByRole('alert')).toContainText('The current password is not right.');
  await change.getByLabel('Current password').fill(PASSWORD);
  await change.getByRole('button', { name: 'Change the password' }).click();
  await expect(change.getByText('The password was changed.')).toBeVisible();
  await shot(page, testInfo, 'keys-settings-password-changed');

  // --- A new recovery key: shown once, guarded, the old one stops working. ----------------
  const renew = page.getByRole('form', { name: 'Make a new recovery key' });
  await renew.getByLabel('Current password').fill(NEWER);
  await renew.getByRole('button', { name: 'Make a new recovery key' }).click();
  const key = page.getByTestId('recovery-key');
  await expect(key).toHaveText(/^KSRK-/);
  const second = (await key.textContent()) ?? '';
  expect(second).not.toBe(first);
  await nav(page, 'Library').click();
  await expect(nav(page, 'Settings')).toHaveAttribute('aria-current', 'page');
  await expect(page.getByRole('status').filter({ hasText: GUARD })).toBeVisible();
  await typeBackRecoveryKey(page, second);
  await page.getByRole('button', { name: 'Finish' }).click();
  await expect(page.getByText('Your new recovery key is stored.')).toBeVisible();
  await expect(page.getByRole('status').filter({ hasText: GUARD })).toHaveCount(0);
  await shot(page, testInfo, 'keys-settings-new-key-stored');

  // --- Lock; the old key is refused, the new one opens, and a new password is offered. ----
  await nav(page, 'Vault').click();
  await page.getByRole('button', { name: 'Lock vault' }).click();
  await page.getByRole('button', { name: 'Use the recovery key instead' }).click();
  await page.getByLabel('Recovery key').fill(first);
  await page.getByRole('button', { name: 'Unlock' }).click();
  await expect(page.getByRole('alert')).toContainText('does not open this vault');
  await page.getByLabel('Recovery key').fill(second);
  await page.getByRole('button', { name: 'Unlock' }).click();
  await expect(nav(page, 'Settings')).toHaveAttribute('aria-current', 'page');
  const offer = page.getByTestId('set-new-password');
  await expect(offer).toBeVisible();
  await shot(page, testInfo, 'keys-after-recovery-unlock');
  // Elsewhere in the app the offer stays in view.
  await nav(page, 'Library').click();
  await expect(page.getByRole('region', { name: 'New password' })).toBeVisible();
  await shot(page, testInfo, 'keys-recovery-banner');
  await page.getByRole('button', { name: 'Set a new password' }).click();
  const forgotten = 'winter piano harbour';
  await offer.getByLabel('New password', { exact: true }).fill(forgotten);
  await offer.getByLabel('Repeat the new password').fill(forgotten);
  await offer.getByRole('button', { name: 'Set the new password' }).click();
  await expect(page.getByRole('form', { name: 'Change the password' })).toBeVisible();

  expect((await api(page.request, 'POST', '/v1/vault/lock', {})).status()).toBe(204);
  expect((await api(page.request, 'POST', '/v1/vault/unlock', { password: NEWER })).status()).toBe(
    401,
  );
  expect(
    (await api(page.request, 'POST', '/v1/vault/unlock', { password: forgotten })).status(),
  ).toBe(204);
});

test('a data folder with vault files but no keyring explains how to restore', async ({
  page,
}, testInfo) => {
  engine = await startEngine();
  await mkdir(join(engine.dataDir, 'library', 'fabcdefghijkl'), { recursive: true });
  await writeFile(join(engine.dataDir, 'library', 'fabcdefghijkl', 'mabcdefghijkl.ksv'), 'x');
  await page.goto(engine.openUrl);
  const advice = page.getByTestId('restore-needed');
  await expect(advice).toContainText('needs to be restored, not created');
  await expect(advice).toContainText('recovery key');
  await expect(advice).toContainText('keepsake vault restore');
  await expect(page.getByRole('form', { name: 'Create a vault' })).toHaveCount(0);
  await shot(page, testInfo, 'keys-restore-needed');
  const res = await api(page.request, 'POST', '/v1/vault', { password: PASSWORD });
  expect(res.status()).toBe(409);
  expect(((await res.json()) as { code: string }).code).toBe('VAULT_DATA_EXISTS');
});
