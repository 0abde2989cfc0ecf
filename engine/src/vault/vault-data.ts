// Whether a data folder already holds a vault's work: its keyring, other files in the
// vault folder, library copies (`<data>/library/**.ksv`) or job outputs
// (`<data>/outputs/**`). A new vault made over them would leave every one of those files
// unreadable (WRONG_VAULT), so creating one there is refused and the advice is to
// restore the keyring (recovery key + a backup) instead.

import { opendir } from 'node:fs/promises';
import { join } from 'node:path';
import { KeepsakeError } from '../core/errors';
import { isTempName } from '../fs/atomic';
import { keyringPath, vaultExists } from './keyring';

export interface VaultData {
  /** The first few things found, for the message; empty when there is none. */
  found: string[];
  keyring: boolean;
}

/** Depth-first, stops at the first match: a large library costs one path, not a walk. */
async function firstMatch(
  dir: string,
  accept: (name: string) => boolean,
  depth = 4,
): Promise<string | undefined> {
  let handle;
  try {
    handle = await opendir(dir);
  } catch {
    return undefined;
  }
  try {
    for await (const entry of handle) {
      if (isTempName(entry.name)) continue;
      const path = join(dir, entry.name);
      if (entry.isFile() && accept(entry.name)) return path;
      if (entry.isDirectory() && depth > 0) {
        const inner = await firstMatch(path, accept, depth - 1);
        if (inner) return inner;
      }
    }
  } finally {
    await handle.close().catch(() => undefined);
  }
  return undefined;
}

export async function findVaultData(dataDir: string, vaultDir: string): Promise<VaultData> {
  const [keyring, vaultFile, libraryCopy, output] = await Promise.all([
    vaultExists(vaultDir),
    firstMatch(vaultDir, () => true, 2),
    firstMatch(join(dataDir, 'library'), (name) => name.endsWith('.ksv')),
    firstMatch(join(dataDir, 'outputs'), () => true),
  ]);
  const found = [keyring ? keyringPath(vaultDir) : vaultFile, libraryCopy, output].filter(
    (p): p is string => p !== undefined,
  );
  return { found, keyring };
}

export const RESTORE_ADVICE_CLI =
  'restore its keyring instead: `keepsake vault restore BACKUP` with the recovery key ' +
  '(--recovery-key-file or KEEPSAKE_RECOVERY_KEY); BACKUP is a batch-encrypt backup folder ' +
  'or a file written by `keepsake vault export-keyring`';

/**
 * Refuses to create a vault where one's data already is (VAULT_EXISTS when the keyring is
 * there, VAULT_DATA_EXISTS when only its files are). `advice` says how to restore, in the
 * words of the caller's audience (a command line, or the app).
 */
export async function refuseOverVaultData(
  dataDir: string,
  vaultDir: string,
  advice: string = RESTORE_ADVICE_CLI,
): Promise<void> {
  const data = await findVaultData(dataDir, vaultDir);
  if (data.found.length === 0) return;
  if (data.keyring) {
    throw new KeepsakeError('VAULT_EXISTS', 'a vault already exists here', { file: vaultDir });
  }
  throw new KeepsakeError(
    'VAULT_DATA_EXISTS',
    `this data folder already holds encrypted files of a vault whose keyring is missing ` +
      `(${data.found[0]}); a new vault could never open them, so none was created. ` +
      `To get them back, ${advice}`,
    { file: dataDir },
  );
}

/**
 * VAULT_NOT_FOUND with the right next step: `vault init` only where there is nothing to
 * lose, a restore where vault data is waiting for its keyring.
 */
export async function vaultNotFound(dataDir: string, vaultDir: string): Promise<KeepsakeError> {
  const data = await findVaultData(dataDir, vaultDir);
  if (data.found.length > 0) {
    return new KeepsakeError(
      'VAULT_NOT_FOUND',
      `the vault keyring is missing, but its encrypted files are here (${data.found[0]}); do not create a new vault: ${RESTORE_ADVICE_CLI}`,
      { file: vaultDir },
    );
  }
  return new KeepsakeError(
    'VAULT_NOT_FOUND',
    'no vault here (run `keepsake vault init` to create one, or `keepsake vault restore BACKUP` to bring one back from a backup)',
    { file: vaultDir },
  );
}
