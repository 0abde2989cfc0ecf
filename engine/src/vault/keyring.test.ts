import { readFile, writeFile } from 'node:fs/promises';
import { describe, expect, it } from 'vitest';
import { freshDir, TEST_SCRYPT } from '../testing/tmp';
import {
  changePassword,
  createVault,
  formatRecoveryKey,
  keyringPath,
  parseRecoveryKey,
  unlockVault,
} from './keyring';
import { randomBytes } from 'node:crypto';

describe('keyring', () => {
  it('creates a vault that opens with the password and with the recovery key', async () => {
    const dir = await freshDir();
    const { vault, recoveryKey } = await createVault(dir, 'correct horse', { scrypt: TEST_SCRYPT });
    expect(recoveryKey).toMatch(/^KSRK(-[A-Z2-7]{1,4}){14}$/);
    const byPassword = await unlockVault(dir, { password: 'correct horse' });
    expect(byPassword.masterKey.equals(vault.masterKey)).toBe(true);
    const byRecovery = await unlockVault(dir, {
      recoveryKey: recoveryKey!.toLowerCase().replace(/-/g, ' '),
    });
    expect(byRecovery.masterKey.equals(vault.masterKey)).toBe(true);
  });

  it('refuses a wrong password and a wrong recovery key with WRONG_PASSWORD', async () => {
    const dir = await freshDir();
    await createVault(dir, 'pw', { scrypt: TEST_SCRYPT });
    await expect(unlockVault(dir, { password: 'nope' })).rejects.toMatchObject({
      code: 'WRONG_PASSWORD',
    });
    await expect(
      unlockVault(dir, { recoveryKey: formatRecoveryKey(randomBytes(32)) }),
    ).rejects.toMatchObject({ code: 'WRONG_PASSWORD' });
  });

  it('catches a typo in a recovery key by its checksum', () => {
    const key = formatRecoveryKey(randomBytes(32));
    const typo = key.slice(0, 10) + (key[10] === 'A' ? 'B' : 'A') + key.slice(11);
    expect(() => parseRecoveryKey(typo)).toThrow(/typo/);
    expect(() => parseRecoveryKey('KSRK-1234')).toThrow(/not a Keepsake recovery key/);
  });

  it('never overwrites an existing vault', async () => {
    const dir = await freshDir();
    await createVault(dir, 'pw', { scrypt: TEST_SCRYPT });
    const before = await readFile(keyringPath(dir));
    await expect(createVault(dir, 'other', { scrypt: TEST_SCRYPT })).rejects.toMatchObject({
      code: 'VAULT_EXISTS',
    });
    expect((await readFile(keyringPath(dir))).equals(before)).toBe(true);
  });

  it('two vault inits racing: exactly one wins', async () => {
    const dir = await freshDir();
    const results = await Promise.allSettled([
      createVault(dir, 'one', { scrypt: TEST_SCRYPT }),
      createVault(dir, 'two', { scrypt: TEST_SCRYPT }),
    ]);
    expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(1);
    expect(results.find((r) => r.status === 'rejected')).toMatchObject({
      reason: { code: 'VAULT_EXISTS' },
    });
  });

  it('refuses a keyring whose key id does not match the key it holds', async () => {
    const dir = await freshDir();
    await createVault(dir, 'pw', { scrypt: TEST_SCRYPT });
    const file = JSON.parse(await readFile(keyringPath(dir), 'utf8'));
    file.masterKeyId = '0000000000000000';
    await writeFile(keyringPath(dir), JSON.stringify(file));
    await expect(unlockVault(dir, { password: 'pw' })).rejects.toMatchObject({
      code: 'VAULT_CORRUPT',
    });
  });

  it('enforces an upper bound on scrypt parameters when reading', async () => {
    const dir = await freshDir();
    await createVault(dir, 'pw', { scrypt: TEST_SCRYPT });
    const file = JSON.parse(await readFile(keyringPath(dir), 'utf8'));
    file.kdf.logN = 30;
    await writeFile(keyringPath(dir), JSON.stringify(file));
    await expect(unlockVault(dir, { password: 'pw' })).rejects.toMatchObject({
      code: 'KDF_PARAMS_OUT_OF_BOUNDS',
    });
  });

  it('reports a missing and a damaged keyring', async () => {
    const dir = await freshDir();
    await expect(unlockVault(dir, { password: 'pw' })).rejects.toMatchObject({
      code: 'VAULT_NOT_FOUND',
    });
    await writeFile(keyringPath(dir), '{not json');
    await expect(unlockVault(dir, { password: 'pw' })).rejects.toMatchObject({
      code: 'VAULT_CORRUPT',
    });
  });

  it('changes the password after a recovery-key unlock', async () => {
    const dir = await freshDir();
    const { recoveryKey } = await createVault(dir, 'forgotten', { scrypt: TEST_SCRYPT });
    const vault = await unlockVault(dir, { recoveryKey: recoveryKey! });
    await changePassword(vault, 'new one', TEST_SCRYPT);
    await expect(unlockVault(dir, { password: 'forgotten' })).rejects.toMatchObject({
      code: 'WRONG_PASSWORD',
    });
    expect(
      (await unlockVault(dir, { password: 'new one' })).masterKey.equals(vault.masterKey),
    ).toBe(true);
  });
});
