// ClearKey keys on `keepsake serve`: signed admins only (a client that may use the proxy
// may not read keys), every load audited without the key, and the same refusals as on
// the desktop for unknown kids and malformed requests.
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { request } from 'undici';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { parseServeConfig } from '../http/serve-config';
import { RemoteClient } from '../net/client';
import { pinnedAgent } from '../net/pinning';
import { signedHeaders } from '../net/signing';
import { CLEARKEY_PATH, KEYS_PATH } from '../proxy/key-routes';
import { testScratch } from '../testing/media';
import { freshDir } from '../testing/tmp';
import { startServe, type RunningServer } from './serve';

const running: RunningServer[] = [];
const clients: RemoteClient[] = [];
afterEach(async () => {
  await Promise.all(clients.splice(0).map((c) => c.close()));
  await Promise.all(running.splice(0).map((s) => s.close()));
});

async function server() {
  const s = await startServe({
    config: parseServeConfig({ port: 0 }),
    dataDir: join(await freshDir(), 'server'),
    kek: randomBytes(32),
    scratch: await testScratch(),
    logError: () => undefined,
    worker: { pollMs: 50, heartbeatMs: 100 },
  });
  running.push(s);
  return s;
}

function clientFor(s: RunningServer, name: string, role: 'admin' | 'client' | 'viewer') {
  const issued = s.credentials.add(name, role);
  const client = new RemoteClient({
    url: s.url,
    clientId: issued.clientId,
    key: issued.key,
    caCertPem: s.tls.caCertPem,
    caFingerprint: s.caFingerprint,
  });
  clients.push(client);
  return { ...issued, client };
}

async function raw(
  s: RunningServer,
  method: string,
  path: string,
  headers: Record<string, string> = {},
  body?: string,
) {
  const res = await request(new URL(path, s.url), {
    method: method as 'GET',
    headers,
    body,
    dispatcher: pinnedAgent(s.tls.caCertPem, s.caFingerprint),
  });
  const text = await res.body.text();
  return {
    status: res.statusCode,
    json: text ? (JSON.parse(text) as Record<string, unknown>) : {},
  };
}

const b64u = (hex: string) => Buffer.from(hex, 'hex').toString('base64url');
const KID = '0123456789abcdef0123456789abcdef';
const KEY = '00112233445566778899aabbccddeeff';

describe('ClearKey keys on keepsake serve', () => {
  it('lets a signed admin load, list and fetch keys, and audits each load without the key', async () => {
    const s = await server();
    const { client: admin } = clientFor(s, 'root', 'admin');
    const loaded = await admin.call<{ kid: string; expiresAt: string }>('POST', KEYS_PATH, {
      json: { kid: KID, key: KEY, ttlSeconds: 300 },
    });
    expect(loaded.body.kid).toBe(b64u(KID));
    const listed = await admin.call('GET', KEYS_PATH);
    expect(listed.body).toEqual({ keys: [loaded.body] });
    const license = await admin.call('POST', CLEARKEY_PATH, {
      json: { kids: [b64u(KID)], type: 'temporary' },
    });
    expect(license.body).toEqual({
      keys: [{ kty: 'oct', kid: b64u(KID), k: b64u(KEY) }],
      type: 'temporary',
    });

    const entries = s.audit.query({ action: 'proxy.key.load', limit: 100 });
    expect(entries).toHaveLength(1);
    expect(entries[0]).toMatchObject({ actor: 'root', outcome: 'ok' });
    const text = JSON.stringify(entries);
    for (const secret of [KEY, b64u(KEY), KID, b64u(KID)]) expect(text).not.toContain(secret);
    expect(s.audit.verifyChain()).toMatchObject({ ok: true });
  });

  it('refuses unsigned callers and signed non-admins, even those allowed the proxy', async () => {
    const s = await server();
    const { client: admin } = clientFor(s, 'root', 'admin');
    await admin.call('POST', KEYS_PATH, { json: { kid: KID, key: KEY, ttlSeconds: 300 } });
    const alice = clientFor(s, 'alice', 'client');
    const grandma = clientFor(s, 'grandma', 'viewer');
    const license = JSON.stringify({ kids: [b64u(KID)] });
    for (const who of [alice, grandma]) {
      await expect(who.client.call('GET', KEYS_PATH)).rejects.toMatchObject({ code: 'FORBIDDEN' });
      await expect(
        who.client.call('POST', CLEARKEY_PATH, { json: { kids: [b64u(KID)] } }),
      ).rejects.toMatchObject({ code: 'FORBIDDEN' });
      await expect(
        who.client.call('POST', KEYS_PATH, {
          json: { kid: 'aa'.repeat(16), key: KEY, ttlSeconds: 60 },
        }),
      ).rejects.toMatchObject({ code: 'FORBIDDEN' });
    }
    const json = { 'content-type': 'application/json' };
    expect((await raw(s, 'GET', KEYS_PATH)).status).toBe(401);
    const unsigned = await raw(s, 'POST', CLEARKEY_PATH, json, license);
    expect([unsigned.status, unsigned.json.code]).toEqual([401, 'UNAUTHORIZED']);
    expect(JSON.stringify(unsigned.json)).not.toContain(b64u(KEY));
    // Refusals are audited as denied; nothing was loaded by them.
    expect(s.audit.query({ outcome: 'denied', limit: 100 }).length).toBeGreaterThanOrEqual(7);
    expect((await admin.call('GET', KEYS_PATH)).body).toEqual({
      keys: [{ kid: b64u(KID), expiresAt: expect.any(String) }],
    });
  });

  it('answers an unknown kid with a bare 404 and malformed JSON with 400', async () => {
    const s = await server();
    const root = clientFor(s, 'root', 'admin');
    await root.client.call('POST', KEYS_PATH, { json: { kid: KID, key: KEY, ttlSeconds: 300 } });
    await expect(
      root.client.call('POST', CLEARKEY_PATH, { json: { kids: [b64u('ee'.repeat(16))] } }),
    ).rejects.toMatchObject({
      code: 'NOT_FOUND',
      message: expect.stringMatching(/no key is held for the key ids asked for$/),
    });
    const body = '{"kids": [';
    const bad = await raw(
      s,
      'POST',
      CLEARKEY_PATH,
      {
        'content-type': 'application/json',
        ...signedHeaders(root.clientId, root.key, 'POST', CLEARKEY_PATH, body),
      },
      body,
    );
    expect([bad.status, bad.json.code]).toEqual([400, 'USAGE']);
    await expect(
      root.client.call('POST', CLEARKEY_PATH, { json: { kids: ['short'] } }),
    ).rejects.toMatchObject({ code: 'INVALID_KEY' });
  });

  it('zero-fills its keys when the server closes', async () => {
    // The store's own key buffers, caught as they are made (16 bytes holding the key).
    const made: Buffer[] = [];
    const alloc = Buffer.alloc.bind(Buffer);
    const spy = vi.spyOn(Buffer, 'alloc').mockImplementation((...args) => {
      const b = alloc(...args);
      if (args[0] === 16) made.push(b);
      return b;
    });
    try {
      const s = await server();
      const { client: admin } = clientFor(s, 'root', 'admin');
      await admin.call('POST', KEYS_PATH, { json: { kid: KID, key: KEY, ttlSeconds: 300 } });
      const held = made.filter((b) => b.equals(Buffer.from(KEY, 'hex')));
      expect(held).toHaveLength(1);
      await s.close();
      running.splice(running.indexOf(s), 1);
      expect(held[0]!.equals(Buffer.alloc(16))).toBe(true);
    } finally {
      spy.mockRestore();
    }
  });
});
