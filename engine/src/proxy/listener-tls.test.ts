// The routed proxy serving TLS itself: a new connection sees a new certificate once the
// files are replaced (atomic rename, as certbot and friends do), and a bad replacement
// leaves the old one in force with a logged error.

import { X509Certificate } from 'node:crypto';
import { rename, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { connect } from 'node:tls';
import { Agent, request } from 'undici';
import { afterEach, describe, expect, it } from 'vitest';
import { selfSignedCert, type TestCert } from '../testing/self-signed';
import { freshDir } from '../testing/tmp';
import { startOrigin } from './fixture-origin';
import { loadTlsPair } from './listener-tls';
import { startProxyServer } from './proxy-server';

const cleanup: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const c of cleanup.splice(0).reverse()) await c();
});

/** The SHA-256 fingerprint of the certificate a new TLS connection is given. */
function servedFingerprint(url: string): Promise<string> {
  const { hostname, port } = new URL(url);
  return new Promise((resolve, reject) => {
    const socket = connect({ host: hostname, port: Number(port), rejectUnauthorized: false });
    socket.once('secureConnect', () => {
      resolve(socket.getPeerCertificate().fingerprint256);
      socket.end();
    });
    socket.once('error', reject);
  });
}

const fingerprint = (cert: TestCert) => new X509Certificate(cert.certPem).fingerprint256;

/** Writes beside the target, then renames onto it (the way renewals land). */
async function replace(dir: string, cert: string, key: string) {
  await writeFile(join(dir, 'cert.pem.new'), cert);
  await writeFile(join(dir, 'key.pem.new'), key);
  await rename(join(dir, 'cert.pem.new'), join(dir, 'cert.pem'));
  await rename(join(dir, 'key.pem.new'), join(dir, 'key.pem'));
}

describe('listener TLS', () => {
  it('serves the routes over TLS and reloads a replaced certificate', async () => {
    const first = selfSignedCert('tv.test');
    const second = selfSignedCert('tv.test');
    const dir = await freshDir();
    await replace(dir, first.certPem, first.keyPem);
    const origin = await startOrigin((req, res) => res.end(`bytes of ${req.url}`));
    cleanup.push(() => origin.close());
    await writeFile(
      join(dir, 'routes.yaml'),
      `tls: { cert: cert.pem, key: key.pem }
routes:
  - hosts: ['tv.test']
    upstream: ${origin.origin}
    allow: { privateCidrs: ['127.0.0.1/32'] }
`,
    );
    const logged: string[] = [];
    let reloaded = () => {};
    let errored = () => {};
    const proxy = await startProxyServer({
      routesFile: join(dir, 'routes.yaml'),
      tlsPollMs: 25,
      onTlsReload: () => reloaded(),
      logError: (e) => {
        logged.push(String(e));
        errored();
      },
    });
    cleanup.push(() => proxy.close());
    expect(proxy.url).toMatch(/^https:\/\/127\.0\.0\.1:\d+$/);

    const agent = new Agent({ connect: { ca: [first.certPem] } });
    cleanup.push(() => agent.close());
    const res = await request(`${proxy.url}/a.ts`, {
      headers: { host: 'tv.test' },
      dispatcher: agent,
    });
    expect(await res.body.text()).toBe('bytes of /a.ts');
    expect(await servedFingerprint(proxy.url)).toBe(fingerprint(first));

    const swapped = new Promise<void>((resolve) => (reloaded = resolve));
    await replace(dir, second.certPem, second.keyPem);
    await swapped;
    expect(await servedFingerprint(proxy.url)).toBe(fingerprint(second));

    // A certificate that does not match its key: logged, and the second one stays.
    const refused = new Promise<void>((resolve) => (errored = resolve));
    await replace(dir, first.certPem, second.keyPem);
    await refused;
    expect(logged.join('\n')).toMatch(
      /listener certificate not reloaded; the previous one stays in force: .*cert\.pem and .*key\.pem are not a usable certificate and key/,
    );
    expect(await servedFingerprint(proxy.url)).toBe(fingerprint(second));
  });

  it('refuses to start with a certificate that does not load', async () => {
    const dir = await freshDir();
    await writeFile(join(dir, 'cert.pem'), 'not a certificate');
    await writeFile(join(dir, 'key.pem'), selfSignedCert('127.0.0.1').keyPem);
    await expect(
      loadTlsPair({ cert: join(dir, 'cert.pem'), key: join(dir, 'key.pem') }),
    ).rejects.toThrow(/are not a usable certificate and key/);
    await expect(
      loadTlsPair({ cert: join(dir, 'missing.pem'), key: join(dir, 'key.pem') }),
    ).rejects.toThrow(/cannot read the listener certificate or key/);
  });
});
