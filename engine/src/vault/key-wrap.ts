// Wrapping the vault's master key: scrypt turns a password into a key-encryption key
// (with bounds checked on every read, so a hostile keyring cannot make the engine spin),
// and AES-256-GCM wraps the 32-byte master key under it, authenticated with what names
// the slot (keyring.ts), so a wrap moved to another vault or slot does not open.

import {
  createCipheriv,
  createDecipheriv,
  randomBytes,
  scrypt as scryptCb,
  type ScryptOptions,
} from 'node:crypto';
import { KeepsakeError } from '../core/errors';

export interface ScryptParams {
  logN: number;
  r: number;
  p: number;
}

/**
 * Default scrypt cost. N=2^15 keeps scrypt's working memory at 32 MiB so that the
 * engine stays far below its 150 MB RSS budget, and p=6 brings the time to about
 * 0.35 s on the reference 2-core machine (the issue asks for at least 0.25 s).
 */
export const DEFAULT_SCRYPT: ScryptParams = { logN: 15, r: 8, p: 6 };

/** Bounds enforced on every keyring read, so a hostile keyring cannot make us spin. */
export const SCRYPT_BOUNDS = {
  logN: { min: 10, max: 20 },
  r: { min: 1, max: 32 },
  p: { min: 1, max: 16 },
  /** N·r·p, the work factor. The default is ~2^20.6. */
  maxWork: 2 ** 25,
  /** 128·N·r bytes of scrypt memory. */
  maxMemory: 1024 * 1024 * 1024,
} as const;

export interface WrappedKey {
  nonce: string;
  ciphertext: string;
}

export function checkScrypt(params: ScryptParams, where: string): void {
  const { logN, r, p } = params;
  const inRange = (v: unknown, b: { min: number; max: number }) =>
    Number.isInteger(v) && (v as number) >= b.min && (v as number) <= b.max;
  const N = 2 ** logN;
  if (
    !inRange(logN, SCRYPT_BOUNDS.logN) ||
    !inRange(r, SCRYPT_BOUNDS.r) ||
    !inRange(p, SCRYPT_BOUNDS.p) ||
    N * r * p > SCRYPT_BOUNDS.maxWork ||
    128 * N * r > SCRYPT_BOUNDS.maxMemory
  ) {
    throw new KeepsakeError(
      'KDF_PARAMS_OUT_OF_BOUNDS',
      `scrypt parameters logN=${logN} r=${r} p=${p} are outside the allowed bounds`,
      { file: where },
    );
  }
}

export function scrypt(password: string, salt: Buffer, params: ScryptParams): Promise<Buffer> {
  const N = 2 ** params.logN;
  const options: ScryptOptions = {
    N,
    r: params.r,
    p: params.p,
    maxmem: 128 * N * params.r * 2 + 1024 * 1024,
  };
  return new Promise((resolve, reject) =>
    scryptCb(password.normalize('NFC'), salt, 32, options, (err, key) =>
      err ? reject(err) : resolve(key),
    ),
  );
}

export function wrap(kek: Buffer, key: Buffer, ad: Buffer): WrappedKey {
  const nonce = randomBytes(12);
  const cipher = createCipheriv('aes-256-gcm', kek, nonce, { authTagLength: 16 });
  cipher.setAAD(ad);
  const ciphertext = Buffer.concat([cipher.update(key), cipher.final(), cipher.getAuthTag()]);
  return { nonce: nonce.toString('base64'), ciphertext: ciphertext.toString('base64') };
}

/** Returns undefined when the key-encryption key is wrong (GCM authentication fails). */
export function unwrap(kek: Buffer, wrapped: WrappedKey, ad: Buffer): Buffer | undefined {
  const data = Buffer.from(wrapped.ciphertext, 'base64');
  if (data.length !== 48) return undefined;
  const decipher = createDecipheriv('aes-256-gcm', kek, Buffer.from(wrapped.nonce, 'base64'), {
    authTagLength: 16,
  });
  decipher.setAAD(ad);
  decipher.setAuthTag(data.subarray(32));
  try {
    return Buffer.concat([decipher.update(data.subarray(0, 32)), decipher.final()]);
  } catch {
    return undefined;
  }
}
