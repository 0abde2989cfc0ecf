import { randomBytes } from 'node:crypto';
import type { LookupAddress } from 'node:dns';
import { text } from 'node:stream/consumers';
import { afterEach, describe, expect, it } from 'vitest';
import { KeepsakeError } from '../core/errors';
import { aeadSealer } from '../net/sealer';
import { ensureServerTls } from '../net/server-ca';
import { freshDir } from '../testing/tmp';
import { Allowlist } from './allowlist';
import type { AllowlistEntry } from './allowlist';
import { startOrigin } from './fixture-origin';
import type { OriginHandler } from './fixture-origin';
import { RetryBudget } from './retry-budget';
import { createUpstreamFetch } from './upstream-fetch';
import type { UpstreamFetcher, UpstreamFetchOptions } from './upstream-fetch';

const cleanup: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const fn of cleanup.splice(0).reverse()) await fn();
});

async function origin(handler?: OriginHandler, tls?: { key: string; cert: string }) {
  const o = await startOrigin(handler, tls);
  cleanup.push(() => o.close());
  return o;
}

/** The fixture origin, allowlisted with the explicit loopback permission it needs. */
const loopbackEntry = (extra: Partial<AllowlistEntry> = {}): AllowlistEntry => ({
  host: '127.0.0.1',
  schemes: ['http', 'https'],
  allowPrivate: ['127.0.0.1/32'],
  ...extra,
});

function fetcher(
  entries: AllowlistEntry[],
  options: Partial<UpstreamFetchOptions> = {},
): UpstreamFetcher {
  const f = createUpstreamFetch({
    allowlist: new Allowlist(entries),
    backoff: { baseMs: 1, maxMs: 5 },
    ...options,
  });
  cleanup.push(() => f.close());
  return f;
}

/** A resolver standing in for DNS: fixed answers per name, counting calls. */
function fakeDns(answers: Record<string, string[]>) {
  const calls: string[] = [];
  const resolve = async (hostname: string): Promise<LookupAddress[]> => {
    calls.push(hostname);
    const addresses = answers[hostname];
    if (!addresses)
      throw Object.assign(new Error(`no such host ${hostname}`), { code: 'ENOTFOUND' });
    return addresses.map((address) => ({ address, family: address.includes(':') ? 6 : 4 }));
  };
  return { resolve, calls };
}

async function failure(promise: Promise<unknown>): Promise<KeepsakeError> {
  try {
    await promise;
  } catch (err) {
    if (err instanceof KeepsakeError) return err;
    throw err;
  }
  throw new Error('expected the fetch to fail');
}

const get = (
  f: UpstreamFetcher,
  url: string,
  headers: Record<string, string> = {},
  signal?: AbortSignal,
) => f({ url: new URL(url), method: 'GET', headers, ...(signal ? { signal } : {}) });

describe('createUpstreamFetch', () => {
  it('fetches from an allowlisted origin and streams the body', async () => {
    const o = await origin((_req, res) => {
      res.setHeader('content-type', 'video/mp2t');
      res.setHeader('x-multi', ['a', 'b']);
      res.end('segment bytes');
    });
    const f = fetcher([loopbackEntry()]);
    const response = await get(f, `${o.origin}/seg.ts?x=1`, {
      range: 'bytes=0-3',
      connection: 'close',
    });
    expect(response.status).toBe(200);
    expect(response.url.href).toBe(`${o.origin}/seg.ts?x=1`);
    expect(response.headers['content-type']).toBe('video/mp2t');
    expect(response.headers['x-multi']).toBe('a, b');
    expect(await text(response.body)).toBe('segment bytes');
    expect(o.seen[0]?.url).toBe('/seg.ts?x=1');
    expect(o.seen[0]?.headers.range).toBe('bytes=0-3');
  });

  it('refuses a destination off the allowlist or in a refused range; the origin sees nothing', async () => {
    const o = await origin();
    const notListed = fetcher([{ host: 'media.example.com' }]);
    expect((await failure(get(notListed, `${o.origin}/`))).code).toBe('DESTINATION_FORBIDDEN');
    const noPermission = fetcher([{ host: '127.0.0.1', schemes: ['http'] }]);
    const err = await failure(get(noPermission, `${o.origin}/`));
    expect(err.code).toBe('DESTINATION_FORBIDDEN');
    expect(err.message).toContain('loopback');
    const otherLoopback = fetcher([
      { host: '127.0.0.1', schemes: ['http'], allowPrivate: ['127.0.0.2'] },
    ]);
    expect((await failure(get(otherLoopback, `${o.origin}/`))).code).toBe('DESTINATION_FORBIDDEN');
    expect(o.seen).toHaveLength(0);
  });

  it('checks resolved addresses at connect time (DNS rebinding), refusing if any is private', async () => {
    const o = await origin();
    const dns = fakeDns({
      'media.test': ['127.0.0.1'],
      'mixed.test': ['93.184.215.14', '127.0.0.1'],
      'mapped.test': ['::ffff:127.0.0.1'],
    });
    const f = fetcher([{ host: '*.test', schemes: ['http'] }], {
      resolve: dns.resolve,
      maxAttempts: 3,
    });
    for (const name of ['media.test', 'mixed.test', 'mapped.test']) {
      const err = await failure(get(f, `http://${name}:${o.port}/`));
      expect(err.code, name).toBe('DESTINATION_FORBIDDEN');
      expect(err.message).toContain(`${name} resolves to`);
    }
    // Refusals are final: one lookup per name, no retries.
    expect(dns.calls).toEqual(['media.test', 'mixed.test', 'mapped.test']);
    expect(o.seen).toHaveLength(0);
  });

  it('connects through its own resolver when the entry permits the address', async () => {
    const o = await origin();
    const dns = fakeDns({ 'nas.test': ['127.0.0.1'] });
    const f = fetcher([{ host: 'nas.test', schemes: ['http'], allowPrivate: ['127.0.0.0/8'] }], {
      resolve: dns.resolve,
    });
    const response = await get(f, `http://nas.test:${o.port}/x`);
    expect(await text(response.body)).toBe('ok');
    expect(o.seen[0]?.headers.host).toBe(`nas.test:${o.port}`);
    expect(dns.calls).toEqual(['nas.test']);
  });

  it('follows up to 10 redirects, re-checking each hop; the 11th is a 502', async () => {
    const o = await origin((req, res) => {
      const n = Number(req.url?.slice(3));
      if (n > 0) {
        res.writeHead(n % 2 ? 302 : 307, { location: `/r/${n - 1}` }).end('moved');
      } else res.end('landed');
    });
    const f = fetcher([loopbackEntry()]);
    const ok = await get(f, `${o.origin}/r/10`);
    expect(await text(ok.body)).toBe('landed');
    expect(ok.url.pathname).toBe('/r/0');
    expect(o.seen).toHaveLength(11);
    const err = await failure(get(f, `${o.origin}/r/11`));
    expect(err.code).toBe('UPSTREAM_FAILED');
    expect(err.message).toContain('more than 10 redirects');
  });

  it('refuses a redirect to a forbidden destination before the target gets anything', async () => {
    const target = await origin();
    const dns = fakeDns({ 'media.test': ['127.0.0.1'], 'evil.test': ['127.0.0.1'] });
    const targets = [
      `http://127.0.0.1:${target.port}/`,
      `http://0x7f000001:${target.port}/`,
      `http://[::ffff:127.0.0.1]:${target.port}/`,
      `http://evil.test:${target.port}/`,
      `http://other.example:${target.port}/`,
      `ftp://media.test/`,
    ];
    const o = await origin((req, res) => {
      res.writeHead(302, { location: targets[Number(req.url?.slice(1))] }).end();
    });
    const f = fetcher(
      [
        { host: 'media.test', schemes: ['http'], allowPrivate: ['127.0.0.1'], ports: [o.port] },
        { host: 'evil.test', schemes: ['http'] },
      ],
      { resolve: dns.resolve },
    );
    for (let i = 0; i < targets.length; i += 1) {
      const err = await failure(get(f, `http://media.test:${o.port}/${i}`));
      expect(err.code, targets[i]).toBe('DESTINATION_FORBIDDEN');
    }
    expect(target.seen).toHaveLength(0);
    expect(o.seen).toHaveLength(targets.length);
  });

  it('retries 5xx with backoff and succeeds', async () => {
    const o = await origin((_req, res, n) => {
      if (n <= 2) res.writeHead(500).end('boom');
      else res.end('third time');
    });
    const retries: string[] = [];
    const f = fetcher([loopbackEntry()], { events: { retry: (r) => retries.push(r) } });
    const response = await get(f, `${o.origin}/`);
    expect(response.status).toBe(200);
    expect(await text(response.body)).toBe('third time');
    expect(o.seen).toHaveLength(3);
    expect(retries).toEqual(['status 500', 'status 500']);
  });

  it('retries a dropped connection', async () => {
    const o = await origin((req, res, n) => {
      if (n === 1) req.socket.destroy();
      else res.end('recovered');
    });
    const f = fetcher([loopbackEntry()]);
    expect(await text((await get(f, `${o.origin}/`)).body)).toBe('recovered');
    expect(o.seen).toHaveLength(2);
  });

  it('gives up with 502 after maxAttempts, and when the retry budget is spent', async () => {
    const o = await origin((_req, res) => res.writeHead(503).end());
    const f = fetcher([loopbackEntry()], { maxAttempts: 3 });
    const err = await failure(get(f, `${o.origin}/`));
    expect(err.code).toBe('UPSTREAM_FAILED');
    expect(err.message).toContain('after 3 attempts');
    expect(o.seen).toHaveLength(3);

    const budget = new RetryBudget({ capacity: 1, ratio: 0, minPerSecond: 0 });
    const stingy = fetcher([loopbackEntry()], { maxAttempts: 5, retryBudget: budget });
    o.seen.length = 0;
    const first = await failure(get(stingy, `${o.origin}/`));
    expect(first.message).toContain('retry budget is spent');
    expect(o.seen).toHaveLength(2);
    await failure(get(stingy, `${o.origin}/`));
    expect(o.seen).toHaveLength(3);
  });

  it('does not retry 4xx and passes them through', async () => {
    const o = await origin((_req, res) => res.writeHead(404).end('missing'));
    const f = fetcher([loopbackEntry()]);
    const response = await get(f, `${o.origin}/`);
    expect(response.status).toBe(404);
    expect(await text(response.body)).toBe('missing');
    expect(o.seen).toHaveLength(1);
  });

  it('times out a silent upstream (request timeout) and a stalled body (read timeout)', async () => {
    const o = await origin((req, res) => {
      if (req.url === '/silent') return;
      res.writeHead(200, { 'content-length': '100' });
      res.write('partial');
    });
    const f = fetcher([loopbackEntry()], {
      maxAttempts: 1,
      timeouts: { requestMs: 200, readMs: 300 },
    });
    const err = await failure(get(f, `${o.origin}/silent`));
    expect(err.code).toBe('UPSTREAM_FAILED');
    expect(err.message).toContain('REQUEST_TIMEOUT');
    const stalled = await get(f, `${o.origin}/stalled`);
    await expect(text(stalled.body)).rejects.toMatchObject({ code: 'UND_ERR_BODY_TIMEOUT' });
  });

  it('aborts the upstream request when the caller aborts mid-body', async () => {
    const o = await origin((_req, res) => {
      res.writeHead(200, { 'content-length': String(1 << 30) });
      res.write(Buffer.alloc(64 * 1024));
    });
    const f = fetcher([loopbackEntry()]);
    const controller = new AbortController();
    const response = await get(f, `${o.origin}/`, {}, controller.signal);
    response.body.on('error', () => {});
    controller.abort();
    await expect.poll(() => o.cutShort, { timeout: 5000 }).toBe(1);
  });

  it('verifies upstream TLS by default; trusts an added CA; verifyTls false skips it', async () => {
    const tls = await ensureServerTls(await freshDir(), {
      hostnames: ['nas.test'],
      addresses: [],
      sealer: aeadSealer(randomBytes(32), 'tls'),
    });
    const o = await origin((_req, res) => res.end('over tls'), {
      key: tls.keyPem,
      cert: tls.certPem,
    });
    const dns = fakeDns({ 'nas.test': ['127.0.0.1'] });
    const entry: AllowlistEntry = { host: 'nas.test', allowPrivate: ['127.0.0.1'] };
    const url = `https://nas.test:${o.port}/`;

    const strict = fetcher([entry], { resolve: dns.resolve });
    const err = await failure(get(strict, url));
    expect(err.code).toBe('UPSTREAM_FAILED');
    expect(o.seen).toHaveLength(0);

    const pinned = fetcher([entry], { resolve: dns.resolve, ca: tls.caCertPem });
    expect(await text((await get(pinned, url)).body)).toBe('over tls');

    const lax = fetcher([entry], { resolve: dns.resolve });
    const response = await lax({ url: new URL(url), method: 'GET', headers: {}, verifyTls: false });
    expect(await text(response.body)).toBe('over tls');
  });

  it('refuses an https → http redirect unless the entry allows the downgrade', async () => {
    const tls = await ensureServerTls(await freshDir(), {
      hostnames: ['nas.test'],
      addresses: [],
      sealer: aeadSealer(randomBytes(32), 'tls'),
    });
    const plain = await origin((_req, res) => res.end('plain'));
    const secure = await origin(
      (_req, res) => res.writeHead(302, { location: `http://nas.test:${plain.port}/` }).end(),
      { key: tls.keyPem, cert: tls.certPem },
    );
    const dns = fakeDns({ 'nas.test': ['127.0.0.1'] });
    const entry = (allowDowngrade: boolean): AllowlistEntry => ({
      host: 'nas.test',
      schemes: ['http', 'https'],
      allowPrivate: ['127.0.0.1'],
      allowDowngrade,
    });
    const url = `https://nas.test:${secure.port}/`;
    const strict = fetcher([entry(false)], { resolve: dns.resolve, ca: tls.caCertPem });
    const err = await failure(get(strict, url));
    expect(err.code).toBe('DESTINATION_FORBIDDEN');
    expect(err.message).toContain('drop encryption');
    expect(plain.seen).toHaveLength(0);
    const lenient = fetcher([entry(true)], { resolve: dns.resolve, ca: tls.caCertPem });
    expect(await text((await get(lenient, url)).body)).toBe('plain');
  });

  it('never sends hop-by-hop headers upstream', async () => {
    const o = await origin();
    const f = fetcher([loopbackEntry()]);
    await text(
      (await get(f, `${o.origin}/`, { 'proxy-authorization': 'x', 'user-agent': 'ua' })).body,
    );
    expect(o.seen[0]?.headers['proxy-authorization']).toBeUndefined();
    expect(o.seen[0]?.headers['user-agent']).toBe('ua');
  });
});
