// One spelling of a certificate fingerprint everywhere (the CLI's print, the desktop's
// compare, the client's pin): SHA-256 over the DER, uppercase hex pairs joined by ':',
// as Node's X509Certificate.fingerprint256 writes it. What a person types or pastes is
// brought to that form by normalizeFingerprint, the only normaliser.

import { createHash } from 'node:crypto';
import { KeepsakeError } from '../core/errors';

/** SHA-256 over the DER of the first certificate in `certPem`, as `AB:CD:…`. */
export function fingerprintOf(certPem: string): string {
  const body = /-----BEGIN CERTIFICATE-----([A-Za-z0-9+/=\s]+)-----END CERTIFICATE-----/.exec(
    certPem,
  )?.[1];
  if (body === undefined) throw new KeepsakeError('USAGE', 'not a PEM certificate');
  const der = Buffer.from(body.replace(/\s+/g, ''), 'base64');
  return createHash('sha256')
    .update(der)
    .digest('hex')
    .toUpperCase()
    .replace(/(..)(?!$)/g, '$1:');
}

/**
 * `fingerprint` in the one form (`AB:CD:…`), whatever its case, colons, spaces or dashes;
 * USAGE when what is left is not 32 bytes of hex.
 */
export function normalizeFingerprint(fingerprint: string): string {
  const hex = fingerprint.replace(/[:\s-]/g, '').toUpperCase();
  if (!/^[0-9A-F]{64}$/.test(hex)) {
    throw new KeepsakeError('USAGE', 'the fingerprint is not a SHA-256 fingerprint');
  }
  return hex.replace(/(..)(?!$)/g, '$1:');
}

/**
 * A form of `fingerprint` short enough to compare by eye: six groups of five digits, as
 * Signal's safety numbers are made (each group is five bytes of the hash, as a number,
 * modulo 100,000). It keeps about 99 bits: making a certificate whose short form matches
 * another's costs some 2^99 tries. The pin itself always checks the full fingerprint.
 */
export function shortFingerprint(fingerprint: string): string {
  const bytes = Buffer.from(normalizeFingerprint(fingerprint).replace(/:/g, ''), 'hex');
  const groups: string[] = [];
  for (let i = 0; i < 30; i += 5) {
    groups.push(String(bytes.readUIntBE(i, 5) % 100_000).padStart(5, '0'));
  }
  return groups.join(' ');
}
