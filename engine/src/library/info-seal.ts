// What the library knows of an item (its capture date, camera, size, duration; the title
// and date the family gave it) is as private as the item: it is sealed under a key derived
// from the vault's master key before it reaches the database, so engine.db, a backup of
// it, or anyone who can read the data folder learns no dates, cameras or titles. Each
// kind of row has its own key (`purpose`), and each row is bound to its file id (the
// AEAD's associated data): a sealed row copied onto another file does not open.

import { createCipheriv, createDecipheriv, hkdfSync, randomBytes } from 'node:crypto';
import type { Vault } from '../vault/keyring';
import type { ItemInfo } from './item-info';

const NONCE = 12;
const TAG = 16;
const keys = new WeakMap<Vault, Map<string, Buffer>>();

/** What a sealed row holds; each has its own key, so one kind never opens as another. */
export type SealPurpose = 'keepsake library info v1' | 'keepsake library labels v1';

function rowKey(vault: Vault, purpose: SealPurpose): Buffer {
  let byPurpose = keys.get(vault);
  if (!byPurpose) keys.set(vault, (byPurpose = new Map()));
  let key = byPurpose.get(purpose);
  if (!key) {
    key = Buffer.from(hkdfSync('sha256', vault.masterKey, Buffer.from(vault.vaultId), purpose, 32));
    byPurpose.set(purpose, key);
  }
  return key;
}

export function sealRow(
  vault: Vault,
  purpose: SealPurpose,
  fileId: string,
  value: unknown,
): Buffer {
  const nonce = randomBytes(NONCE);
  const cipher = createCipheriv('aes-256-gcm', rowKey(vault, purpose), nonce);
  cipher.setAAD(Buffer.from(fileId));
  const body = Buffer.concat([cipher.update(JSON.stringify(value), 'utf8'), cipher.final()]);
  return Buffer.concat([nonce, body, cipher.getAuthTag()]);
}

/** The value sealed for `fileId`, or undefined when it does not open (another vault, tampered). */
export function openRow<T>(
  vault: Vault,
  purpose: SealPurpose,
  fileId: string,
  sealed: Buffer,
): T | undefined {
  if (sealed.length < NONCE + TAG) return undefined;
  try {
    const decipher = createDecipheriv(
      'aes-256-gcm',
      rowKey(vault, purpose),
      sealed.subarray(0, NONCE),
    );
    decipher.setAAD(Buffer.from(fileId));
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

export function sealInfo(vault: Vault, fileId: string, info: ItemInfo): Buffer {
  return sealRow(vault, 'keepsake library info v1', fileId, info);
}

export function openInfo(vault: Vault, fileId: string, sealed: Buffer): ItemInfo | undefined {
  return openRow<ItemInfo>(vault, 'keepsake library info v1', fileId, sealed);
}
