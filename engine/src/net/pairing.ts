// Pairing: a desktop engine gets its own credential from a server, and pins the server's
// CA, with nothing but the server's URL and a short one-time code the owner read off the
// server (`keepsake pair`).
//
// The code is never sent. Both sides prove they know it with HMACs bound to the CA
// fingerprint the client's TLS connection saw:
//
//   client → server   name, nonce, mac  = HMAC(k, "keepsake pair v1|client|" nonce "|" fp)
//   server → client   credential, proof = HMAC(k, "keepsake pair v1|server|" nonce "|" fp)
//   with k = SHA-256(normalised code), fp = the CA fingerprint (SHA-256, "AA:BB:…")
//
// A machine in the middle presents its own CA, so the fingerprint the client binds is not
// the server's: the server refuses the mac, and a forged reply has no valid proof. Codes
// live ten minutes, work once, and only their hash is stored.

import { createHash, createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import { KeepsakeError } from '../core/errors';
import { stmt, type Db } from '../jobs/db';
import type { CredentialStore, IssuedCredential } from './credentials';
import type { Role } from './roles';

const ALPHABET = 'ABCDEFGHJKMNPQRSTUVWXYZ23456789'; // no 0/O, 1/I/L: read aloud, typed by hand
export const CODE_LENGTH = 10;
export const DEFAULT_CODE_TTL_MS = 10 * 60_000;

/** Upper case, without spaces or dashes: what the person typed, as the server made it. */
export function normaliseCode(code: string): string {
  return code.toUpperCase().replace(/[\s-]/g, '');
}

export function codeKey(code: string): Buffer {
  return createHash('sha256')
    .update(`keepsake pair code|${normaliseCode(code)}`)
    .digest();
}

export function pairingMac(
  key: Buffer,
  side: 'client' | 'server',
  nonce: string,
  fingerprint: string,
): string {
  return createHmac('sha256', key)
    .update(`keepsake pair v1|${side}|${nonce}|${fingerprint.toUpperCase()}`)
    .digest('base64');
}

function equalBase64(a: string, b: string): boolean {
  const x = Buffer.from(a, 'base64');
  const y = Buffer.from(b, 'base64');
  return x.length === y.length && x.length > 0 && timingSafeEqual(x, y);
}

/** Makes a one-time code: `XXXXX-XXXXX` (about 49 bits). */
export function createPairingCode(
  db: Db,
  options: { role?: Role; ttlMs?: number; now?: number } = {},
): { code: string; expiresAt: number } {
  const now = options.now ?? Date.now();
  const chars = [...randomBytes(CODE_LENGTH)].map((b) => ALPHABET[b % ALPHABET.length]).join('');
  const code = `${chars.slice(0, 5)}-${chars.slice(5)}`;
  const expiresAt = now + (options.ttlMs ?? DEFAULT_CODE_TTL_MS);
  stmt(
    db,
    'INSERT INTO pairing_codes (code_hash, role, created_at, expires_at) VALUES (?, ?, ?, ?)',
  ).run(codeKey(code).toString('hex'), options.role ?? 'client', now, expiresAt);
  return { code, expiresAt };
}

export interface PairRequest {
  name: string;
  nonce: string;
  mac: string;
}

/**
 * The server's side: finds the live code whose mac matches (bound to this server's own CA
 * fingerprint), uses it up, and issues a credential with the proof.
 */
export function redeemPairing(
  db: Db,
  credentials: CredentialStore,
  caFingerprint: string,
  request: PairRequest,
  now = Date.now(),
): IssuedCredential & { proof: string } {
  const redeem = db.transaction(() => {
    const live = stmt(
      db,
      'SELECT code_hash, role FROM pairing_codes WHERE used_at IS NULL AND expires_at > ?',
    ).all(now) as { code_hash: string; role: Role }[];
    const match = live.find((row) =>
      equalBase64(
        pairingMac(Buffer.from(row.code_hash, 'hex'), 'client', request.nonce, caFingerprint),
        request.mac,
      ),
    );
    if (!match) {
      throw new KeepsakeError(
        'UNAUTHORIZED',
        'no live pairing code matches (expired, already used, mistyped, or the connection was intercepted)',
      );
    }
    const issued = credentials.add(request.name, match.role);
    stmt(db, 'UPDATE pairing_codes SET used_at = ?, used_by = ? WHERE code_hash = ?').run(
      now,
      issued.clientId,
      match.code_hash,
    );
    const key = Buffer.from(match.code_hash, 'hex');
    return { ...issued, proof: pairingMac(key, 'server', request.nonce, caFingerprint) };
  });
  return redeem.immediate();
}

/** The client's side: what to send, and how to check the answer. */
export function pairingRequest(code: string, name: string, caFingerprint: string) {
  const key = codeKey(code);
  const nonce = randomBytes(16).toString('base64');
  return {
    body: { name, nonce, mac: pairingMac(key, 'client', nonce, caFingerprint) } as PairRequest,
    checkProof: (proof: string) =>
      equalBase64(pairingMac(key, 'server', nonce, caFingerprint), proof),
  };
}
