// The one fingerprint form: what the CLI prints, what the desktop compares and what the
// client pins are the same string for the same certificate.

import { X509Certificate, generateKeyPairSync } from 'node:crypto';
import forge from 'node-forge';
import { describe, expect, it } from 'vitest';
import { isKeepsakeError } from '../core/errors';
import { fingerprintOf, normalizeFingerprint, shortFingerprint } from './fingerprint';

function selfSigned(): string {
  const keys = generateKeyPairSync('rsa', { modulusLength: 1024 });
  const cert = forge.pki.createCertificate();
  cert.publicKey = forge.pki.publicKeyFromPem(
    keys.publicKey.export({ type: 'spki', format: 'pem' }).toString(),
  );
  cert.serialNumber = '01';
  cert.validity.notBefore = new Date();
  cert.validity.notAfter = new Date(Date.now() + 86_400_000);
  cert.setSubject([{ name: 'commonName', value: 'fingerprint test' }]);
  cert.setIssuer([{ name: 'commonName', value: 'fingerprint test' }]);
  const key = forge.pki.privateKeyFromPem(
    keys.privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(),
  );
  cert.sign(key, forge.md.sha256.create());
  return forge.pki.certificateToPem(cert);
}

describe('fingerprint', () => {
  const pem = selfSigned();
  const printed = fingerprintOf(pem);

  it('prints what Node reports as the certificate fingerprint', () => {
    expect(printed).toBe(new X509Certificate(pem).fingerprint256);
    expect(printed).toMatch(/^([0-9A-F]{2}:){31}[0-9A-F]{2}$/);
  });

  it('brings typed and pasted spellings to the printed form', () => {
    const hex = printed.replace(/:/g, '');
    for (const typed of [
      printed,
      printed.toLowerCase(),
      hex,
      hex.toLowerCase(),
      printed.replace(/:/g, ' '),
      printed.replace(/:/g, '-'),
      `  ${printed}\n`,
    ]) {
      expect(normalizeFingerprint(typed)).toBe(printed);
    }
  });

  it('refuses what is not a SHA-256 fingerprint', () => {
    for (const bad of [
      '',
      'AB:CD',
      `${printed}:00`,
      printed.replace(/^../, 'ZZ'),
      'sha256:' + printed,
    ]) {
      let caught: unknown;
      try {
        normalizeFingerprint(bad);
      } catch (err) {
        caught = err;
      }
      expect(isKeepsakeError(caught) && caught.code).toBe('USAGE');
    }
  });
});

describe('shortFingerprint', () => {
  it('is six groups of five digits from the hash, the same for every spelling of it', () => {
    // Bytes 00 00 00 00 01 | 00 00 01 86 A0 (100,000 → 00000) | FF×5 (2^40 - 1 → 27775) …
    const hex = '0000000001' + '00000186A0' + 'FFFFFFFFFF' + '00000F423F' + '0A'.repeat(12);
    const colons = hex.replace(/(..)(?!$)/g, '$1:');
    expect(shortFingerprint(colons)).toBe(
      `00001 00000 27775 99999 ${String(0x0a0a0a0a0a % 100_000).padStart(5, '0')} ${String(0x0a0a0a0a0a % 100_000).padStart(5, '0')}`,
    );
    expect(shortFingerprint(hex.toLowerCase())).toBe(shortFingerprint(colons));
  });

  it('differs for different certificates', () => {
    const a = fingerprintOf(selfSigned());
    const b = fingerprintOf(selfSigned());
    expect(shortFingerprint(a)).toMatch(/^(\d{5} ){5}\d{5}$/);
    expect(shortFingerprint(a)).not.toBe(shortFingerprint(b));
  });
});
