// The vault keyring: one random master key, stored only wrapped, by a password-derived
// key (scrypt) and optionally by a printable recovery key shown once at creation.
// File keys are wrapped by the master key (see vault-file.ts).
//
// The key wrapping (scrypt, AES-GCM) is key-wrap.ts, recovery keys are recovery-key.ts and
// per-job output keys are job-keys.ts; this module holds the keyring file and what is done
// with it (create, unlock, change the password, export, restore).

import { createHash, randomBytes } from 'node:crypto';
import { mkdir, readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { KeepsakeError, fromFsError, isKeepsakeError } from '../core/errors';
import { newHexId128 } from '../core/ids';
import { writeFileAtomic } from '../fs/atomic';
import {
  DEFAULT_SCRYPT,
  checkScrypt,
  scrypt,
  unwrap,
  wrap,
  type ScryptParams,
  type WrappedKey,
} from './key-wrap';
import { formatRecoveryKey, parseRecoveryKey, recoveryKek } from './recovery-key';

export { DEFAULT_SCRYPT, type ScryptParams } from './key-wrap';
export { formatRecoveryKey, parseRecoveryKey } from './recovery-key';
export { jobOutputVault, wrappingKey } from './job-keys';

export const KEYRING_FILE = 'keyring.json';
const FORMAT = 'keepsake-keyring';
const VERSION = 1;

interface KeyringFile {
  format: typeof FORMAT;
  version: number;
  vaultId: string;
  masterKeyId: string;
  createdAt: string;
  kdf: { name: 'scrypt'; salt: string } & ScryptParams;
  wraps: { password: WrappedKey; recovery?: WrappedKey };
  /**
   * Set when the app showed a recovery key the user has not yet proved they stored
   * (typed part of it back). The app makes a new one rather than let it go unconfirmed.
   */
  recoveryUnconfirmed?: boolean;
}

/** An unlocked vault: holds the master key in memory only. */
export interface Vault {
  readonly dir: string;
  readonly vaultId: string;
  readonly masterKeyId: string;
  readonly masterKey: Buffer;
}

export type Unlock = { password: string } | { recoveryKey: string };

function aad(vaultId: string, slot: string): Buffer {
  return Buffer.from(`keepsake keyring v${VERSION}|${vaultId}|${slot}`);
}

// --- Creating, reading and unlocking ---

function keyIdOf(masterKey: Buffer): string {
  return createHash('sha256')
    .update('keepsake key id')
    .update(masterKey)
    .digest('hex')
    .slice(0, 16);
}

export function keyringPath(dir: string): string {
  return join(dir, KEYRING_FILE);
}

export async function vaultExists(dir: string): Promise<boolean> {
  return stat(keyringPath(dir)).then(
    () => true,
    () => false,
  );
}

export async function createVault(
  dir: string,
  password: string,
  {
    recovery = true,
    scrypt: params = DEFAULT_SCRYPT,
    recoveryUnconfirmed = false,
  }: { recovery?: boolean; scrypt?: ScryptParams; recoveryUnconfirmed?: boolean } = {},
): Promise<{ vault: Vault; recoveryKey: string | undefined }> {
  if (password.length === 0) throw new KeepsakeError('PASSWORD_REQUIRED', 'the password is empty');
  checkScrypt(params, keyringPath(dir));
  if (await vaultExists(dir)) {
    throw new KeepsakeError('VAULT_EXISTS', 'a vault already exists here', { file: dir });
  }
  await mkdir(dir, { recursive: true, mode: 0o700 }).catch((err: unknown) => {
    throw fromFsError(err, dir, 'write');
  });
  const vaultId = newHexId128();
  const masterKey = randomBytes(32);
  const masterKeyId = keyIdOf(masterKey);
  const salt = randomBytes(16);
  const passwordKek = await scrypt(password, salt, params);
  let recoveryKey: string | undefined;
  const wraps: KeyringFile['wraps'] = {
    password: wrap(passwordKek, masterKey, aad(vaultId, 'password')),
  };
  if (recovery) {
    const secret = randomBytes(32);
    recoveryKey = formatRecoveryKey(secret);
    wraps.recovery = wrap(recoveryKek(secret, vaultId), masterKey, aad(vaultId, 'recovery'));
  }
  const file: KeyringFile = {
    format: FORMAT,
    version: VERSION,
    vaultId,
    masterKeyId,
    createdAt: new Date().toISOString(),
    kdf: { name: 'scrypt', salt: salt.toString('base64'), ...params },
    wraps,
    ...(recovery && recoveryUnconfirmed ? { recoveryUnconfirmed: true } : {}),
  };
  // Exclusive: two `vault init` racing must not both believe they created the vault.
  await writeFileAtomic(keyringPath(dir), JSON.stringify(file, null, 2) + '\n', {
    exclusive: true,
  }).catch((err: unknown) => {
    if (isKeepsakeError(err, 'OUTPUT_EXISTS')) {
      throw new KeepsakeError('VAULT_EXISTS', 'a vault already exists here', { file: dir });
    }
    throw err;
  });
  return { vault: { dir, vaultId, masterKeyId, masterKey }, recoveryKey };
}

async function readKeyring(dir: string): Promise<KeyringFile> {
  return readKeyringFile(keyringPath(dir), dir);
}

/**
 * Reads and checks a keyring file anywhere (a vault's, a backup's or an exported copy).
 * A missing file is VAULT_NOT_FOUND naming `where`; callers that know whether vault data
 * exists add how to go on (see vault-data.ts), since `vault init` would be the wrong
 * advice when encrypted files are waiting for this keyring.
 */
export async function readKeyringFile(path: string, where = path): Promise<KeyringFile> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') {
      throw new KeepsakeError('VAULT_NOT_FOUND', 'no vault keyring here', { file: where });
    }
    throw fromFsError(err, path, 'read');
  }
  return parseKeyring(text, path);
}

function parseKeyring(text: string, path: string): KeyringFile {
  let file: KeyringFile;
  try {
    file = JSON.parse(text) as KeyringFile;
  } catch {
    throw new KeepsakeError('VAULT_CORRUPT', 'the keyring is not valid JSON', { file: path });
  }
  if (file?.format !== FORMAT || typeof file.vaultId !== 'string' || !file.wraps?.password) {
    throw new KeepsakeError('VAULT_CORRUPT', 'the keyring is missing required fields', {
      file: path,
    });
  }
  if (file.version !== VERSION) {
    throw new KeepsakeError(
      'UNSUPPORTED_VERSION',
      `keyring version ${file.version} is not supported`,
      {
        file: path,
      },
    );
  }
  if (file.kdf?.name !== 'scrypt') {
    throw new KeepsakeError('VAULT_CORRUPT', 'unknown key-derivation function', { file: path });
  }
  checkScrypt(file.kdf, path);
  return file;
}

export async function unlockVault(dir: string, unlock: Unlock): Promise<Vault> {
  return unlockKeyring(await readKeyring(dir), dir, unlock);
}

async function unlockKeyring(file: KeyringFile, dir: string, unlock: Unlock): Promise<Vault> {
  let masterKey: Buffer | undefined;
  if ('password' in unlock) {
    const kek = await scrypt(unlock.password, Buffer.from(file.kdf.salt, 'base64'), file.kdf);
    masterKey = unwrap(kek, file.wraps.password, aad(file.vaultId, 'password'));
    if (!masterKey)
      throw new KeepsakeError('WRONG_PASSWORD', 'wrong password for this vault', { file: dir });
  } else {
    if (!file.wraps.recovery) {
      throw new KeepsakeError('WRONG_PASSWORD', 'this vault was created without a recovery key', {
        file: dir,
      });
    }
    const secret = parseRecoveryKey(unlock.recoveryKey);
    masterKey = unwrap(
      recoveryKek(secret, file.vaultId),
      file.wraps.recovery,
      aad(file.vaultId, 'recovery'),
    );
    if (!masterKey) {
      throw new KeepsakeError('WRONG_PASSWORD', 'that recovery key does not open this vault', {
        file: dir,
      });
    }
  }
  if (keyIdOf(masterKey) !== file.masterKeyId) {
    throw new KeepsakeError(
      'VAULT_CORRUPT',
      'the keyring names a different master key than it holds',
      {
        file: keyringPath(dir),
      },
    );
  }
  return { dir, vaultId: file.vaultId, masterKeyId: file.masterKeyId, masterKey };
}

async function saveKeyring(dir: string, file: KeyringFile): Promise<void> {
  await writeFileAtomic(keyringPath(dir), JSON.stringify(file, null, 2) + '\n');
}

/** Replaces the password wrap; the new one costs at least the default scrypt work. */
export async function changePassword(
  vault: Vault,
  newPassword: string,
  params: ScryptParams = DEFAULT_SCRYPT,
): Promise<void> {
  if (newPassword.length === 0)
    throw new KeepsakeError('PASSWORD_REQUIRED', 'the new password is empty');
  const file = await readKeyring(vault.dir);
  const salt = randomBytes(16);
  checkScrypt(params, keyringPath(vault.dir));
  const kek = await scrypt(newPassword, salt, params);
  file.kdf = { name: 'scrypt', salt: salt.toString('base64'), ...params };
  file.wraps.password = wrap(kek, vault.masterKey, aad(vault.vaultId, 'password'));
  await saveKeyring(vault.dir, file);
}

/**
 * Makes a new recovery key and returns it (shown once, never stored): the old one stops
 * opening the vault. `unconfirmed` marks it as not yet proven stored (the app's flow).
 */
export async function newRecoveryKey(
  vault: Vault,
  { unconfirmed = false }: { unconfirmed?: boolean } = {},
): Promise<string> {
  const file = await readKeyring(vault.dir);
  if (file.vaultId !== vault.vaultId) {
    throw new KeepsakeError('WRONG_VAULT', 'the keyring on disk belongs to another vault', {
      file: keyringPath(vault.dir),
    });
  }
  const secret = randomBytes(32);
  file.wraps.recovery = wrap(
    recoveryKek(secret, vault.vaultId),
    vault.masterKey,
    aad(vault.vaultId, 'recovery'),
  );
  if (unconfirmed) file.recoveryUnconfirmed = true;
  else delete file.recoveryUnconfirmed;
  await saveKeyring(vault.dir, file);
  return formatRecoveryKey(secret);
}

/** The user proved they stored the recovery key: stop asking. */
export async function confirmRecoveryKey(vault: Vault): Promise<void> {
  const file = await readKeyring(vault.dir);
  if (!file.recoveryUnconfirmed) return;
  delete file.recoveryUnconfirmed;
  await saveKeyring(vault.dir, file);
}

/** Whether the app still waits for the user to prove they stored the recovery key. */
export async function recoveryUnconfirmed(dir: string): Promise<boolean> {
  return (await readKeyring(dir).catch(() => undefined))?.recoveryUnconfirmed === true;
}

/**
 * Writes a copy of the vault's keyring to `out` (atomically, mode 0600). It holds only
 * wrapped keys: with the recovery key (or the password) it opens this vault's files
 * anywhere, e.g. on a new computer after a disk is lost.
 */
export async function exportKeyring(
  dir: string,
  out: string,
  { overwrite = false }: { overwrite?: boolean } = {},
): Promise<{ vaultId: string }> {
  const file = await readKeyring(dir);
  // The "not confirmed" mark belongs to this computer's app, not to a copy kept elsewhere.
  const copy: KeyringFile = { ...file };
  delete copy.recoveryUnconfirmed;
  await writeFileAtomic(out, JSON.stringify(copy, null, 2) + '\n', { exclusive: !overwrite });
  return { vaultId: file.vaultId };
}

/**
 * Restores a vault from a keyring copy (a batch backup's or an exported one) into `dir`,
 * which must hold no keyring: the recovery key proves the copy is ours, and the new
 * password replaces the copy's password wrap (the recovery key keeps working).
 */
export async function restoreKeyring(
  source: string,
  dir: string,
  recoveryKey: string,
  newPassword: string,
  params: ScryptParams = DEFAULT_SCRYPT,
): Promise<Vault> {
  if (newPassword.length === 0)
    throw new KeepsakeError('PASSWORD_REQUIRED', 'the new password is empty');
  checkScrypt(params, keyringPath(dir));
  if (await vaultExists(dir)) {
    throw new KeepsakeError(
      'VAULT_EXISTS',
      'a vault keyring already exists here; nothing was changed',
      { file: dir },
    );
  }
  const file = await readKeyringFile(source);
  const vault = await unlockKeyring(file, dir, { recoveryKey });
  const salt = randomBytes(16);
  const kek = await scrypt(newPassword, salt, params);
  file.kdf = { name: 'scrypt', salt: salt.toString('base64'), ...params };
  file.wraps.password = wrap(kek, vault.masterKey, aad(vault.vaultId, 'password'));
  delete file.recoveryUnconfirmed;
  await mkdir(dir, { recursive: true, mode: 0o700 }).catch((err: unknown) => {
    throw fromFsError(err, dir, 'write');
  });
  await writeFileAtomic(keyringPath(dir), JSON.stringify(file, null, 2) + '\n', {
    exclusive: true,
  }).catch((err: unknown) => {
    if (isKeepsakeError(err, 'OUTPUT_EXISTS')) {
      throw new KeepsakeError('VAULT_EXISTS', 'a vault keyring already exists here', {
        file: dir,
      });
    }
    throw err;
  });
  return vault;
}

/** The vault id a keyring file names, without unlocking it. */
export async function keyringVaultId(path: string): Promise<string> {
  return (await readKeyringFile(path)).vaultId;
}
