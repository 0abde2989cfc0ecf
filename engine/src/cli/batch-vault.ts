// Which keyring opens a batch backup. A backup carries its vault's keyring
// (`keyring.json`, wrapped keys only), so on a new computer, or after the local keyring
// was lost, the recovery key (or the password of the time) opens the backup by itself.

import { join } from 'node:path';
import {
  KEYRING_FILE,
  keyringPath,
  keyringVaultId,
  unlockVault,
  type Vault,
} from '../vault/keyring';
import { openVault, vaultDir, type GlobalOptions } from './context';
import { unlockSecret } from './secrets';

export async function openVaultForBatch(g: GlobalOptions, backup: string): Promise<Vault> {
  const backupId = await keyringVaultId(join(backup, KEYRING_FILE)).catch(() => undefined);
  if (backupId === undefined) return openVault(g);
  const localId = await keyringVaultId(keyringPath(vaultDir(g))).catch(() => undefined);
  // The local keyring of the same vault first: it has the current password.
  if (localId === backupId) return openVault(g);
  return unlockVault(backup, await unlockSecret(g));
}
