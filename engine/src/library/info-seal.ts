// What the library knows of an item (its capture date, camera, size, duration; the title
// and date the family gave it) is as private as the item: it is sealed under a key derived
// from the vault's master key before it reaches the database, so engine.db, a backup of
// it, or anyone who can read the data folder learns no dates, cameras or titles. Each
// kind of row has its own key (`purpose`), and each row is bound to its file id (the
// AEAD's associated data): a sealed row copied onto another file does not open.

import type { Vault } from '../vault/keyring';
import { openValue, sealValue } from '../vault/sealed-value';
import type { ItemInfo } from './item-info';

/** What a sealed row holds; each has its own key, so one kind never opens as another. */
export type SealPurpose = 'keepsake library info v1' | 'keepsake library labels v1';

export function sealRow(
  vault: Vault,
  purpose: SealPurpose,
  fileId: string,
  value: unknown,
): Buffer {
  return sealValue(vault, purpose, fileId, value);
}

/** The value sealed for `fileId`, or undefined when it does not open (another vault, tampered). */
export function openRow<T>(
  vault: Vault,
  purpose: SealPurpose,
  fileId: string,
  sealed: Buffer,
): T | undefined {
  return openValue<T>(vault, purpose, fileId, sealed);
}

export function sealInfo(vault: Vault, fileId: string, info: ItemInfo): Buffer {
  return sealRow(vault, 'keepsake library info v1', fileId, info);
}

export function openInfo(vault: Vault, fileId: string, sealed: Buffer): ItemInfo | undefined {
  return openRow<ItemInfo>(vault, 'keepsake library info v1', fileId, sealed);
}
