// TLS for `keepsake serve`: the server is its own certificate authority. Desktop clients
// pin the CA at pairing, so the CA is created once and never replaced automatically
// (a new CA would cut off every paired client); the leaf is short-lived, re-issued from
// the CA before it expires and swapped into the running server without a restart.
//
// The private keys are never on disk in the clear: they are sealed (sealer.ts) under a key
// derived from the credential store's data key, which only the KEK opens. Data folders
// from before that keep them as plain `ca.key` / `server.key`; the first start seals them
// and removes the plaintext, keeping the very same CA (paired clients pin its fingerprint).
//
// node:crypto makes the keys (native; node-forge's pure-JS RSA keygen takes seconds) and
// checks certificates; node-forge only builds and signs the X.509 structures, which
// node:crypto cannot do.

import { createPrivateKey, generateKeyPair, randomBytes } from 'node:crypto';
import { X509Certificate, type KeyObject } from 'node:crypto';
import { chmod, mkdir } from 'node:fs/promises';
import { isIP } from 'node:net';
import { join } from 'node:path';
import { promisify } from 'node:util';
import forge from 'node-forge';
import { KeepsakeError, fromFsError } from '../core/errors';
import { hexId } from '../core/ids';
import { writeFileAtomic } from '../fs/atomic';
import { fingerprintOf } from './fingerprint';
import type { Sealer } from './sealer';
import {
  LEGACY_KEY_NAMES,
  TLS_FILE_NAMES,
  readKey,
  readOptional,
  scrub,
  sealKey,
  sealLegacyKey,
} from './tls-keys';

export interface TlsFiles {
  caCertPem: string;
  certPem: string;
  keyPem: string;
  /** SHA-256 of the CA cert DER, uppercase hex pairs joined by ':' */
  caFingerprint: string;
  leafNotAfter: Date;
}

export interface TlsOptions {
  hostnames: string[];
  addresses: string[];
  /** Seals the private keys on disk (CredentialStore.sealer('tls'): under the KEK). */
  sealer: Sealer;
  /** leaf lifetime */
  leafDays?: number /* default 90 */;
  /** renew when fewer days remain */
  renewBeforeDays?: number /* default 30 */;
  now?: () => Date;
}

const DAY_MS = 86_400_000;
/** Leaves start a little in the past so that clients with a slow clock accept them. */
const CLOCK_SKEW_MS = 5 * 60_000;
const CA_YEARS = 10;
const CA_KEY_BITS = 3072;
const LEAF_KEY_BITS = 2048;

const generateKeyPairAsync = promisify(generateKeyPair);

interface Ca {
  certPem: string;
  cert: forge.pki.Certificate;
  key: forge.pki.rsa.PrivateKey;
  publicKey: KeyObject;
  /** Raw bytes (forge byte string) of the CA's subjectKeyIdentifier. */
  keyId: string;
  notAfter: Date;
}

interface Leaf {
  certPem: string;
  keyPem: string;
  notAfter: Date;
}

interface Names {
  dns: string[];
  ips: string[];
}

/**
 * Creates (first start) or loads the CA and leaf in `dir` (e.g. <data dir>/tls); issues
 * a new leaf when it is missing, expiring within renewBeforeDays, or its SANs no longer
 * cover the options' hostnames/addresses. CA lives 10 years.
 */
export async function ensureServerTls(dir: string, options: TlsOptions): Promise<TlsFiles> {
  const now = (options.now ?? (() => new Date()))();
  const leafDays = options.leafDays ?? 90;
  const renewBeforeDays = options.renewBeforeDays ?? 30;
  // Otherwise every check would find the fresh leaf already due and re-issue it.
  if (!(leafDays > 0 && renewBeforeDays >= 0 && renewBeforeDays < leafDays)) {
    throw new KeepsakeError(
      'USAGE',
      `renewBeforeDays (${renewBeforeDays}) must be at least 0 and less than leafDays (${leafDays})`,
    );
  }
  const names = subjectNames(options);
  await privateDir(dir);
  const { sealer } = options;
  const ca = (await loadCa(dir, now, sealer)) ?? (await createCa(dir, now, sealer));
  const leaf =
    (await loadLeaf(dir, ca, names, now, renewBeforeDays, sealer)) ??
    (await issueLeaf(dir, ca, names, now, leafDays, sealer));
  return {
    caCertPem: ca.certPem,
    certPem: leaf.certPem,
    keyPem: leaf.keyPem,
    caFingerprint: fingerprintOf(ca.certPem),
    leafNotAfter: leaf.notAfter,
  };
}

// --- names -------------------------------------------------------------------------

const DNS_NAME =
  /^(\*\.)?[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?(\.[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)*$/;

/** IPs given as host names (and the reverse mistake) land in the right SAN type. */
function subjectNames(options: TlsOptions): Names {
  const dns = new Set<string>();
  const ips = new Set<string>();
  for (const raw of options.hostnames) {
    const name = raw.trim().toLowerCase();
    if (isIP(name)) ips.add(name);
    else if (DNS_NAME.test(name)) dns.add(name);
    else throw new KeepsakeError('USAGE', `"${raw}" is not a valid host name`);
  }
  for (const raw of options.addresses) {
    const ip = raw.trim().toLowerCase();
    if (!isIP(ip)) throw new KeepsakeError('USAGE', `"${raw}" is not an IP address`);
    ips.add(ip);
  }
  if (dns.size === 0 && ips.size === 0) {
    throw new KeepsakeError(
      'USAGE',
      'the server certificate needs at least one host name or address',
    );
  }
  return { dns: [...dns], ips: [...ips] };
}

function covers(cert: X509Certificate, names: Names): boolean {
  // subject 'never': only SANs count, as in every current TLS client.
  return (
    names.dns.every((name) => cert.checkHost(name, { subject: 'never' }) !== undefined) &&
    names.ips.every((ip) => cert.checkIP(ip) !== undefined)
  );
}

// --- files ---------------------------------------------------------------------------

async function privateDir(dir: string): Promise<void> {
  try {
    await mkdir(dir, { recursive: true, mode: 0o700 });
    // Also tighten a folder that already existed: it holds the CA key.
    if (process.platform !== 'win32') await chmod(dir, 0o700);
  } catch (err) {
    throw fromFsError(err, dir, 'write');
  }
}

// --- CA ------------------------------------------------------------------------------

async function loadCa(dir: string, now: Date, sealer: Sealer): Promise<Ca | undefined> {
  const certPath = join(dir, TLS_FILE_NAMES.caCert);
  const [certPem, stored] = await Promise.all([readOptional(certPath), readKey(dir, 'ca', sealer)]);
  const keyPath = stored?.path ?? join(dir, TLS_FILE_NAMES.caKey);
  const keyPem = stored?.pem;
  if (certPem === undefined && keyPem === undefined) return undefined;
  const repair =
    `Restore it from a backup, or delete the folder ${dir} to create a new certificate ` +
    'authority (every paired client must then pair again).';
  if (certPem === undefined || keyPem === undefined) {
    const missing = certPem === undefined ? certPath : keyPath;
    throw new KeepsakeError('NOT_FOUND', `is missing while its partner exists. ${repair}`, {
      file: missing,
    });
  }

  let cert: forge.pki.Certificate;
  let x509: X509Certificate;
  try {
    x509 = new X509Certificate(certPem);
    cert = forge.pki.certificateFromPem(certPem);
  } catch (err) {
    throw new KeepsakeError('SOURCE_UNREADABLE', `is not a valid PEM certificate. ${repair}`, {
      file: certPath,
      cause: err,
    });
  }
  if (!x509.ca || !x509.verify(x509.publicKey)) {
    throw new KeepsakeError('SOURCE_UNREADABLE', `is not a self-signed CA certificate. ${repair}`, {
      file: certPath,
    });
  }

  let key: forge.pki.rsa.PrivateKey;
  try {
    const keyObject = createPrivateKey(keyPem);
    if (!x509.checkPrivateKey(keyObject)) throw new Error('the key does not match ca.crt');
    key = forge.pki.privateKeyFromPem(keyPem);
  } catch (err) {
    const detail = err instanceof Error ? err.message : String(err);
    throw new KeepsakeError(
      'SOURCE_UNREADABLE',
      `is not the CA's private key (${detail}). ${repair}`,
      {
        file: keyPath,
        cause: err,
      },
    );
  }

  // Sealed only once it proved to be the CA's key; the plaintext goes after the seal.
  if (stored?.legacy) await sealLegacyKey(dir, 'ca', keyPem, sealer);

  const notAfter = cert.validity.notAfter;
  if (notAfter.getTime() <= now.getTime()) {
    throw new KeepsakeError(
      'INTERNAL',
      `the certificate authority expired on ${notAfter.toISOString()}; delete the folder ${dir} ` +
        'to create a new one, then pair every client again',
      { file: certPath },
    );
  }
  const ski = cert.getExtension('subjectKeyIdentifier') as
    { subjectKeyIdentifier?: string } | undefined;
  const keyId = ski?.subjectKeyIdentifier
    ? forge.util.hexToBytes(ski.subjectKeyIdentifier)
    : cert.generateSubjectKeyIdentifier().getBytes();
  return { certPem, cert, key, publicKey: x509.publicKey, keyId, notAfter };
}

async function createCa(dir: string, now: Date, sealer: Sealer): Promise<Ca> {
  const keys = await rsaKeys(CA_KEY_BITS);
  const cert = forge.pki.createCertificate();
  cert.publicKey = forge.pki.publicKeyFromPem(keys.publicKey);
  cert.serialNumber = randomSerial();
  cert.validity.notBefore = new Date(now.getTime() - CLOCK_SKEW_MS);
  const notAfter = new Date(now);
  notAfter.setUTCFullYear(notAfter.getUTCFullYear() + CA_YEARS);
  cert.validity.notAfter = notAfter;
  // A distinct name per install, so that two servers' CAs are never confused by name.
  const name = [
    { name: 'commonName', value: `Keepsake server CA ${hexId(4)}` },
    { name: 'organizationName', value: 'Keepsake' },
  ];
  cert.setSubject(name);
  cert.setIssuer(name);
  cert.setExtensions([
    { name: 'basicConstraints', critical: true, cA: true },
    { name: 'keyUsage', critical: true, keyCertSign: true, cRLSign: true },
    { name: 'subjectKeyIdentifier' },
  ]);
  const key = forge.pki.privateKeyFromPem(keys.privateKey);
  cert.sign(key, forge.md.sha256.create());
  const certPem = toPem(cert);

  // Exclusive: if another process created a CA meanwhile, keep it rather than clobber it.
  // The key goes first, so a crash never leaves a CA certificate without its key.
  await writeFileAtomic(join(dir, TLS_FILE_NAMES.caKey), sealKey(sealer, 'ca', keys.privateKey), {
    exclusive: true,
  });
  await writeFileAtomic(join(dir, TLS_FILE_NAMES.caCert), certPem, { exclusive: true });
  return {
    certPem,
    cert,
    key,
    publicKey: new X509Certificate(certPem).publicKey,
    keyId: cert.generateSubjectKeyIdentifier().getBytes(),
    notAfter,
  };
}

// --- leaf ----------------------------------------------------------------------------

/** The leaf in `dir` if it is usable as is; undefined when a new one must be issued. */
async function loadLeaf(
  dir: string,
  ca: Ca,
  names: Names,
  now: Date,
  renewBeforeDays: number,
  sealer: Sealer,
): Promise<Leaf | undefined> {
  const [certPem, stored] = await Promise.all([
    readOptional(join(dir, TLS_FILE_NAMES.cert)),
    // A leaf key that does not open is simply replaced: the CA issues another one.
    readKey(dir, 'leaf', sealer).catch(() => undefined),
  ]);
  const keyPem = stored?.pem;
  if (certPem === undefined || keyPem === undefined) {
    if (stored?.legacy) await scrub(stored.path);
    return undefined;
  }
  let x509: X509Certificate;
  let notBefore: Date;
  let notAfter: Date;
  try {
    x509 = new X509Certificate(certPem);
    ({ notBefore, notAfter } = forge.pki.certificateFromPem(certPem).validity);
    // A crash between writing server.key and server.crt leaves a mismatched pair.
    if (!x509.checkPrivateKey(createPrivateKey(keyPem))) return undefined;
  } catch {
    return undefined; // corrupt: the CA can issue another one
  }
  if (stored?.legacy) await sealLegacyKey(dir, 'leaf', keyPem, sealer);
  const usable =
    x509.verify(ca.publicKey) &&
    notBefore.getTime() <= now.getTime() &&
    notAfter.getTime() - now.getTime() > renewBeforeDays * DAY_MS &&
    covers(x509, names);
  return usable ? { certPem, keyPem, notAfter } : undefined;
}

async function issueLeaf(
  dir: string,
  ca: Ca,
  names: Names,
  now: Date,
  leafDays: number,
  sealer: Sealer,
): Promise<Leaf> {
  const keys = await rsaKeys(LEAF_KEY_BITS);
  const cert = forge.pki.createCertificate();
  cert.publicKey = forge.pki.publicKeyFromPem(keys.publicKey);
  cert.serialNumber = randomSerial();
  cert.validity.notBefore = new Date(now.getTime() - CLOCK_SKEW_MS);
  // A leaf that outlives its CA would fail verification once the CA expires.
  // Whole seconds, as the certificate stores it, so callers see the same date after a reload.
  const notAfter = new Date(
    Math.floor(Math.min(now.getTime() + leafDays * DAY_MS, ca.notAfter.getTime()) / 1000) * 1000,
  );
  cert.validity.notAfter = notAfter;
  cert.setSubject([{ name: 'commonName', value: names.dns[0] ?? names.ips[0] ?? 'keepsake' }]);
  cert.setIssuer(ca.cert.subject.attributes);
  cert.setExtensions([
    { name: 'basicConstraints', critical: true, cA: false },
    { name: 'keyUsage', critical: true, digitalSignature: true, keyEncipherment: true },
    { name: 'extKeyUsage', serverAuth: true },
    {
      name: 'subjectAltName',
      altNames: [
        ...names.dns.map((value) => ({ type: 2, value })),
        ...names.ips.map((ip) => ({ type: 7, ip })),
      ],
    },
    { name: 'subjectKeyIdentifier' },
    // forge's `keyIdentifier: true` would hash the leaf's own key: pass the CA's.
    { name: 'authorityKeyIdentifier', keyIdentifier: ca.keyId },
  ]);
  cert.sign(ca.key, forge.md.sha256.create());
  const certPem = toPem(cert);

  // forge encodes IPs with its own parser; a form it misreads (e.g. '::ffff:1.2.3.4')
  // would otherwise be re-issued at every check, never matching.
  const x509 = new X509Certificate(certPem);
  for (const ip of names.ips) {
    if (x509.checkIP(ip) === undefined) {
      throw new KeepsakeError('USAGE', `cannot put the address ${ip} in a certificate`);
    }
  }

  await writeFileAtomic(join(dir, TLS_FILE_NAMES.key), sealKey(sealer, 'leaf', keys.privateKey));
  await writeFileAtomic(join(dir, TLS_FILE_NAMES.cert), certPem);
  // A plaintext key of an older leaf (it did not match its certificate) goes too.
  await scrub(join(dir, LEGACY_KEY_NAMES.key));
  return { certPem, keyPem: keys.privateKey, notAfter };
}

// --- helpers -------------------------------------------------------------------------

/** Native and off the event loop: a running server keeps serving while a leaf is made. */
function rsaKeys(modulusLength: number): Promise<{ publicKey: string; privateKey: string }> {
  return generateKeyPairAsync('rsa', {
    modulusLength,
    publicKeyEncoding: { type: 'spki', format: 'pem' },
    privateKeyEncoding: { type: 'pkcs8', format: 'pem' },
  });
}

/** 16 random bytes as a positive DER INTEGER with no redundant leading zero byte. */
function randomSerial(): string {
  const bytes = randomBytes(16);
  bytes.writeUInt8(bytes.readUInt8(0) & 0x7f || 0x01, 0);
  return bytes.toString('hex');
}

function toPem(cert: forge.pki.Certificate): string {
  return forge.pki.certificateToPem(cert).replace(/\r\n/g, '\n');
}
