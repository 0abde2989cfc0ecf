// Small private values kept in engine.db (an item's facts and labels, the title a job
// writes into its outputs) are sealed under a key derived from the vault's master key, so
// the database, a backup of it, or anyone who can read the data folder learns nothing from
// them. Each kind of value has its own key (`purpose`), and each value is bound to what it
// belongs to (`binding`, the AEAD's associated data): a sealed value copied onto another
// row does not open.

import { createCipheriv, createDecipheriv, hkdfSync, randomBytes } from 'node:crypto';
import type { Vault } from './keyring';

const NONCE = 12;
const TAG = 16;
const keys = new WeakMap<Vault, Map<string, Buffer>>();

function purposeKey(vault: Vault, purpose: string): Buffer {
  let byPurpose = keys.get(vault);
  if (!byPurpose) keys.set(vault, (byPurpose = new Map()));
  let key = byPurpose.get(purpose);
  if (!key) {
    key = Buffer.from(hkdfSync('sha256', vault.masterKey, Buffer.from(vault.vaultId), purpose, 32));
    byPurpose.set(purpose, key);
  }
  return key;
}

/** `value` as JSON, sealed with AES-256-GCM: nonce, ciphertext, tag. */
export function sealValue(vault: Vault, purpose: string, binding: string, value: unknown): Buffer {
  const nonce = randomBytes(NONCE);
  const cipher = createCipheriv('aes-256-gcm', purposeKey(vault, purpose), nonce);
  cipher.setAAD(Buffer.from(binding));
  const body = Buffer.concat([cipher.update(JSON.stringify(value), 'utf8'), cipher.final()]);
  return Buffer.concat([nonce, body, cipher.getAuthTag()]);
}

/** The value sealed for `binding`, or undefined when it does not open (another vault, tampered). */
export function openValue<T>(
  vault: Vault,
  purpose: string,
  binding: string,
  sealed: Buffer,
): T | undefined {
  if (sealed.length < NONCE + TAG) return undefined;
  try {
    const decipher = createDecipheriv(
      'aes-256-gcm',
      purposeKey(vault, purpose),
      sealed.subarray(0, NONCE),
    );
    decipher.setAAD(Buffer.from(binding));
    decipher.setAuthTag(sealed.subarray(sealed.length - TAG));
    const text = Buffer.concat([
      decipher.update(sealed.subarray(NONCE, sealed.length - TAG)),
      decipher.final(),
    ]).toString('utf8');
    return JSON.parse(text) as T;
  } catch {
    return undefined;
  }
}
