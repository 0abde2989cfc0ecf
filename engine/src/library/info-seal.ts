// What the library reads of an item (its capture date, camera, size, duration) is as
// private as the item: it is sealed under a key derived from the vault's master key
// before it reaches the database, so engine.db, a backup of it, or anyone who can read
// the data folder learns no dates and no cameras. Each row is bound to its file id (the
// AEAD's associated data): a sealed row copied onto another file does not open.

import { createCipheriv, createDecipheriv, hkdfSync, randomBytes } from 'node:crypto';
import type { Vault } from '../vault/keyring';
import type { ItemInfo } from './item-info';

const NONCE = 12;
const TAG = 16;
const keys = new WeakMap<Vault, Buffer>();

function infoKey(vault: Vault): Buffer {
  let key = keys.get(vault);
  if (!key) {
    key = Buffer.from(
      hkdfSync(
        'sha256',
        vault.masterKey,
        Buffer.from(vault.vaultId),
        'keepsake library info v1',
        32,
      ),
    );
    keys.set(vault, key);
  }
  return key;
}

export function sealInfo(vault: Vault, fileId: string, info: ItemInfo): Buffer {
  const nonce = randomBytes(NONCE);
  const cipher = createCipheriv('aes-256-gcm', infoKey(vault), nonce);
  cipher.setAAD(Buffer.from(fileId));
  const body = Buffer.concat([cipher.update(JSON.stringify(info), 'utf8'), cipher.final()]);
  return Buffer.concat([nonce, body, cipher.getAuthTag()]);
}

/** The info sealed for `fileId`, or undefined when it does not open (another vault, tampered). */
export function openInfo(vault: Vault, fileId: string, sealed: Buffer): ItemInfo | undefined {
  if (sealed.length < NONCE + TAG) return undefined;
  try {
    const decipher = createDecipheriv('aes-256-gcm', infoKey(vault), sealed.subarray(0, NONCE));
    decipher.setAAD(Buffer.from(fileId));
    decipher.setAuthTag(sealed.subarray(sealed.length - TAG));
    const text = Buffer.concat([
      decipher.update(sealed.subarray(NONCE, sealed.length - TAG)),
      decipher.final(),
    ]).toString('utf8');
    return JSON.parse(text) as ItemInfo;
  } catch {
    return undefined;
  }
}
