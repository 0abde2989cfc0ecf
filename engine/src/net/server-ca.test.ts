// Real certificates, real node:https servers on 127.0.0.1 port 0, real TLS handshakes.
// CA keys (RSA 3072) take most of a second to make, so two CAs are made once and copied
// into each test's folder; only the first-start test makes its own.

import { execFileSync, spawnSync } from 'node:child_process';
import { X509Certificate, generateKeyPairSync, randomBytes } from 'node:crypto';
import { copyFile, mkdir, mkdtemp, readFile, readdir, rm, stat, writeFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:https';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connect } from 'node:tls';
import forge from 'node-forge';
import { fetch, request, type Agent } from 'undici';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { KeepsakeError, isKeepsakeError } from '../core/errors';
import { freshDir } from '../testing/tmp';
import { aeadSealer } from './sealer';
import { fingerprintOf } from './fingerprint';
import { pinnedAgent } from './pinning';
import { ensureServerTls, type TlsFiles, type TlsOptions } from './server-ca';
import { keepLeafFresh } from './server-tls';

// As serve.ts does it: a sealer from the credential store's data key (here a random one).
const SEALER = aeadSealer(randomBytes(32), 'tls');
const NAMES: TlsOptions = {
  hostnames: ['localhost'],
  addresses: ['127.0.0.1', '::1'],
  sealer: SEALER,
};
const DAY = 86_400_000;
const posix = process.platform !== 'win32';

let templates: { dir: string; files: TlsFiles }[] = [];
beforeAll(async () => {
  templates = await Promise.all(
    [0, 1].map(async () => {
      const dir = await mkdtemp(join(tmpdir(), 'keepsake-tls-ca-'));
      return { dir, files: await ensureServerTls(dir, NAMES) };
    }),
  );
});
afterAll(async () => {
  await Promise.all(templates.map(({ dir }) => rm(dir, { recursive: true, force: true })));
});

/** A fresh folder holding a copy of template CA `which` (no leaf yet). */
async function withCa(which: 0 | 1): Promise<string> {
  const template = templates[which];
  if (!template) throw new Error('templates not ready');
  const dir = join(await freshDir(), 'tls');
  await mkdir(dir, { mode: 0o700 });
  for (const name of ['ca.crt', 'ca.key.sealed'])
    await copyFile(join(template.dir, name), join(dir, name));
  return dir;
}

function ca(which: 0 | 1): TlsFiles {
  const files = templates[which]?.files;
  if (!files) throw new Error('templates not ready');
  return files;
}

const servers: Server[] = [];
const agents: Agent[] = [];
afterEach(async () => {
  for (const server of servers.splice(0)) {
    server.closeAllConnections();
    server.close();
  }
  await Promise.all(agents.splice(0).map((agent) => agent.close()));
});

async function serve(tls: {
  cert: string;
  key: string;
}): Promise<{ server: Server; port: number }> {
  const server = createServer(tls, (_req, res) => res.end('ok'));
  servers.push(server);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { server, port: (server.address() as AddressInfo).port };
}

function agent(caCertPem: string, fingerprint: string): Agent {
  const made = pinnedAgent(caCertPem, fingerprint);
  agents.push(made);
  return made;
}

async function get(url: string, dispatcher: Agent): Promise<string> {
  const res = await request(url, { dispatcher });
  return res.body.text();
}

/** The rejection of `promise`, which must reject. */
async function failure(promise: Promise<unknown>): Promise<Error & { code?: string }> {
  const err = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(Error);
  return err as Error & { code?: string };
}

/** The serial of the leaf a new, verified connection to 127.0.0.1:port is shown. */
function peerSerial(port: number, caCertPem: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = connect({ host: '127.0.0.1', port, ca: caCertPem }, () => {
      resolve(socket.getPeerCertificate().serialNumber);
      socket.end();
    });
    socket.on('error', reject);
  });
}

const serialOf = (pem: string) => new X509Certificate(pem).serialNumber;

/** Names of the files in `dir` holding a PEM private key in the clear. */
async function plaintextKeys(dir: string): Promise<string[]> {
  const found: string[] = [];
  for (const name of await readdir(dir)) {
    if ((await readFile(join(dir, name), 'utf8')).includes('PRIVATE KEY')) found.push(name);
  }
  return found;
}

/** The plain PEM of a sealed key in `dir` (what an older data folder held as ca.key). */
async function unsealed(dir: string, role: 'ca' | 'leaf'): Promise<string> {
  const name = role === 'ca' ? 'ca.key.sealed' : 'server.key.sealed';
  const file = JSON.parse(await readFile(join(dir, name), 'utf8')) as { data: string };
  const pem = SEALER.open(Buffer.from(file.data, 'base64'), `keepsake tls private key v1|${role}`);
  if (!pem) throw new Error(`${name} does not open`);
  return pem.toString('utf8');
}

describe('ensureServerTls', () => {
  it('creates the CA and leaf on first start with private modes, and reuses them', async () => {
    const dir = join(await freshDir(), 'tls');
    const first = await ensureServerTls(dir, NAMES);

    expect((await readdir(dir)).sort()).toEqual([
      'ca.crt',
      'ca.key.sealed',
      'server.crt',
      'server.key.sealed',
    ]);
    if (posix) {
      expect((await stat(dir)).mode & 0o777).toBe(0o700);
      expect((await stat(join(dir, 'ca.key.sealed'))).mode & 0o777).toBe(0o600);
      expect((await stat(join(dir, 'server.key.sealed'))).mode & 0o777).toBe(0o600);
    }
    expect(await plaintextKeys(dir)).toEqual([]);

    const caCert = new X509Certificate(first.caCertPem);
    const leaf = new X509Certificate(first.certPem);
    expect(caCert.ca).toBe(true);
    expect(leaf.ca).toBe(false);
    expect(leaf.verify(caCert.publicKey)).toBe(true);
    expect(leaf.checkIssued(caCert)).toBe(true);
    expect(leaf.keyUsage).toEqual(['1.3.6.1.5.5.7.3.1']); // serverAuth
    expect(leaf.checkHost('localhost', { subject: 'never' })).toBe('localhost');
    expect(leaf.checkIP('127.0.0.1')).toBe('127.0.0.1');
    expect(leaf.checkIP('::1')).toBe('::1');
    const caYears = (Date.parse(caCert.validTo) - Date.now()) / (365.25 * DAY);
    expect(caYears).toBeGreaterThan(9.9);
    const leafDays = (first.leafNotAfter.getTime() - Date.now()) / DAY;
    expect(leafDays).toBeGreaterThan(89.9);
    expect(leafDays).toBeLessThanOrEqual(90);
    expect(first.keyPem).toContain('PRIVATE KEY');

    const second = await ensureServerTls(dir, NAMES);
    expect(second).toEqual(first);
  });

  it('renews the leaf from the same CA once fewer than renewBeforeDays remain', async () => {
    const dir = await withCa(0);
    const first = await ensureServerTls(dir, NAMES);
    const at = (daysBeforeExpiry: number) => () =>
      new Date(first.leafNotAfter.getTime() - daysBeforeExpiry * DAY);

    expect(await ensureServerTls(dir, { ...NAMES, now: at(31) })).toEqual(first);

    const renewed = await ensureServerTls(dir, { ...NAMES, now: at(29) });
    expect(renewed.caFingerprint).toBe(first.caFingerprint);
    expect(renewed.caCertPem).toBe(first.caCertPem);
    expect(serialOf(renewed.certPem)).not.toBe(serialOf(first.certPem));
    expect(renewed.keyPem).not.toBe(first.keyPem);
    expect(renewed.leafNotAfter.getTime()).toBe(first.leafNotAfter.getTime() + 61 * DAY);
    expect(await readFile(join(dir, 'server.crt'), 'utf8')).toBe(renewed.certPem);
  });

  it('re-issues the leaf when a host name is added, and keeps it when one is dropped', async () => {
    const dir = await withCa(0);
    const first = await ensureServerTls(dir, NAMES);
    const wider = { ...NAMES, hostnames: ['localhost', 'keepsake.example.org'] };

    const second = await ensureServerTls(dir, wider);
    expect(serialOf(second.certPem)).not.toBe(serialOf(first.certPem));
    expect(new X509Certificate(second.certPem).checkHost('keepsake.example.org')).toBeDefined();
    expect(second.caFingerprint).toBe(first.caFingerprint);

    expect(await ensureServerTls(dir, NAMES)).toEqual(second);
  });

  it('refuses a corrupt ca.key.sealed, naming it, and leaves it untouched', async () => {
    const dir = await withCa(0);
    const keyPath = join(dir, 'ca.key.sealed');
    const sealed = JSON.parse(await readFile(keyPath, 'utf8')) as { data: string };
    const flipped = Buffer.from(sealed.data, 'base64');
    flipped[20]! ^= 1;
    const garbage = JSON.stringify({ ...sealed, data: flipped.toString('base64') });
    await writeFile(keyPath, garbage);
    const caBefore = await readFile(join(dir, 'ca.crt'), 'utf8');

    const err = await failure(ensureServerTls(dir, NAMES));
    expect(isKeepsakeError(err, 'SOURCE_UNREADABLE')).toBe(true);
    expect((err as KeepsakeError).file).toBe(keyPath);
    expect(err.message).toContain(keyPath);
    expect(await readFile(keyPath, 'utf8')).toBe(garbage);
    expect(await readFile(join(dir, 'ca.crt'), 'utf8')).toBe(caBefore);
  });

  it('refuses a ca.key.sealed that belongs to another CA', async () => {
    const dir = await withCa(0);
    const keyPath = join(dir, 'ca.key.sealed');
    await copyFile(join(templates[1]?.dir ?? '', 'ca.key.sealed'), keyPath);
    const err = await failure(ensureServerTls(dir, NAMES));
    expect((err as KeepsakeError).file).toBe(keyPath);
  });

  it('refuses keys sealed under another KEK, saying so, and leaves them as they are', async () => {
    const dir = await withCa(0);
    const before = await readFile(join(dir, 'ca.key.sealed'), 'utf8');
    const other = aeadSealer(randomBytes(32), 'tls');
    const err = await failure(ensureServerTls(dir, { ...NAMES, sealer: other }));
    expect(isKeepsakeError(err, 'KEK_MISMATCH')).toBe(true);
    expect((err as KeepsakeError).file).toBe(join(dir, 'ca.key.sealed'));
    expect(err.message).toContain('was sealed under another key');
    expect(await readFile(join(dir, 'ca.key.sealed'), 'utf8')).toBe(before);
    expect(await readdir(dir)).not.toContain('server.crt');
  });

  it('seals the plaintext keys of an older data folder, keeping the CA and the leaf', async () => {
    const dir = await withCa(0);
    const first = await ensureServerTls(dir, NAMES);
    // What a data folder from before sealing holds: the same files, keys in plain PEM.
    await writeFile(join(dir, 'ca.key'), await unsealed(dir, 'ca'), { mode: 0o600 });
    await writeFile(join(dir, 'server.key'), first.keyPem, { mode: 0o600 });
    await rm(join(dir, 'ca.key.sealed'));
    await rm(join(dir, 'server.key.sealed'));
    expect((await plaintextKeys(dir)).sort()).toEqual(['ca.key', 'server.key']);

    const migrated = await ensureServerTls(dir, NAMES);
    expect(migrated.caFingerprint).toBe(ca(0).caFingerprint);
    expect(migrated).toEqual(first);
    expect((await readdir(dir)).sort()).toEqual([
      'ca.crt',
      'ca.key.sealed',
      'server.crt',
      'server.key.sealed',
    ]);
    expect(await plaintextKeys(dir)).toEqual([]);
    expect(await ensureServerTls(dir, NAMES)).toEqual(first);
  });

  it('finishes a migration that stopped between sealing and removing the plaintext', async () => {
    const dir = await withCa(0);
    await writeFile(join(dir, 'ca.key'), await unsealed(dir, 'ca'), { mode: 0o600 });
    const files = await ensureServerTls(dir, NAMES);
    expect(files.caFingerprint).toBe(ca(0).caFingerprint);
    expect(await plaintextKeys(dir)).toEqual([]);
    expect(await readdir(dir)).not.toContain('ca.key');
  });

  it('re-issues a corrupt leaf from the existing CA', async () => {
    const dir = await withCa(0);
    await writeFile(join(dir, 'server.crt'), 'garbage');
    const files = await ensureServerTls(dir, NAMES);
    expect(files.caFingerprint).toBe(ca(0).caFingerprint);
    expect(
      new X509Certificate(files.certPem).checkIssued(new X509Certificate(files.caCertPem)),
    ).toBe(true);
  });

  it('rejects options that would renew forever or name nothing', async () => {
    const dir = await freshDir();
    const usage = async (options: TlsOptions) =>
      expect(isKeepsakeError(await failure(ensureServerTls(dir, options)), 'USAGE')).toBe(true);
    await usage({ ...NAMES, leafDays: 30, renewBeforeDays: 30 });
    await usage({ ...NAMES, hostnames: [], addresses: [] });
    await usage({ ...NAMES, hostnames: ['localhost'], addresses: ['localhost'] });
    await usage({ ...NAMES, hostnames: ['bad name'], addresses: [] });
  });
});

describe('pinnedAgent', () => {
  it('connects by IP and by host name to a server whose leaf chains to the pinned CA', async () => {
    const dir = await withCa(0);
    const files = await ensureServerTls(dir, NAMES);
    const { port } = await serve({ cert: files.certPem, key: files.keyPem });
    const client = agent(files.caCertPem, files.caFingerprint);

    expect(await get(`https://127.0.0.1:${port}/`, client)).toBe('ok');
    const res = await fetch(`https://localhost:${port}/`, { dispatcher: client });
    expect(await res.text()).toBe('ok');
  });

  it('refuses a server when pinned to another CA', async () => {
    const { port } = await serve({ cert: ca(0).certPem, key: ca(0).keyPem });
    const client = agent(ca(1).caCertPem, ca(1).caFingerprint);
    const err = await failure(get(`https://127.0.0.1:${port}/`, client));
    expect(err.code).toBe('UNABLE_TO_VERIFY_LEAF_SIGNATURE');
  });

  it("refuses a leaf from another CA, even one carrying the pinned CA's name and cert", async () => {
    const client = agent(ca(0).caCertPem, ca(0).caFingerprint);

    const other = await serve({ cert: ca(1).certPem, key: ca(1).keyPem });
    expect((await failure(get(`https://127.0.0.1:${other.port}/`, client))).code).toBe(
      'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
    );

    // An impostor: issuer name and key id copied from the pinned CA, signed by its own key,
    // and the pinned CA's (public) certificate sent along in the chain.
    const impostor = impostorLeaf(ca(0).caCertPem, ca(0).certPem);
    const forged = await serve({ cert: impostor.certPem + ca(0).caCertPem, key: impostor.keyPem });
    expect((await failure(get(`https://127.0.0.1:${forged.port}/`, client))).code).toBe(
      'CERT_SIGNATURE_FAILURE',
    );
  });

  it('refuses a server whose CA does not match the pinned fingerprint', async () => {
    const { port } = await serve({ cert: ca(0).certPem, key: ca(0).keyPem });
    const client = agent(ca(0).caCertPem, ca(1).caFingerprint);
    const err = await failure(get(`https://127.0.0.1:${port}/`, client));
    expect(err).toBeInstanceOf(KeepsakeError);
    expect(err.code).toBe('SERVER_NOT_TRUSTED');
    expect(err.message).toContain('is not the one this client paired with');
    expect(err.message).toContain(ca(0).caFingerprint);
  });

  it('keeps host name verification on', async () => {
    const dir = await withCa(0);
    const files = await ensureServerTls(dir, { ...NAMES, addresses: [] });
    const { port } = await serve({ cert: files.certPem, key: files.keyPem });
    const client = agent(files.caCertPem, files.caFingerprint);
    expect(await get(`https://localhost:${port}/`, client)).toBe('ok');
    const err = await failure(get(`https://127.0.0.1:${port}/`, client));
    expect(err.code).toBe('ERR_TLS_CERT_ALTNAME_INVALID');
  });

  it('accepts a fingerprint in any case, with or without colons, and refuses a malformed one', () => {
    const { caCertPem, caFingerprint } = ca(0);
    agent(caCertPem, caFingerprint.replace(/:/g, '').toLowerCase());
    expect(() => pinnedAgent(caCertPem, 'AB:CD')).toThrow(KeepsakeError);
    expect(() => pinnedAgent('not a cert', caFingerprint)).toThrow(KeepsakeError);
  });
});

describe('keepLeafFresh', () => {
  it('swaps a renewed leaf into a running server without a restart', async () => {
    const dir = await withCa(0);
    // Issued 70 days ago: 20 of its 90 days remain, inside the 30-day renewal window.
    const old = await ensureServerTls(dir, {
      ...NAMES,
      now: () => new Date(Date.now() - 70 * DAY),
    });
    const { server, port } = await serve({ cert: old.certPem, key: old.keyPem });
    expect(await peerSerial(port, old.caCertPem)).toBe(serialOf(old.certPem));

    let stop = () => {};
    const renewed = await new Promise<TlsFiles>((resolve, reject) => {
      stop = keepLeafFresh(server, dir, {
        ...NAMES,
        intervalMs: 20,
        onRenew: resolve,
        onError: reject,
      });
    });
    stop();

    expect(renewed.caFingerprint).toBe(old.caFingerprint);
    expect(serialOf(renewed.certPem)).not.toBe(serialOf(old.certPem));
    expect(await peerSerial(port, old.caCertPem)).toBe(serialOf(renewed.certPem));
    const client = agent(old.caCertPem, old.caFingerprint);
    expect(await get(`https://localhost:${port}/`, client)).toBe('ok');
  });

  it('leaves a current leaf alone', async () => {
    const dir = await withCa(0);
    const files = await ensureServerTls(dir, NAMES);
    let swaps = 0;
    const errors: unknown[] = [];
    const stop = keepLeafFresh({ setSecureContext: () => (swaps += 1) }, dir, {
      ...NAMES,
      intervalMs: 10,
      onError: (err) => errors.push(err),
    });
    await new Promise((resolve) => setTimeout(resolve, 100));
    stop();
    expect(errors).toEqual([]);
    expect(swaps).toBe(0);
    expect(await readFile(join(dir, 'server.crt'), 'utf8')).toBe(files.certPem);
  });
});

// `openssl` is optional on developer machines; node's own fingerprint is always checked.
const hasOpenssl = spawnSync('openssl', ['version']).status === 0;

describe('fingerprintOf', () => {
  it('matches node X509Certificate.fingerprint256', () => {
    for (const files of [ca(0), ca(1)]) {
      expect(fingerprintOf(files.caCertPem)).toBe(
        new X509Certificate(files.caCertPem).fingerprint256,
      );
      expect(fingerprintOf(files.certPem)).toBe(new X509Certificate(files.certPem).fingerprint256);
    }
    expect(ca(0).caFingerprint).toMatch(/^([0-9A-F]{2}:){31}[0-9A-F]{2}$/);
  });

  // Skipped when openssl is not on PATH: the comparison needs the openssl binary.
  it.skipIf(!hasOpenssl)('matches `openssl x509 -fingerprint -sha256`', () => {
    const path = join(templates[0]?.dir ?? '', 'ca.crt');
    const out = execFileSync(
      'openssl',
      ['x509', '-noout', '-fingerprint', '-sha256', '-in', path],
      {
        encoding: 'utf8',
      },
    );
    expect(out.trim().split('=')[1]).toBe(fingerprintOf(ca(0).caCertPem));
  });
});

/** A leaf that names the pinned CA as issuer but is signed by a key of its own. */
function impostorLeaf(
  caCertPem: string,
  genuineLeafPem: string,
): { certPem: string; keyPem: string } {
  const keys = generateKeyPairSync('rsa', {
    modulusLength: 2048,
    publicKeyEncoding: { type: 'spki', format: 'pem' },
    privateKeyEncoding: { type: 'pkcs8', format: 'pem' },
  });
  const genuine = forge.pki.certificateFromPem(genuineLeafPem);
  const pinned = forge.pki.certificateFromPem(caCertPem);
  const cert = forge.pki.createCertificate();
  cert.publicKey = forge.pki.publicKeyFromPem(keys.publicKey);
  cert.serialNumber = '0badc0de';
  cert.validity.notBefore = genuine.validity.notBefore;
  cert.validity.notAfter = genuine.validity.notAfter;
  cert.setSubject(genuine.subject.attributes);
  cert.setIssuer(pinned.subject.attributes);
  cert.setExtensions(genuine.extensions);
  cert.sign(forge.pki.privateKeyFromPem(keys.privateKey), forge.md.sha256.create());
  return { certPem: forge.pki.certificateToPem(cert), keyPem: keys.privateKey };
}
