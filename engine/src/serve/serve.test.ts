// The hardened server for real: HTTPS on a loopback port, its own CA pinned by the
// client, signed requests, a job from upload to decrypted result, and the refusals.

import { execFileSync } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { request as httpsRequest } from 'node:https';
import { connect as tlsConnect } from 'node:tls';
import { join } from 'node:path';
import { request } from 'undici';
import { afterEach, describe, expect, it } from 'vitest';
import { locateFfmpeg } from '../ffmpeg/locate';
import { openScratch } from '../ffmpeg/scratch';
import { filesContaining } from '../testing/marker';
import { makeClip, testScratch } from '../testing/media';
import { TEST_SCRYPT, freshDir } from '../testing/tmp';
import { decryptFile, encryptFile } from '../vault/file-ops';
import { createVault, jobOutputVault, type Vault } from '../vault/keyring';
import { VaultFile } from '../vault/vault-file';
import { signedHeaders } from '../net/signing';
import { RemoteClient } from '../net/client';
import type { JobKeysBody } from '../net/contract';
import { startServe, type RunningServer } from './serve';
import { parseServeConfig } from '../http/serve-config';
import { pinnedAgent } from '../net/pinning';
import { startOrigin } from '../proxy/fixture-origin';

const running: RunningServer[] = [];
afterEach(async () => {
  await Promise.all(running.splice(0).map((s) => s.close()));
});

async function server(overrides: Record<string, unknown> = {}, dataDir?: string, kek?: Buffer) {
  const dir = dataDir ?? join(await freshDir(), 'server');
  const scratch = await testScratch();
  const key = kek ?? randomBytes(32);
  const s = await startServe({
    config: parseServeConfig({ port: 0, ...overrides }),
    dataDir: dir,
    kek: key,
    scratch,
    logError: () => undefined,
    worker: { pollMs: 50, heartbeatMs: 100 },
  });
  running.push(s);
  return { s, dir, kek: key, scratchRoot: (await openScratch(scratch)).root };
}

function clientFor(
  s: RunningServer,
  name: string,
  role: 'admin' | 'client' | 'viewer',
  cidrs?: string[],
) {
  const issued = s.credentials.add(name, role, cidrs);
  return {
    ...issued,
    client: new RemoteClient({
      url: s.url,
      clientId: issued.clientId,
      key: issued.key,
      caCertPem: s.tls.caCertPem,
      caFingerprint: s.caFingerprint,
    }),
  };
}

/** A raw request (for the refusals), through the pinned CA. */
async function raw(
  s: RunningServer,
  method: string,
  path: string,
  headers: Record<string, string> = {},
  body?: string | Buffer,
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
    headers: res.headers,
    json: text.startsWith('{') ? JSON.parse(text) : text,
  };
}

async function localVault(): Promise<{ dir: string; vault: Vault }> {
  const dir = await freshDir();
  const { vault } = await createVault(join(dir, 'vault'), 'pw', {
    scrypt: TEST_SCRYPT,
    recovery: false,
  });
  return { dir, vault };
}

async function keysFor(vault: Vault, input: string, label: string): Promise<JobKeysBody> {
  const vf = await VaultFile.open(input, { vault });
  const fileKey = vf.fileKey.toString('base64');
  await vf.close();
  const out = jobOutputVault(vault, label);
  return {
    input: fileKey,
    output: { vaultId: out.vaultId, keyId: out.masterKeyId, key: out.masterKey.toString('base64') },
  };
}

describe('keepsake serve', () => {
  it('runs a job from a resumable upload to a result only the client can decrypt', async () => {
    const { s, dir, scratchRoot } = await server();
    const { client } = clientFor(s, 'alice', 'client');
    const local = await localVault();
    const marker = `KSMARK${randomBytes(10).toString('hex')}`;
    const clip = await makeClip(local.dir, 'tape.mp4', { comment: marker });
    const sealed = join(local.dir, 'tape.mp4.ksv');
    await encryptFile(clip, sealed, local.vault);

    // Small chunks: the upload takes several signed PATCHes.
    const upload = await client.uploadFile(sealed, { chunkBytes: 64 * 1024 });
    expect(upload.complete).toBe(true);
    const job = await client.createJob({
      input: { upload: upload.id },
      preset: 'web-h264',
      params: { maxHeight: '360' },
      mode: 'automated',
      priority: 0,
      thorough: false,
      keys: await keysFor(local.vault, sealed, 'job1'),
    });
    expect(job).toMatchObject({ state: 'queued', waitingForKeys: false });
    const done = await client.waitFor(job.id);
    expect(done.state, JSON.stringify(done.lastError)).toBe('succeeded');
    expect(done.outputs.map((o) => o.name)).toEqual(['web.mp4']);

    const downloaded = join(local.dir, 'web.mp4.ksv');
    await client.downloadOutput(job.id, 'web.mp4', downloaded);
    const plain = join(local.dir, 'web.mp4');
    await decryptFile(downloaded, plain, { vault: local.vault });
    const { ffmpegPath } = await locateFfmpeg();
    execFileSync(ffmpegPath, ['-v', 'error', '-i', plain, '-f', 'null', '-']);
    expect((await readFile(plain)).includes(Buffer.from(marker))).toBe(true);

    // The server never held the marker anywhere on disk.
    await s.close();
    running.splice(running.indexOf(s), 1);
    expect([
      ...(await filesContaining(dir, Buffer.from(marker))),
      ...(await filesContaining(scratchRoot, Buffer.from(marker))),
    ]).toEqual([]);
    await client.close();
  });

  it('streams progress as Server-Sent Events and serves results with Range', async () => {
    const { s } = await server();
    const { client, clientId, key } = clientFor(s, 'alice', 'client');
    const local = await localVault();
    const clip = await makeClip(local.dir);
    const sealed = join(local.dir, 'clip.ksv');
    await encryptFile(clip, sealed, local.vault);
    const upload = await client.uploadFile(sealed);
    const job = await client.createJob({
      input: { upload: upload.id },
      preset: 'remux',
      params: {},
      mode: 'manual',
      priority: 0,
      thorough: false,
      keys: await keysFor(local.vault, sealed, 'sse'),
    });
    const path = `/v1/jobs/${job.id}/events`;
    const events = await raw(s, 'GET', path, signedHeaders(clientId, key, 'GET', path));
    expect(events.status).toBe(200);
    expect(String(events.headers['content-type'])).toMatch(/text\/event-stream/);
    const blocks = String(events.json).trim().split('\n\n');
    expect(blocks.at(-1)).toMatch(/^event: end\ndata: \{.*"state":"succeeded"/);
    expect(blocks.length).toBeGreaterThanOrEqual(2);

    const out = `/v1/jobs/${job.id}/outputs/remux.mkv`;
    const whole = await raw(
      s,
      'GET',
      `${out}?nonce=a`,
      signedHeaders(clientId, key, 'GET', `${out}?nonce=a`),
    );
    const size = Number(whole.headers['content-length']);
    expect(size).toBeGreaterThan(100);
    const ranged = await raw(s, 'GET', `${out}?nonce=b`, {
      ...signedHeaders(clientId, key, 'GET', `${out}?nonce=b`),
      range: 'bytes=0-3',
    });
    expect(ranged.status).toBe(206);
    expect(ranged.headers['content-range']).toBe(`bytes 0-3/${size}`);
    expect(ranged.json).toBe('KSVF');
    const beyond = await raw(s, 'GET', `${out}?nonce=c`, {
      ...signedHeaders(clientId, key, 'GET', `${out}?nonce=c`),
      range: `bytes=${size}-`,
    });
    expect(beyond.status).toBe(416);
    await client.close();
  });

  it('answers conditional requests for results (ETag, If-None-Match, If-Range) and HEAD', async () => {
    const { s } = await server();
    const { client, clientId, key } = clientFor(s, 'alice', 'client');
    const local = await localVault();
    const sealed = join(local.dir, 'clip.ksv');
    await encryptFile(await makeClip(local.dir), sealed, local.vault);
    const upload = await client.uploadFile(sealed);
    const job = await client.createJob({
      input: { upload: upload.id },
      preset: 'remux',
      params: {},
      mode: 'manual',
      priority: 0,
      thorough: false,
      keys: await keysFor(local.vault, sealed, 'conditional'),
    });
    const events = `/v1/jobs/${job.id}/events`;
    await raw(s, 'GET', events, signedHeaders(clientId, key, 'GET', events));
    const out = `/v1/jobs/${job.id}/outputs/remux.mkv`;
    const get = (nonce: string, headers: Record<string, string> = {}, method = 'GET') =>
      raw(s, method, `${out}?nonce=${nonce}`, {
        ...signedHeaders(clientId, key, method, `${out}?nonce=${nonce}`),
        ...headers,
      });

    const whole = await get('a');
    expect(whole.status).toBe(200);
    const etag = String(whole.headers.etag);
    const size = String(whole.headers['content-length']);
    expect(etag).toMatch(/^W?\/?"/);
    expect(whole.headers['last-modified']).toBeDefined();
    expect(whole.headers['cache-control']).toBe('no-store');
    expect(whole.headers['content-type']).toBe('application/octet-stream');

    expect((await get('b', { 'if-none-match': etag })).status).toBe(304);
    // If-Range with the current validator: the range; with another one: the whole file.
    const ranged = await get('c', { range: 'bytes=4-7', 'if-range': etag });
    expect(ranged.status).toBe(206);
    expect(ranged.headers['content-range']).toBe(`bytes 4-7/${size}`);
    const stale = await get('d', { range: 'bytes=4-7', 'if-range': '"not-this-one"' });
    expect(stale.status).toBe(200);
    expect(stale.headers['content-length']).toBe(whole.headers['content-length']);

    const head = await get('e', {}, 'HEAD');
    expect(head.status).toBe(200);
    expect(head.headers['content-length']).toBe(whole.headers['content-length']);
    expect(head.json).toBe('');

    const beyond = await get('f', { range: 'bytes=999999999-' });
    expect(beyond).toMatchObject({ status: 416, json: { code: 'RANGE_NOT_SATISFIABLE' } });
    expect(beyond.headers['content-range']).toBe(`bytes */${size}`);
    await client.close();
  });

  it('refuses unsigned, forged, stale and replayed requests, and audits them', async () => {
    const { s } = await server();
    const { clientId, key } = clientFor(s, 'alice', 'client');
    const unsigned = await raw(s, 'GET', '/v1/jobs');
    expect(unsigned).toMatchObject({ status: 401, json: { code: 'UNAUTHORIZED' } });
    expect(JSON.stringify(unsigned.json)).not.toMatch(/stack|at \//);

    const forged = signedHeaders(clientId, randomBytes(32).toString('base64'), 'GET', '/v1/jobs');
    expect((await raw(s, 'GET', '/v1/jobs', forged)).status).toBe(401);

    const stale = signedHeaders(
      clientId,
      key,
      'GET',
      '/v1/jobs',
      '',
      Math.floor(Date.now() / 1000) - 31,
    );
    expect((await raw(s, 'GET', '/v1/jobs', stale)).json.message).toMatch(/old/);

    const good = signedHeaders(clientId, key, 'GET', '/v1/jobs');
    expect((await raw(s, 'GET', '/v1/jobs', good)).status).toBe(200);
    const replay = await raw(s, 'GET', '/v1/jobs', good);
    expect(replay).toMatchObject({ status: 401 });
    expect(replay.json.message).toMatch(/already used/);

    // The query string is signed too.
    const signedForA = signedHeaders(clientId, key, 'GET', '/v1/jobs?state=failed');
    expect((await raw(s, 'GET', '/v1/jobs?state=queued', signedForA)).status).toBe(401);

    // A flood of refusals from one address is logged up to a cap, not row by row.
    for (let i = 0; i < 80; i++) await raw(s, 'GET', `/v1/jobs?nonce=f${i}`);
    const denied = s.audit.query({ outcome: 'denied', limit: 1000 });
    expect(denied.length).toBeGreaterThanOrEqual(5);
    expect(denied.length).toBeLessThanOrEqual(61);
    expect(denied[0]!.actor).toMatch(/^unverified:/);
    expect(s.audit.verifyChain()).toMatchObject({ ok: true });
  });

  it('checks roles per route and per preset, and address ranges per credential', async () => {
    const { s } = await server();
    const viewer = clientFor(s, 'grandma', 'viewer').client;
    const alice = clientFor(s, 'alice', 'client').client;
    const admin = clientFor(s, 'root', 'admin').client;
    const lan = clientFor(s, 'lan-only', 'client', ['10.0.0.0/8']).client;

    expect((await viewer.call('GET', '/v1/presets')).status).toBe(200);
    await expect(viewer.createUpload(10)).rejects.toMatchObject({ code: 'FORBIDDEN' });
    await expect(alice.call('GET', '/v1/audit')).rejects.toMatchObject({ code: 'FORBIDDEN' });
    expect((await admin.call<unknown[]>('GET', '/v1/audit')).body.length).toBeGreaterThan(0);
    await expect(lan.call('GET', '/v1/presets')).rejects.toMatchObject({ code: 'FORBIDDEN' });
    // Naming a file on the server itself is for an admin on this machine only.
    const keys = {
      input: randomBytes(32).toString('base64'),
      output: { vaultId: '0'.repeat(32), keyId: 'k', key: randomBytes(32).toString('base64') },
    };
    const local = {
      preset: 'remux',
      params: {},
      mode: 'manual' as const,
      priority: 0,
      thorough: false,
      keys,
    };
    await expect(
      alice.createJob({ ...local, input: { path: '/etc/hostname' } }),
    ).rejects.toMatchObject({
      code: 'FORBIDDEN',
    });
    await expect(
      admin.createJob({ ...local, input: { path: '/nonexistent.mp4' } }),
    ).rejects.toMatchObject({
      code: 'NOT_FOUND',
    });
    // A revoked credential stops working at once.
    s.credentials.revoke('alice');
    await expect(alice.call('GET', '/v1/presets')).rejects.toMatchObject({ code: 'UNAUTHORIZED' });
    for (const c of [viewer, alice, admin, lan]) await c.close();
  });

  it('proxies allowed upstreams for signed clients only, and answers /ip and /speedtest', async () => {
    const origin = await startOrigin((_req, res) => {
      res.setHeader('content-type', 'application/json');
      res.end('{"hello":"proxy"}');
    });
    try {
      const { s } = await server({
        proxyAllow: [{ host: '127.0.0.1', schemes: ['http'], allowPrivate: ['127.0.0.1/32'] }],
      });
      const aliceCredential = clientFor(s, 'alice', 'client');
      const grandma = clientFor(s, 'grandma', 'viewer');
      const alice = aliceCredential.client;
      const viewer = grandma.client;
      const path = `/proxy/stream?d=${encodeURIComponent(`${origin.origin}/a.json`)}`;
      expect((await alice.call('GET', path)).body).toEqual({ hello: 'proxy' });
      await expect(viewer.call('GET', path)).rejects.toMatchObject({ code: 'FORBIDDEN' });
      expect((await raw(s, 'GET', path)).status).toBe(401);
      const elsewhere = `/proxy/stream?d=${encodeURIComponent('http://10.1.2.3/a.json')}`;
      await expect(alice.call('GET', elsewhere)).rejects.toMatchObject({
        code: 'DESTINATION_FORBIDDEN',
      });
      expect(origin.seen).toHaveLength(1);

      expect((await raw(s, 'GET', '/ip')).json).toEqual({ ip: '127.0.0.1' });
      // 8 MiB a request: for signed callers who may use the proxy, not for anyone.
      const unsigned = await raw(s, 'GET', '/speedtest');
      expect([unsigned.status, unsigned.json.code]).toEqual([401, 'UNAUTHORIZED']);
      const signedBy = (c: { clientId: string; key: string }) =>
        raw(s, 'GET', '/speedtest', signedHeaders(c.clientId, c.key, 'GET', '/speedtest'));
      expect((await signedBy(grandma)).json.code).toBe('FORBIDDEN');
      const speed = await signedBy(aliceCredential);
      expect(speed.status).toBe(200);
      expect(speed.headers['cache-control']).toBe('no-store');
      expect(Number(speed.headers['content-length'])).toBe(8 * 1024 * 1024);
      expect(String(speed.json).length).toBe(8 * 1024 * 1024);
      const metrics = await raw(s, 'GET', '/metrics');
      expect(metrics.json).toMatch(/keepsake_proxy_requests_total\{outcome="ok"\} 1/);
      await alice.close();
      await viewer.close();
    } finally {
      await origin.close();
    }
  });

  it('refuses a proxy allowlist entry it cannot use, naming the setting', () => {
    expect(() => parseServeConfig({ proxyAllow: [{ host: 'a', schemes: ['ftp'] }] })).toThrow(
      /proxyAllow/,
    );
  });

  it('rate-limits per credential with 429 and Retry-After', async () => {
    const { s } = await server({
      rateLimit: { perClient: 3, perAddress: 1000, windowSeconds: 60 },
    });
    const { clientId, key } = clientFor(s, 'alice', 'client');
    const statuses: number[] = [];
    let retryAfter: unknown;
    for (let i = 0; i < 5; i++) {
      const path = `/v1/presets?nonce=n${i}`;
      const res = await raw(s, 'GET', path, signedHeaders(clientId, key, 'GET', path));
      statuses.push(res.status);
      if (res.status === 429) retryAfter = res.headers['retry-after'];
    }
    expect(statuses).toEqual([200, 200, 200, 429, 429]);
    expect(Number(retryAfter)).toBeGreaterThan(0);
  });

  it('spends a credential budget only once the signature verified, and on upload chunks too', async () => {
    const { s } = await server({
      rateLimit: { perClient: 2, perAddress: 1000, windowSeconds: 60 },
    });
    const { clientId, key } = clientFor(s, 'alice', 'client');
    const wrongKey = randomBytes(32).toString('base64');
    // Forgeries naming alice's credential are refused without spending her budget.
    for (let i = 0; i < 4; i++) {
      const path = `/v1/presets?nonce=f${i}`;
      const res = await raw(s, 'GET', path, signedHeaders(clientId, wrongKey, 'GET', path));
      expect(res.status).toBe(401);
    }
    const create = JSON.stringify({ size: 4 });
    const made = await raw(
      s,
      'POST',
      '/v1/uploads',
      {
        ...signedHeaders(clientId, key, 'POST', '/v1/uploads', create),
        'content-type': 'application/json',
      },
      create,
    );
    expect(made.status).toBe(201);
    const path = `/v1/uploads/${(made.json as { id: string }).id}`;
    const chunk = Buffer.from('KSVF');
    const hash = createHash('sha256').update(chunk).digest('hex');
    const patch = await raw(
      s,
      'PATCH',
      path,
      {
        ...signedHeaders(clientId, key, 'PATCH', path, { sha256Hex: hash }),
        'content-type': 'application/offset+octet-stream',
        'upload-offset': '0',
      },
      chunk,
    );
    expect(patch.status).toBe(204);
    // The two requests that proved themselves spent the budget of two.
    const last = `/v1/presets?nonce=last`;
    const refused = await raw(s, 'GET', last, signedHeaders(clientId, key, 'GET', last));
    expect(refused).toMatchObject({ status: 429, json: { code: 'RATE_LIMITED' } });
    expect(Number(refused.headers['retry-after'])).toBeGreaterThan(0);
  });

  it('rate-limits per address with 429, Retry-After and an audit entry, signed and unsigned apart', async () => {
    const { s } = await server({
      rateLimit: { perClient: 1000, perAddress: 4, windowSeconds: 60 },
    });
    const { clientId, key } = clientFor(s, 'alice', 'client');
    const bob = clientFor(s, 'bob', 'client');
    const signed = (who: { clientId: string; key: string }, nonce: string) => {
      const path = `/v1/presets?nonce=${nonce}`;
      return raw(s, 'GET', path, signedHeaders(who.clientId, who.key, 'GET', path));
    };
    // A flood of /live spends the unsigned budget of this address...
    const live = [];
    for (let i = 0; i < 6; i++) live.push(await raw(s, 'GET', '/live'));
    expect(live.map((a) => a.status)).toEqual([200, 200, 200, 200, 429, 429]);
    expect(live[4]!.json.code).toBe('RATE_LIMITED');
    expect(Number(live[4]!.headers['retry-after'])).toBeGreaterThan(0);
    // ...and so does a request that only claims a credential (unknown id).
    const junk = await raw(s, 'GET', '/v1/presets', {
      ...signedHeaders('c_unknown', 'a2V5', 'GET', '/v1/presets'),
    });
    expect(junk.status).toBe(429);
    // Signed requests from the same address still get through, with budgets of their own.
    const answers = [];
    for (let i = 0; i < 5; i++) answers.push(await signed({ clientId, key }, `a${i}`));
    expect(answers.map((a) => a.status)).toEqual([200, 200, 200, 200, 429]);
    expect((await signed(bob, 'b0')).status).toBe(200);
    const limited = s.audit.query({ outcome: 'denied', limit: 100 });
    expect(limited.some((e) => e.detail?.startsWith('RATE_LIMITED'))).toBe(true);
  });

  it('answers bad input with clear 4xx codes and changes nothing', async () => {
    const { s } = await server({ maxUploadBytes: 1000 });
    const { clientId, key, client } = clientFor(s, 'alice', 'client');
    const post = (path: string, body: string, type = 'application/json') =>
      raw(
        s,
        'POST',
        path,
        { ...signedHeaders(clientId, key, 'POST', path, body), 'content-type': type },
        body,
      );

    const bad = await post('/v1/uploads', '{"size": 10');
    expect(bad.json.code).toBe('USAGE');
    const cases = [
      await post('/v1/uploads?nonce=1', '{"size": 5000}'),
      await post('/v1/uploads?nonce=2', '{"size": 10, "extra": 1}'),
      await post('/v1/uploads?nonce=3', 'size=10', 'text/plain'),
    ];
    expect(cases.map((c) => [c.status, c.json.code])).toEqual([
      [413, 'TOO_LARGE'],
      [400, 'USAGE'],
      [415, 'UNSUPPORTED_MEDIA_TYPE'],
    ]);
    const traversal = '/v1/jobs/..%2f..%2fetc%2fpasswd';
    expect(
      (await raw(s, 'GET', traversal, signedHeaders(clientId, key, 'GET', traversal))).status,
    ).toBe(400);
    // A Host this server does not serve (DNS rebinding, a stray proxy): refused.
    const foreign = await new Promise<{ status: number; body: string }>((resolve, reject) => {
      const req = httpsRequest(
        {
          host: '127.0.0.1',
          port: s.port,
          path: '/live',
          servername: 'localhost',
          ca: s.tls.caCertPem,
          headers: { host: 'evil.example' },
        },
        (res) => {
          let body = '';
          res.on('data', (d: Buffer) => (body += d.toString()));
          res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
        },
      );
      req.on('error', reject);
      req.end();
    });
    expect(foreign.status).toBe(403);
    expect(JSON.parse(foreign.body).code).toBe('FORBIDDEN_ORIGIN');

    // An unknown preset, and an incomplete upload, are refused before anything is queued.
    const upload = await client.createUpload(100);
    const keys = {
      input: randomBytes(32).toString('base64'),
      output: { vaultId: '0'.repeat(32), keyId: 'k', key: randomBytes(32).toString('base64') },
    };
    await expect(
      client.createJob({
        input: { upload: upload.id },
        preset: 'no-such',
        params: {},
        mode: 'manual',
        priority: 0,
        thorough: false,
        keys,
      }),
    ).rejects.toMatchObject({ code: 'UNKNOWN_PRESET' });
    await expect(
      client.createJob({
        input: { upload: upload.id },
        preset: 'remux',
        params: {},
        mode: 'manual',
        priority: 0,
        thorough: false,
        keys,
      }),
    ).rejects.toMatchObject({ code: 'UPLOAD_INCOMPLETE' });
    expect(await client.jobs()).toEqual([]);
    // A caller who cannot sign is refused before the schema is checked.
    const unsigned = await raw(
      s,
      'POST',
      '/v1/uploads',
      { 'content-type': 'application/json' },
      '{"size": "x"}',
    );
    expect([unsigned.status, unsigned.json.code]).toEqual([401, 'UNAUTHORIZED']);
    // Each refusal is in the audit log, as denied, with its code.
    const refused = s.audit
      .query({ outcome: 'denied', limit: 1000 })
      .map((e) => e.detail?.split(':')[0]);
    for (const code of [
      'USAGE',
      'TOO_LARGE',
      'UNSUPPORTED_MEDIA_TYPE',
      'FORBIDDEN_ORIGIN',
      'UNKNOWN_PRESET',
      'UPLOAD_INCOMPLETE',
      'UNAUTHORIZED',
    ]) {
      expect(refused).toContain(code);
    }
    expect(refused.filter((c) => c === 'USAGE').length).toBeGreaterThanOrEqual(3);
    expect(s.audit.verifyChain()).toMatchObject({ ok: true });
    await client.close();
  });

  it('a chunk with a bad signature or the wrong offset leaves the upload where it was', async () => {
    const { s } = await server();
    const { clientId, key, client } = clientFor(s, 'alice', 'client');
    const upload = await client.createUpload(20);
    const path = `/v1/uploads/${upload.id}`;
    const chunk = Buffer.from('0123456789');
    const forged = await raw(
      s,
      'PATCH',
      path,
      {
        ...signedHeaders(clientId, key, 'PATCH', path, Buffer.from('something else')),
        'content-type': 'application/offset+octet-stream',
        'upload-offset': '0',
      },
      chunk,
    );
    expect(forged.status).toBe(401);
    expect((await client.upload(upload.id)).offset).toBe(0);
    const wrongOffset = await client
      .call('PATCH', path, {
        body: chunk,
        headers: { 'content-type': 'application/offset+octet-stream', 'upload-offset': '5' },
      })
      .catch((e: unknown) => e);
    expect(wrongOffset).toMatchObject({ code: 'UPLOAD_OFFSET_MISMATCH' });
    const ok = await client.call('PATCH', path, {
      body: chunk,
      headers: { 'content-type': 'application/offset+octet-stream', 'upload-offset': '0' },
    });
    expect(ok.headers['upload-offset']).toBe('10');
    const tooMuch = await client
      .call('PATCH', path, {
        body: Buffer.alloc(11),
        headers: { 'content-type': 'application/offset+octet-stream', 'upload-offset': '10' },
      })
      .catch((e: unknown) => e);
    expect(tooMuch).toMatchObject({ code: 'TOO_LARGE' });
    expect((await client.upload(upload.id)).offset).toBe(10);
    await client.close();
  });

  it('a connection broken mid-chunk leaves the upload at its last committed offset', async () => {
    const { s } = await server();
    const { clientId, key, client } = clientFor(s, 'alice', 'client');
    const upload = await client.createUpload(20);
    const path = `/v1/uploads/${upload.id}`;
    const body = Buffer.from('0123456789abcdefghij');
    const headers = {
      ...signedHeaders(clientId, key, 'PATCH', path, body),
      'content-type': 'application/offset+octet-stream',
      'upload-offset': '0',
      'content-length': String(body.length),
      host: `127.0.0.1:${s.port}`,
    };
    // Half the promised bytes, then the connection drops.
    await new Promise<void>((resolve, reject) => {
      const socket = tlsConnect({ host: '127.0.0.1', port: s.port, ca: s.tls.caCertPem }, () => {
        const head = Object.entries(headers)
          .map(([k, v]) => `${k}: ${v}`)
          .join('\r\n');
        socket.write(`PATCH ${path} HTTP/1.1\r\n${head}\r\n\r\n`);
        socket.write(body.subarray(0, 10), () =>
          setTimeout(() => (socket.destroy(), resolve()), 200),
        );
      });
      socket.on('error', reject);
    });
    await new Promise((r) => setTimeout(r, 300));
    expect((await client.upload(upload.id)).offset).toBe(0);
    // Resuming from there completes it.
    const ok = await client.call('PATCH', path, {
      body,
      headers: { 'content-type': 'application/offset+octet-stream', 'upload-offset': '0' },
    });
    expect(ok.headers['upload-offset']).toBe('20');
    await client.close();
  });

  it('stores multi-MiB chunks byte for byte (sent in slices, written in batches)', async () => {
    const { s, dir } = await server();
    const { client } = clientFor(s, 'alice', 'client');
    const source = join(await freshDir(), 'big.ksv');
    const bytes = randomBytes(5 * 1024 * 1024 + 123);
    await writeFile(source, bytes);
    // Chunks larger than a slice and a write batch, and not a multiple of either.
    const upload = await client.uploadFile(source, { chunkBytes: 2 * 1024 * 1024 + 7 });
    expect(upload).toMatchObject({ complete: true, offset: bytes.length });
    expect((await readFile(join(dir, 'uploads', `${upload.id}.ksv`))).equals(bytes)).toBe(true);
    await client.close();
  });

  it('serves operations endpoints, the OpenAPI document and the docs', async () => {
    const { s } = await server();
    expect((await raw(s, 'GET', '/live')).json).toEqual({ ok: true });
    const health = await raw(s, 'GET', '/healthz');
    expect(health.json.status).toMatch(/ok|degraded/);
    expect((await raw(s, 'GET', '/version')).json).toMatchObject({
      version: expect.any(String),
      node: process.versions.node,
    });
    const metrics = await raw(s, 'GET', '/metrics');
    expect(metrics.json).toMatch(/keepsake_http_requests_total/);
    expect(metrics.json).toMatch(/keepsake_jobs\{state="queued"\} 0/);
    const openapi = await raw(s, 'GET', '/v1/openapi.json');
    expect(Object.keys(openapi.json.paths)).toEqual(
      expect.arrayContaining(['/v1/jobs', '/v1/uploads', '/v1/presets']),
    );
    expect((await raw(s, 'GET', '/v1/docs/errors')).json).toMatch(/UPLOAD_OFFSET_MISMATCH\s+409/);
    expect((await raw(s, 'GET', '/v1/docs/nope')).status).toBe(404);
  });

  it('after a restart a queued job waits for its keys, then runs when they are resent', async () => {
    const first = await server();
    const { key: clientKey, clientId } = first.s.credentials.add('alice', 'client');
    const local = await localVault();
    const clip = await makeClip(local.dir);
    const sealed = join(local.dir, 'clip.ksv');
    await encryptFile(clip, sealed, local.vault);
    const connect = (s: RunningServer) =>
      new RemoteClient({
        url: s.url,
        clientId,
        key: clientKey,
        caCertPem: s.tls.caCertPem,
        caFingerprint: s.caFingerprint,
      });
    const c1 = connect(first.s);
    await first.s.engine.queue.pause();
    const upload = await c1.uploadFile(sealed);
    const keys = await keysFor(local.vault, sealed, 'restart');
    const job = await c1.createJob({
      input: { upload: upload.id },
      preset: 'remux',
      params: {},
      mode: 'manual',
      priority: 0,
      thorough: false,
      keys,
    });
    await c1.close();
    await first.s.close();
    running.splice(running.indexOf(first.s), 1);

    const second = await server({}, first.dir, first.kek);
    const c2 = connect(second.s);
    expect(second.s.caFingerprint).toBe(first.s.caFingerprint);
    await second.s.engine.queue.resume();
    await new Promise((r) => setTimeout(r, 300));
    expect(await c2.job(job.id)).toMatchObject({ state: 'queued', waitingForKeys: true });
    await c2.resendKeys(job.id, keys);
    expect((await c2.waitFor(job.id)).state).toBe('succeeded');
    await mkdir(join(local.dir, 'out'));
    await c2.deleteJob(job.id);
    await expect(c2.job(job.id)).rejects.toMatchObject({ code: 'JOB_NOT_FOUND' });
    await c2.close();
  });
});
