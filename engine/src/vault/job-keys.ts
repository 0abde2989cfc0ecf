// Per-job output keys, derived from the vault's master key, for outputs a remote server
// writes: the vault re-derives them from the key id in a file's header, so nothing is
// stored.

import { hkdfSync } from 'node:crypto';
import { KeepsakeError } from '../core/errors';
import type { Vault } from './keyring';

/** The label that marks a job key derived from a vault's master key. */
const JOB_KEY_MARK = '/job:';

/**
 * A per-job output key, derived from the vault's master key. A remote server is given
 * this (never the master key) to wrap the file keys of one job's outputs; the vault later
 * opens those outputs by re-deriving it from the key id in their header, so nothing has
 * to be stored, and one job's key opens no other job's files.
 */
export function jobOutputVault(vault: Vault, label: string): Vault {
  if (!/^[A-Za-z0-9._-]{1,64}$/.test(label)) {
    throw new KeepsakeError('USAGE', `job key label "${label}" must be 1-64 of A-Z a-z 0-9 . _ -`);
  }
  const masterKeyId = `${vault.masterKeyId}${JOB_KEY_MARK}${label}`;
  return {
    dir: vault.dir,
    vaultId: vault.vaultId,
    masterKeyId,
    masterKey: deriveJobKey(vault, masterKeyId),
  };
}

function deriveJobKey(vault: Vault, keyId: string): Buffer {
  return Buffer.from(
    hkdfSync(
      'sha256',
      vault.masterKey,
      Buffer.from(vault.vaultId),
      `keepsake job output v1|${keyId}`,
      32,
    ),
  );
}

/**
 * The key that wraps file keys under key id `kid`: the master key itself, or a job key
 * derived from it; undefined for a key id this vault does not know.
 */
export function wrappingKey(vault: Vault, kid: string | undefined): Buffer | undefined {
  if (kid === undefined || kid === vault.masterKeyId) return vault.masterKey;
  if (kid.startsWith(vault.masterKeyId + JOB_KEY_MARK)) return deriveJobKey(vault, kid);
  return undefined;
}
