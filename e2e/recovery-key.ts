// Stores the recovery key the way a person does: "I have written it down", then types
// back the two groups the app asks for, read from the key as it was shown.
import { expect } from '@playwright/test';
import type { Page } from '@playwright/test';

/** The labels read "Group N (…)": N counts the groups after "KSRK". */
export async function typeBackRecoveryKey(page: Page, recoveryKey: string): Promise<void> {
  await page.getByRole('button', { name: 'I have written it down' }).click();
  const groups = recoveryKey.trim().split('-').slice(1);
  const inputs = page.getByLabel(/^Group \d+/);
  await expect(inputs).toHaveCount(2);
  for (const input of await inputs.all()) {
    const label =
      (await input.evaluate((el) => (el as HTMLInputElement).labels?.[0]?.textContent)) ?? '';
    const n = Number(/^Group (\d+)/.exec(label)?.[1]);
    await input.fill(groups[n - 1]!.toLowerCase());
  }
}

export async function storeRecoveryKey(page: Page, recoveryKey: string, done: string | RegExp) {
  await typeBackRecoveryKey(page, recoveryKey);
  await page.getByRole('button', { name: done }).click();
}
