// Every random id the engine makes, in one place, so their formats are written down once.
// The formats are stored (job, upload, library and credential rows; vault file headers),
// compared (the CLI's and the API's id checks) and shown, so they never change here.
// Secrets (tokens, keys, nonces, pairing codes) are not ids: they stay on randomBytes where
// they are made, next to what they protect.
import { randomBytes } from 'node:crypto';

const BASE32 = 'abcdefghijklmnopqrstuvwxyz234567';

/**
 * `prefix` + `length` lowercase base32 characters, 5 random bits each: short, unguessable,
 * safe in paths, URLs and shells, and the same in every case-folding file system.
 */
export function base32Id(prefix: string, length: number): string {
  // Each byte gives its low 5 bits: 256 is a multiple of 32, so every letter is as likely.
  return prefix + [...randomBytes(length)].map((b) => BASE32[b & 31]).join('');
}

/** `bytes` random bytes as lowercase hex (2 characters a byte). */
export const hexId = (bytes: number): string => randomBytes(bytes).toString('hex');

/** A job: `j` + 12 base32 characters (60 bits), e.g. `jb67txs4uiixg`. */
export const newJobId = (): string => base32Id('j', 12);

/** A resumable upload: `u` + 20 base32 characters (100 bits). */
export const newUploadId = (): string => base32Id('u', 20);

/** An API credential's public half: `ks_` + 20 base32 characters (100 bits). */
export const newClientId = (): string => base32Id('ks_', 20);

/** A library row (`f` folder, `m` media item): the prefix + 12 base32 characters. */
export const newLibraryId = (prefix: 'f' | 'm'): string => base32Id(prefix, 12);

/** A vault, a vault file or a batch: 32 hex characters (128 bits). */
export const newHexId128 = (): string => hexId(16);

/** A desktop save task: `s` + 12 base64url characters (72 bits); lives in memory only. */
export const newSaveTaskId = (): string => `s${randomBytes(9).toString('base64url')}`;

/**
 * A temporary name's suffix (`name.<suffix>.part` and the like): 12 hex characters, enough
 * that two writers of the same file never pick the same one.
 */
export const tempSuffix = (): string => hexId(6);
