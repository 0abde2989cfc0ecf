// Recovery keys: 32 random bytes + 2 checksum bytes, base32 in groups of four, shown once
// and typed back by a person (case, spaces and dashes forgiven). The key-encryption key
// that wraps the master key is derived from the secret and the vault's id (keyring.ts).

import { createHash, hkdfSync } from 'node:crypto';
import { KeepsakeError } from '../core/errors';

const BASE32 = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';
const RECOVERY_PREFIX = 'KSRK';

function base32(bytes: Buffer): string {
  let bits = 0;
  let value = 0;
  let out = '';
  for (const byte of bytes) {
    value = (value << 8) | byte;
    bits += 8;
    while (bits >= 5) {
      out += BASE32[(value >>> (bits - 5)) & 31];
      bits -= 5;
    }
  }
  if (bits > 0) out += BASE32[(value << (5 - bits)) & 31];
  return out;
}

function fromBase32(text: string): Buffer | undefined {
  let bits = 0;
  let value = 0;
  const out: number[] = [];
  for (const ch of text) {
    const v = BASE32.indexOf(ch);
    if (v < 0) return undefined;
    value = ((value << 5) | v) & 0xffff;
    bits += 5;
    if (bits >= 8) {
      out.push((value >>> (bits - 8)) & 0xff);
      bits -= 8;
    }
  }
  return Buffer.from(out);
}

function recoveryChecksum(secret: Buffer): Buffer {
  return createHash('sha256').update('keepsake recovery').update(secret).digest().subarray(0, 2);
}

export function formatRecoveryKey(secret: Buffer): string {
  const text = base32(Buffer.concat([secret, recoveryChecksum(secret)]));
  return [RECOVERY_PREFIX, ...(text.match(/.{1,4}/g) ?? [])].join('-');
}

/** Parses a recovery key as typed by a person: case, spaces and dashes are forgiven. */
export function parseRecoveryKey(text: string): Buffer {
  const compact = text.toUpperCase().replace(/[\s-]/g, '');
  const body = compact.startsWith(RECOVERY_PREFIX)
    ? compact.slice(RECOVERY_PREFIX.length)
    : compact;
  const bytes = fromBase32(body);
  if (!bytes || bytes.length !== 34) {
    throw new KeepsakeError(
      'INVALID_KEY',
      'that is not a Keepsake recovery key (wrong length or letters)',
    );
  }
  const secret = bytes.subarray(0, 32);
  if (!recoveryChecksum(secret).equals(bytes.subarray(32))) {
    throw new KeepsakeError(
      'INVALID_KEY',
      'the recovery key has a typo (its checksum does not match)',
    );
  }
  return secret;
}

export function recoveryKek(secret: Buffer, vaultId: string): Buffer {
  return Buffer.from(
    hkdfSync('sha256', secret, Buffer.from(vaultId), 'keepsake recovery wrap', 32),
  );
}
