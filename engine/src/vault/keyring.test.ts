import { readFile, writeFile } from 'node:fs/promises';
import { describe, expect, it } from 'vitest';
import { freshDir, TEST_SCRYPT } from '../testing/tmp';
import { join } from 'node:path';
import {
  changePassword,
  confirmRecoveryKey,
  createVault,
  exportKeyring,
  formatRecoveryKey,
  keyringPath,
  newRecoveryKey,
  parseRecoveryKey,
  recoveryUnconfirmed,
  restoreKeyring,
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

  it('a new recovery key opens the vault and the old one stops working', async () => {
    const dir = await freshDir();
    const { vault, recoveryKey: old } = await createVault(dir, 'pw', { scrypt: TEST_SCRYPT });
    const fresh = await newRecoveryKey(vault);
    expect(fresh).not.toBe(old);
    await expect(unlockVault(dir, { recoveryKey: old! })).rejects.toMatchObject({
      code: 'WRONG_PASSWORD',
    });
    expect((await unlockVault(dir, { recoveryKey: fresh })).masterKey.equals(vault.masterKey)).toBe(
      true,
    );
    // The password is untouched.
    expect((await unlockVault(dir, { password: 'pw' })).vaultId).toBe(vault.vaultId);
  });

  it('remembers an unconfirmed recovery key until it is confirmed', async () => {
    const dir = await freshDir();
    const { vault } = await createVault(dir, 'pw', {
      scrypt: TEST_SCRYPT,
      recoveryUnconfirmed: true,
    });
    expect(await recoveryUnconfirmed(dir)).toBe(true);
    await confirmRecoveryKey(vault);
    expect(await recoveryUnconfirmed(dir)).toBe(false);
    await newRecoveryKey(vault, { unconfirmed: true });
    expect(await recoveryUnconfirmed(dir)).toBe(true);
  });

  it('an exported keyring plus the recovery key restores the vault elsewhere', async () => {
    const dir = await freshDir();
    const { vault, recoveryKey } = await createVault(join(dir, 'a'), 'old password', {
      scrypt: TEST_SCRYPT,
      recoveryUnconfirmed: true,
    });
    const copy = join(dir, 'keyring-copy.json');
    await exportKeyring(vault.dir, copy);
    // Never replaced unless asked.
    await expect(exportKeyring(vault.dir, copy)).rejects.toMatchObject({ code: 'OUTPUT_EXISTS' });
    expect(JSON.parse(await readFile(copy, 'utf8'))).not.toHaveProperty('recoveryUnconfirmed');

    const other = join(dir, 'b');
    await expect(
      restoreKeyring(copy, other, 'KSRK-AAAA', 'new password', TEST_SCRYPT),
    ).rejects.toMatchObject({ code: 'INVALID_KEY' });
    const restored = await restoreKeyring(copy, other, recoveryKey!, 'new password', TEST_SCRYPT);
    expect(restored.masterKey.equals(vault.masterKey)).toBe(true);
    expect((await unlockVault(other, { password: 'new password' })).vaultId).toBe(vault.vaultId);
    await expect(unlockVault(other, { password: 'old password' })).rejects.toMatchObject({
      code: 'WRONG_PASSWORD',
    });
    expect((await unlockVault(other, { recoveryKey: recoveryKey! })).vaultId).toBe(vault.vaultId);
    // Never over an existing keyring.
    await expect(restoreKeyring(copy, other, recoveryKey!, 'x', TEST_SCRYPT)).rejects.toMatchObject(
      { code: 'VAULT_EXISTS' },
    );
  });

  it('a missing keyring is VAULT_NOT_FOUND without advice to create one', async () => {
    const dir = await freshDir();
    const err = await unlockVault(dir, { password: 'pw' }).catch((e: unknown) => e);
    expect(err).toMatchObject({ code: 'VAULT_NOT_FOUND' });
    expect((err as Error).message).not.toContain('init');
  });
});
