// Seals small secrets that live in files beside the database (the server's TLS private
// keys) with AES-256-GCM under a key derived from the credential store's data key, which
// is itself sealed under the KEK (see credentials.ts). So a copy of the data folder
// without the KEK opens neither the client keys nor the server's TLS keys, and rotating
// the KEK (one row) covers these files too.

import { createCipheriv, createDecipheriv, createHash, hkdfSync, randomBytes } from 'node:crypto';

export interface Sealer {
  /** A short name for the sealing key, stored with what it sealed (never the key). */
  readonly id: string;
  seal(plaintext: Buffer, aad: string): Buffer;
  /** undefined when the key is wrong or the sealed bytes (or their AAD) were altered. */
  open(sealed: Buffer, aad: string): Buffer | undefined;
}

const NONCE = 12;
const TAG = 16;

/**
 * A sealer with a key of its own for `purpose`, derived from `key` (HKDF-SHA-256): what
 * one purpose sealed, another cannot open, and neither is the store's data key itself.
 */
export function aeadSealer(key: Buffer, purpose: string): Sealer {
  const derived = Buffer.from(hkdfSync('sha256', key, Buffer.alloc(0), `keepsake ${purpose}`, 32));
  const id = createHash('sha256')
    .update('keepsake sealer id v1\0')
    .update(derived)
    .digest('hex')
    .slice(0, 16);
  return {
    id,
    seal(plaintext, aad) {
      const nonce = randomBytes(NONCE);
      const cipher = createCipheriv('aes-256-gcm', derived, nonce, { authTagLength: TAG });
      cipher.setAAD(Buffer.from(aad));
      return Buffer.concat([nonce, cipher.update(plaintext), cipher.final(), cipher.getAuthTag()]);
    },
    open(sealed, aad) {
      if (sealed.length < NONCE + TAG) return undefined;
      const decipher = createDecipheriv('aes-256-gcm', derived, sealed.subarray(0, NONCE), {
        authTagLength: TAG,
      });
      decipher.setAAD(Buffer.from(aad));
      decipher.setAuthTag(sealed.subarray(sealed.length - TAG));
      try {
        return Buffer.concat([
          decipher.update(sealed.subarray(NONCE, sealed.length - TAG)),
          decipher.final(),
        ]);
      } catch {
        return undefined;
      }
    },
  };
}
