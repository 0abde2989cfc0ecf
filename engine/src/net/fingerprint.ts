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
