import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { TEST_SCRYPT, freshDir } from '../testing/tmp';
import { createVault } from './keyring';
import { findVaultData, refuseOverVaultData, vaultNotFound } from './vault-data';

async function put(root: string, rel: string) {
  await mkdir(join(root, rel, '..'), { recursive: true });
  await writeFile(join(root, rel), 'x');
}

describe('vault data in a data folder', () => {
  it('an empty folder, empty subfolders, temp leftovers and plain library files are not a vault', async () => {
    const data = await freshDir();
    await mkdir(join(data, 'outputs', 'job-1'), { recursive: true });
    await put(data, 'library/fabcdefghijkl/.ks-tmp-0123456789ab');
    await put(data, 'library/fabcdefghijkl/notes.txt');
    await put(data, 'engine.db');
    expect(await findVaultData(data, join(data, 'vault'))).toEqual({ found: [], keyring: false });
    await expect(refuseOverVaultData(data, join(data, 'vault'))).resolves.toBeUndefined();
    expect((await vaultNotFound(data, join(data, 'vault'))).message).toContain('vault init');
  });

  it('finds a library copy deep in a folder, and says restore, not init', async () => {
    const data = await freshDir();
    await put(data, 'library/fabcdefghijkl/mabcdefghijkl.ksv');
    const found = await findVaultData(data, join(data, 'vault'));
    expect(found.found).toEqual([join(data, 'library/fabcdefghijkl/mabcdefghijkl.ksv')]);
    await expect(refuseOverVaultData(data, join(data, 'vault'))).rejects.toMatchObject({
      code: 'VAULT_DATA_EXISTS',
    });
    const err = await vaultNotFound(data, join(data, 'vault'));
    expect(err.message).toContain('vault restore');
    expect(err.message).not.toContain('vault init');
  });

  it('a keyring is VAULT_EXISTS', async () => {
    const data = await freshDir();
    await createVault(join(data, 'vault'), 'pw', { scrypt: TEST_SCRYPT });
    expect((await findVaultData(data, join(data, 'vault'))).keyring).toBe(true);
    await expect(refuseOverVaultData(data, join(data, 'vault'))).rejects.toMatchObject({
      code: 'VAULT_EXISTS',
    });
  });
});
