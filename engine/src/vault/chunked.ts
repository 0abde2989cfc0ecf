// C2SP chunked encryption v1 (c2sp.org/chunked-encryption), the vault's payload format.
// Cobblestone-256 is HKDF-SHA-512 + AES-256-GCM with 16 KiB chunks; AES-128-GCM is kept
// only because the public test vectors cover it too.
//
// Ciphertext = salt (24) || commitment (32) || sealed chunks (≤ 16384 + 16 each).
// The final chunk is always shorter than 16384 bytes (possibly empty), which is what
// makes truncation at a chunk boundary detectable.

import {
  createCipheriv,
  createDecipheriv,
  createHmac,
  createSecretKey,
  randomBytes,
  timingSafeEqual,
  type KeyObject,
} from 'node:crypto';
import { KeepsakeError } from '../core/errors';

export const CHUNK_SIZE = 16_384;
export const TAG_SIZE = 16;
export const SEALED_CHUNK_SIZE = CHUNK_SIZE + TAG_SIZE;
export const SALT_SIZE = 24;
export const COMMITMENT_SIZE = 32;
export const PREFIX_SIZE = SALT_SIZE + COMMITMENT_SIZE;
export const NONCE_SIZE = 12;
/** The spec aborts at 2^38 chunks (4 PiB), far above anything a family owns. */
export const MAX_CHUNKS = 2 ** 38;

export type AeadName = 'AEAD_AES_256_GCM' | 'AEAD_AES_128_GCM';

const SUITES: Record<AeadName, { cipher: 'aes-256-gcm' | 'aes-128-gcm'; keySize: number }> = {
  AEAD_AES_256_GCM: { cipher: 'aes-256-gcm', keySize: 32 },
  AEAD_AES_128_GCM: { cipher: 'aes-128-gcm', keySize: 16 },
};

export const COBBLESTONE_256: AeadName = 'AEAD_AES_256_GCM';

/** The per-message keys derived from the input key, salt and context. */
export interface ChunkKeys {
  readonly aead: AeadName;
  readonly key: KeyObject;
  readonly baseNonce: Buffer;
  readonly commitment: Buffer;
}

/**
 * HKDF-Expand (RFC 5869 §2.3) with SHA-512. The scheme uses the input key directly as
 * the PRK with no Extract step, and Node's `hkdf` always extracts, so Expand is written
 * out here: T(i) = HMAC(PRK, T(i-1) || info || i).
 */
function hkdfExpandSha512(prk: Buffer, info: Buffer, length: number): Buffer {
  const blocks: Buffer[] = [];
  let previous = Buffer.alloc(0);
  for (let i = 1; blocks.length * 64 < length; i++) {
    previous = createHmac('sha512', prk)
      .update(previous)
      .update(info)
      .update(Buffer.of(i))
      .digest();
    blocks.push(previous);
  }
  return Buffer.concat(blocks).subarray(0, length);
}

export function deriveChunkKeys(
  inputKey: Buffer,
  salt: Buffer,
  context: Buffer,
  aead: AeadName = COBBLESTONE_256,
): ChunkKeys {
  const { keySize } = SUITES[aead];
  if (inputKey.length !== keySize) {
    throw new KeepsakeError(
      'INVALID_KEY',
      `${aead} needs a ${keySize}-byte key, got ${inputKey.length} bytes`,
    );
  }
  const info = Buffer.concat([
    Buffer.from(`c2sp.org/chunked-encryption@v1+${aead}\0`, 'latin1'),
    salt,
    context,
  ]);
  const okm = hkdfExpandSha512(inputKey, info, keySize + NONCE_SIZE + COMMITMENT_SIZE);
  return {
    aead,
    key: createSecretKey(okm.subarray(0, keySize)),
    baseNonce: Buffer.from(okm.subarray(keySize, keySize + NONCE_SIZE)),
    commitment: Buffer.from(okm.subarray(keySize + NONCE_SIZE)),
  };
}

/** nonce_i = base_nonce XOR i, with i big-endian across the whole 12 bytes (i < 2^38). */
export function chunkNonce(
  baseNonce: Buffer,
  index: number,
  out = Buffer.alloc(NONCE_SIZE),
): Buffer {
  if (index >= MAX_CHUNKS) {
    throw new KeepsakeError('PAYLOAD_CORRUPT', 'chunk counter limit (2^38) reached');
  }
  baseNonce.copy(out);
  const high = Math.floor(index / 2 ** 32);
  const low = index >>> 0;
  out.writeUInt32BE((out.readUInt32BE(4) ^ high) >>> 0, 4);
  out.writeUInt32BE((out.readUInt32BE(8) ^ low) >>> 0, 8);
  return out;
}

/** Seals one chunk; returns ciphertext and tag as two buffers to spare a copy. */
export function sealChunk(keys: ChunkKeys, index: number, plaintext: Buffer): [Buffer, Buffer] {
  const cipher = createCipheriv(
    SUITES[keys.aead].cipher,
    keys.key,
    chunkNonce(keys.baseNonce, index),
    {
      authTagLength: TAG_SIZE,
    },
  );
  const body = cipher.update(plaintext);
  cipher.final();
  return [body, cipher.getAuthTag()];
}

/**
 * Opens one sealed chunk. Throws PAYLOAD_CORRUPT if it does not authenticate; the
 * plaintext is returned only after the tag has been checked.
 */
export function openChunk(keys: ChunkKeys, index: number, sealed: Buffer): Buffer {
  if (sealed.length < TAG_SIZE) {
    throw new KeepsakeError('TRUNCATED', `chunk ${index} is shorter than its tag`);
  }
  const decipher = createDecipheriv(
    SUITES[keys.aead].cipher,
    keys.key,
    chunkNonce(keys.baseNonce, index),
    { authTagLength: TAG_SIZE },
  );
  decipher.setAuthTag(sealed.subarray(sealed.length - TAG_SIZE));
  const plaintext = decipher.update(sealed.subarray(0, sealed.length - TAG_SIZE));
  try {
    decipher.final();
  } catch (cause) {
    throw new KeepsakeError('PAYLOAD_CORRUPT', `chunk ${index} failed authentication`, { cause });
  }
  return plaintext;
}

/** Derives the keys for a ciphertext prefix and checks its commitment in constant time. */
export function openPrefix(
  inputKey: Buffer,
  prefix: Buffer,
  context: Buffer,
  aead: AeadName = COBBLESTONE_256,
): ChunkKeys {
  if (prefix.length < PREFIX_SIZE) {
    throw new KeepsakeError('TRUNCATED', 'ciphertext is shorter than its salt and commitment');
  }
  const keys = deriveChunkKeys(inputKey, prefix.subarray(0, SALT_SIZE), context, aead);
  if (!timingSafeEqual(keys.commitment, prefix.subarray(SALT_SIZE, PREFIX_SIZE))) {
    throw new KeepsakeError(
      'HEADER_CORRUPT',
      'key commitment mismatch: wrong key or context (for a vault file: a header that does not belong to its payload)',
    );
  }
  return keys;
}

export function newPrefix(
  inputKey: Buffer,
  context: Buffer,
  aead: AeadName = COBBLESTONE_256,
): { prefix: Buffer; keys: ChunkKeys } {
  const salt = randomBytes(SALT_SIZE);
  const keys = deriveChunkKeys(inputKey, salt, context, aead);
  return { prefix: Buffer.concat([salt, keys.commitment]), keys };
}

/** Ciphertext size for a plaintext of `size` bytes. */
export function ciphertextSize(size: number): number {
  return PREFIX_SIZE + size + (Math.floor(size / CHUNK_SIZE) + 1) * TAG_SIZE;
}

/**
 * Plaintext size for a ciphertext of `size` bytes, or an error if no valid ciphertext
 * has that size (a full-size final chunk means the real final chunk was cut off).
 */
export function plaintextSize(size: number): number {
  const body = size - PREFIX_SIZE;
  if (body < TAG_SIZE)
    throw new KeepsakeError('TRUNCATED', 'ciphertext ends before its first chunk');
  const fullChunks = Math.floor(body / SEALED_CHUNK_SIZE);
  const rest = body - fullChunks * SEALED_CHUNK_SIZE;
  if (rest < TAG_SIZE) {
    throw new KeepsakeError(
      'TRUNCATED',
      'ciphertext ends at a chunk boundary: its final chunk is missing',
    );
  }
  return fullChunks * CHUNK_SIZE + rest - TAG_SIZE;
}

/** One-shot encryption, for small messages and tests. */
export function encryptChunked(
  inputKey: Buffer,
  plaintext: Buffer,
  context: Buffer = Buffer.alloc(0),
  aead: AeadName = COBBLESTONE_256,
): Buffer {
  const { prefix, keys } = newPrefix(inputKey, context, aead);
  const parts: Buffer[] = [prefix];
  let index = 0;
  for (let offset = 0; ; offset += CHUNK_SIZE, index++) {
    parts.push(...sealChunk(keys, index, plaintext.subarray(offset, offset + CHUNK_SIZE)));
    if (plaintext.length - offset < CHUNK_SIZE) break;
  }
  return Buffer.concat(parts);
}

/** One-shot decryption: returns all plaintext or throws, releasing nothing on failure. */
export function decryptChunked(
  inputKey: Buffer,
  ciphertext: Buffer,
  context: Buffer = Buffer.alloc(0),
  aead: AeadName = COBBLESTONE_256,
): Buffer {
  const keys = openPrefix(inputKey, ciphertext, context, aead);
  plaintextSize(ciphertext.length);
  const parts: Buffer[] = [];
  for (
    let offset = PREFIX_SIZE, index = 0;
    offset < ciphertext.length;
    offset += SEALED_CHUNK_SIZE, index++
  ) {
    parts.push(openChunk(keys, index, ciphertext.subarray(offset, offset + SEALED_CHUNK_SIZE)));
  }
  return Buffer.concat(parts);
}
