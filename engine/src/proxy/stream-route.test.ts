import type { ServerResponse } from 'node:http';
import Fastify from 'fastify';
import { Registry } from 'prom-client';
import { request as httpRequest } from 'undici';
import { afterEach, describe, expect, it } from 'vitest';
import { KeepsakeError } from '../core/errors';
import { Allowlist } from './allowlist';
import type { AllowlistEntry } from './allowlist';
import { patternBytes, startOrigin } from './fixture-origin';
import type { FixtureOrigin, OriginHandler } from './fixture-origin';
import { createProxyMetrics } from './proxy-metrics';
import { proxyStreamRoutes } from './stream-route';
import type { ProxyStreamOptions } from './stream-route';
import { createUpstreamFetch } from './upstream-fetch';
import type { UpstreamFetchOptions } from './upstream-fetch';

const cleanup: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const fn of cleanup.splice(0).reverse()) await fn();
});

const SIZE = 1000;
const MEDIA = patternBytes(SIZE);

/** A media origin with real Range support over MEDIA, like a static file server. */
const mediaHandler: OriginHandler = (req, res) => {
  res.setHeader('content-type', 'video/mp4');
  res.setHeader('etag', '"v1"');
  res.setHeader('last-modified', 'Mon, 01 Jan 2024 00:00:00 GMT');
  res.setHeader('cache-control', 'max-age=60');
  res.setHeader('set-cookie', 'session=upstream; Path=/');
  res.setHeader('content-security-policy', "default-src 'none'");
  res.setHeader('access-control-allow-origin', '*');
  res.setHeader('x-powered-by', 'fixture');
  if (req.headers['if-none-match'] === '"v1"') return void res.writeHead(304).end();
  const range = /^bytes=(\d+)-(\d*)$/.exec(String(req.headers.range ?? ''));
  if (!range) {
    res.setHeader('content-length', SIZE);
    return void res.end(req.method === 'HEAD' ? undefined : MEDIA);
  }
  const start = Number(range[1]);
  const end = range[2] ? Math.min(Number(range[2]), SIZE - 1) : SIZE - 1;
  if (start >= SIZE) {
    return void res.writeHead(416, { 'content-range': `bytes */${SIZE}` }).end();
  }
  res.writeHead(206, {
    'content-range': `bytes ${start}-${end}/${SIZE}`,
    'content-length': end - start + 1,
  });
  res.end(MEDIA.subarray(start, end + 1));
};

async function origin(handler: OriginHandler = mediaHandler): Promise<FixtureOrigin> {
  const o = await startOrigin(handler);
  cleanup.push(() => o.close());
  return o;
}

interface Proxy {
  /** Errors the host's error handler saw that are not registry errors (would be logged). */
  unexpected: unknown[];
  url: (target: string, extra?: string) => string;
  registry: Registry;
  metric: (name: string, labels?: string) => Promise<number>;
}

async function proxy(
  entries: AllowlistEntry[],
  fetchOptions: Partial<UpstreamFetchOptions> = {},
  routeOptions: Partial<ProxyStreamOptions> = {},
): Promise<Proxy> {
  const registry = new Registry();
  const metrics = createProxyMetrics(registry);
  const fetch = createUpstreamFetch({
    allowlist: new Allowlist(entries),
    backoff: { baseMs: 1, maxMs: 5 },
    events: metrics.upstreamEvents,
    ...fetchOptions,
  });
  const app = Fastify({ logger: false, forceCloseConnections: true });
  // What both host servers do: registry errors as {code, message}, others logged.
  const unexpected: unknown[] = [];
  app.setErrorHandler((err, _request, reply) => {
    if (err instanceof KeepsakeError) return reply.code(err.status).send(err.toJSON());
    unexpected.push(err);
    return reply.code(500).send({ code: 'INTERNAL', message: String(err) });
  });
  await app.register(proxyStreamRoutes({ fetch, metrics, ...routeOptions }));
  await app.listen({ host: '127.0.0.1', port: 0 });
  cleanup.push(async () => {
    await app.close();
    await fetch.close();
  });
  const address = app.server.address();
  const port = typeof address === 'object' && address ? address.port : 0;
  return {
    unexpected,
    url: (target, extra = '') =>
      `http://127.0.0.1:${port}/proxy/stream?d=${encodeURIComponent(target)}${extra}`,
    registry,
    metric: async (name, labels) => {
      const text = await registry.metrics();
      const line = text
        .split('\n')
        .find((l) => l.startsWith(labels ? `${name}{${labels}}` : `${name} `));
      return line ? Number(line.split(' ').pop()) : 0;
    },
  };
}

const loopback = (port: number, extra: Partial<AllowlistEntry> = {}): AllowlistEntry => ({
  host: '127.0.0.1',
  schemes: ['http'],
  ports: [port],
  allowPrivate: ['127.0.0.1/32'],
  ...extra,
});

async function call(
  url: string,
  init: { method?: 'GET' | 'HEAD'; headers?: Record<string, string> } = {},
) {
  const response = await httpRequest(url, {
    method: init.method ?? 'GET',
    headers: init.headers ?? {},
  });
  const body = Buffer.from(await response.body.arrayBuffer());
  const json = () => JSON.parse(body.toString('utf8')) as { code: string; message: string };
  return { status: response.statusCode, headers: response.headers, body, json };
}

describe('GET /proxy/stream', () => {
  it('passes a 206 through with its Content-Range, range given as h_range or as the client header', async () => {
    const o = await origin();
    const p = await proxy([loopback(o.port)]);
    const byOverride = await call(p.url(`${o.origin}/v.mp4`, '&h_range=bytes%3D100-199'));
    expect(byOverride.status).toBe(206);
    expect(byOverride.headers['content-range']).toBe(`bytes 100-199/${SIZE}`);
    expect(byOverride.headers['content-length']).toBe('100');
    expect(byOverride.headers['accept-ranges']).toBe('bytes');
    expect(byOverride.body.equals(MEDIA.subarray(100, 200))).toBe(true);

    const byHeader = await call(p.url(`${o.origin}/v.mp4`), { headers: { range: 'bytes=990-' } });
    expect(byHeader.status).toBe(206);
    expect(byHeader.body.equals(MEDIA.subarray(990))).toBe(true);

    const whole = await call(p.url(`${o.origin}/v.mp4`));
    expect(whole.status).toBe(200);
    expect(whole.headers['content-length']).toBe(String(SIZE));
    expect(whole.body.equals(MEDIA)).toBe(true);

    const beyond = await call(p.url(`${o.origin}/v.mp4`), { headers: { range: 'bytes=5000-' } });
    expect(beyond.status).toBe(416);
    expect(beyond.headers['content-range']).toBe(`bytes */${SIZE}`);
    expect(o.seen.map((r) => r.headers.range)).toEqual([
      'bytes=100-199',
      'bytes=990-',
      undefined,
      'bytes=5000-',
    ]);
  });

  it('keeps the upstream Accept-Ranges and answers 502 when 206 and Content-Range disagree', async () => {
    const o = await origin((req, res) => {
      if (req.url === '/no-range')
        return void res.writeHead(206, { 'content-length': '3' }).end('abc');
      if (req.url === '/stray-range') {
        return void res.writeHead(200, { 'content-range': 'bytes 0-2/3' }).end('abc');
      }
      res.writeHead(200, { 'accept-ranges': 'none' }).end('abc');
    });
    const p = await proxy([loopback(o.port)]);
    const none = await call(p.url(`${o.origin}/none`));
    expect(none.headers['accept-ranges']).toBe('none');
    for (const path of ['/no-range', '/stray-range']) {
      const bad = await call(p.url(`${o.origin}${path}`));
      expect(bad.status, path).toBe(502);
      expect(bad.json().code).toBe('UPSTREAM_FAILED');
      expect(bad.json().message).toMatch(/Content-Range/);
    }
  });

  it('copies only representation and caching headers back', async () => {
    const o = await origin();
    const p = await proxy([loopback(o.port)]);
    const r = await call(p.url(`${o.origin}/v.mp4`));
    expect(r.headers['content-type']).toBe('video/mp4');
    expect(r.headers.etag).toBe('"v1"');
    expect(r.headers['last-modified']).toBe('Mon, 01 Jan 2024 00:00:00 GMT');
    expect(r.headers['cache-control']).toBe('max-age=60');
    for (const name of [
      'set-cookie',
      'content-security-policy',
      'access-control-allow-origin',
      'x-powered-by',
    ]) {
      expect(r.headers[name], name).toBeUndefined();
    }
    const notModified = await call(p.url(`${o.origin}/v.mp4`, '&h_if_none_match=%22v1%22'));
    expect(notModified.status).toBe(304);
    expect(notModified.body.length).toBe(0);
  });

  it('sends only allowlisted headers upstream and names a refused override', async () => {
    const o = await origin();
    const p = await proxy([loopback(o.port)]);
    await call(
      p.url(`${o.origin}/v.mp4`, '&h_referer=https%3A%2F%2Fsite.example%2F&h_accept_language=nl'),
      {
        headers: {
          cookie: 'family=secret',
          authorization: 'Bearer app-token',
          'x-forwarded-for': '10.0.0.1',
          'x-keepsake-api-password': 'pw',
          referer: 'http://127.0.0.1:1234/player',
          'user-agent': 'KeepsakePlayer/1',
        },
      },
    );
    const seen = o.seen[0]?.headers ?? {};
    for (const name of ['cookie', 'authorization', 'x-forwarded-for', 'x-keepsake-api-password']) {
      expect(seen[name], name).toBeUndefined();
    }
    expect(seen.referer).toBe('https://site.example/');
    expect(seen['accept-language']).toBe('nl');
    expect(seen['user-agent']).toBe('KeepsakePlayer/1');

    for (const [param, name] of [
      ['h_cookie=a', 'cookie'],
      ['h_x_forwarded_for=1.2.3.4', 'x-forwarded-for'],
      ['h_host=evil', 'host'],
      ['h_authorization=x', 'authorization'],
    ]) {
      const r = await call(p.url(`${o.origin}/v.mp4`, `&${param}`));
      expect(r.status, param).toBe(400);
      expect(r.json().code).toBe('USAGE');
      expect(r.json().message).toContain(`"${name}"`);
    }
    const crlf = await call(p.url(`${o.origin}/v.mp4`, '&h_user_agent=a%0d%0aX-Evil:%201'));
    expect(crlf.status).toBe(400);
    expect(o.seen).toHaveLength(1);
  });

  it('rejects a missing, repeated or non-http d', async () => {
    const o = await origin();
    const p = await proxy([loopback(o.port)]);
    const base = p.url('').replace(/\?d=$/, '');
    for (const url of [
      base,
      `${base}?d=`,
      `${base}?d=not-a-url`,
      `${base}?d=${encodeURIComponent('file:///etc/passwd')}`,
      `${base}?d=${encodeURIComponent('gopher://127.0.0.1/')}`,
      `${p.url(`${o.origin}/a`)}&d=${encodeURIComponent(`${o.origin}/b`)}`,
    ]) {
      const r = await call(url);
      expect(r.status, url).toBe(400);
      expect(r.json().code).toBe('USAGE');
    }
    expect(o.seen).toHaveLength(0);
  });

  it('answers HEAD with the upstream headers and no body', async () => {
    const o = await origin();
    const p = await proxy([loopback(o.port)]);
    const r = await call(p.url(`${o.origin}/v.mp4`), { method: 'HEAD' });
    expect(r.status).toBe(200);
    expect(r.headers['content-length']).toBe(String(SIZE));
    expect(r.body.length).toBe(0);
    expect(o.seen[0]?.method).toBe('HEAD');
  });
});

describe('SSRF refusals', () => {
  // Each host is on the allowlist as written, so only the address check stands between
  // the proxy and the fixture origin listening on 127.0.0.1 (0.0.0.0 and [::ffff:…] reach
  // it too on Linux): a missed check would show up as a request at the origin.
  const LITERALS = [
    'http://127.0.0.1',
    'http://0177.0.0.1',
    'http://0x7f000001',
    'http://2130706433',
    'http://127.1',
    'http://[::ffff:127.0.0.1]',
    'http://[64:ff9b::7f00:1]',
    'http://[::127.0.0.1]',
    'http://0.0.0.0',
    'http://[::]',
    'http://[::1]',
    'http://169.254.169.254',
    'http://10.0.0.1',
    'http://192.168.0.1',
    'http://100.64.0.1',
    'http://[fd00::1]',
    'http://[fe80::1]',
    'http://224.0.0.1',
    'http://255.255.255.255',
  ];

  it('refuses every special-purpose literal with 403 before any upstream byte', async () => {
    const o = await origin();
    const hosts = [...new Set(LITERALS.map((u) => new URL(u).hostname))];
    const p = await proxy(hosts.map((host) => ({ host, schemes: ['http'] })));
    for (const literal of LITERALS) {
      const r = await call(p.url(`${literal}:${o.port}/v.mp4`));
      expect(r.status, literal).toBe(403);
      expect(r.json().code).toBe('DESTINATION_FORBIDDEN');
      expect(r.json().message).toContain('refused range');
    }
    expect(o.seen).toHaveLength(0);
    expect(await p.metric('keepsake_proxy_requests_total', 'outcome="refused"')).toBe(
      LITERALS.length,
    );
  });

  it('reaches the same origin once the entry permits loopback (the refusal above is the check)', async () => {
    const o = await origin();
    const p = await proxy([
      { host: '127.0.0.1', schemes: ['http'], allowPrivate: ['127.0.0.0/8'] },
      { host: '0.0.0.0', schemes: ['http'], allowPrivate: ['0.0.0.0/32'] },
    ]);
    for (const literal of ['http://0x7f000001', 'http://0.0.0.0']) {
      expect((await call(p.url(`${literal}:${o.port}/v.mp4`))).status, literal).toBe(200);
    }
    expect(o.seen).toHaveLength(2);
  });

  it('refuses a host name that resolves to a private address (rebinding), at connect', async () => {
    const o = await origin();
    const p = await proxy([{ host: 'media.example', schemes: ['http'] }], {
      resolve: async () => [{ address: '127.0.0.1', family: 4 }],
    });
    const r = await call(p.url(`http://media.example:${o.port}/v.mp4`));
    expect(r.status).toBe(403);
    expect(r.json().message).toContain('media.example resolves to 127.0.0.1');
    expect(o.seen).toHaveLength(0);
  });

  it('refuses a redirect to a private address; follows allowed redirects; stops after 10', async () => {
    const target = await origin();
    const o = await origin((req, res) => {
      const m = /^\/hop\/(\d+)$/.exec(req.url ?? '');
      if (m) {
        const n = Number(m[1]);
        return void res.writeHead(302, { location: n > 0 ? `/hop/${n - 1}` : '/v.mp4' }).end();
      }
      if (req.url === '/escape') {
        return void res
          .writeHead(301, { location: `http://[::ffff:127.0.0.1]:${target.port}/` })
          .end();
      }
      mediaHandler(req, res, 0);
    });
    const p = await proxy([loopback(o.port), { host: '[::ffff:7f00:1]', schemes: ['http'] }]);
    const followed = await call(p.url(`${o.origin}/hop/9`));
    expect(followed.status).toBe(200);
    expect(followed.body.equals(MEDIA)).toBe(true);
    const tooMany = await call(p.url(`${o.origin}/hop/10`));
    expect(tooMany.status).toBe(502);
    expect(tooMany.json().message).toContain('more than 10 redirects');
    const escape = await call(p.url(`${o.origin}/escape`));
    expect(escape.status).toBe(403);
    expect(target.seen).toHaveLength(0);
  });
});

describe('resilience and limits', () => {
  it('retries 5xx and network errors, then answers from the upstream', async () => {
    const o = await origin((req, res, n) => {
      if (n === 1) return void res.writeHead(500).end();
      if (n === 2) return void req.socket.destroy();
      mediaHandler(req, res, 0);
    });
    const p = await proxy([loopback(o.port)]);
    const r = await call(p.url(`${o.origin}/v.mp4`));
    expect(r.status).toBe(200);
    expect(o.seen).toHaveLength(3);
    expect(await p.metric('keepsake_proxy_retries_total')).toBe(2);
    expect(await p.metric('keepsake_proxy_upstream_errors_total', 'reason="status 500"')).toBe(1);
  });

  it('answers 502 when the retries or the retry budget run out', async () => {
    const o = await origin((_req, res) => void res.writeHead(503).end());
    const p = await proxy([loopback(o.port)], {
      maxAttempts: 10,
      retryBudget: { capacity: 2, ratio: 0, minPerSecond: 0 },
    });
    const first = await call(p.url(`${o.origin}/v.mp4`));
    expect(first.status).toBe(502);
    expect(first.json().message).toContain('retry budget is spent');
    expect(o.seen).toHaveLength(3);
    expect((await call(p.url(`${o.origin}/v.mp4`))).status).toBe(502);
    expect(o.seen).toHaveLength(4);
    expect(await p.metric('keepsake_proxy_requests_total', 'outcome="upstream_failed"')).toBe(2);
  });

  it('caps concurrent streams with 429 and Retry-After, freeing the slot when a stream ends', async () => {
    let release: (() => void) | undefined;
    const o = await origin((req, res) => {
      if (req.url === '/slow') {
        res.writeHead(200, { 'content-length': '6' });
        res.write('sl');
        release = () => res.end('ow!!');
        return;
      }
      mediaHandler(req, res, 0);
    });
    const p = await proxy([loopback(o.port)], {}, { maxConcurrent: 1, retryAfterSeconds: 3 });
    const slow = await httpRequest(p.url(`${o.origin}/slow`));
    expect(slow.statusCode).toBe(200);
    const busy = await call(p.url(`${o.origin}/v.mp4`));
    expect(busy.status).toBe(429);
    expect(busy.headers['retry-after']).toBe('3');
    expect(busy.json().code).toBe('RATE_LIMITED');
    release?.();
    expect(await slow.body.text()).toBe('slow!!');
    await expect.poll(() => p.metric('keepsake_proxy_active_streams')).toBe(0);
    expect((await call(p.url(`${o.origin}/v.mp4`))).status).toBe(200);
    expect(o.seen.map((r) => r.url)).toEqual(['/slow', '/v.mp4']);
  });

  it('aborts the upstream request when the client goes away', async () => {
    const o = await origin((_req, res: ServerResponse) => {
      res.writeHead(200, { 'content-length': String(1 << 30) });
      const timer = setInterval(() => res.write(Buffer.alloc(16 * 1024)), 5);
      res.on('close', () => clearInterval(timer));
    });
    const p = await proxy([loopback(o.port)]);
    const controller = new AbortController();
    const response = await httpRequest(p.url(`${o.origin}/endless`), { signal: controller.signal });
    await new Promise((resolve) => response.body.once('data', resolve));
    response.body.on('error', () => {});
    controller.abort();
    await expect.poll(() => o.cutShort, { timeout: 5000 }).toBe(1);
    await expect.poll(() => p.metric('keepsake_proxy_active_streams')).toBe(0);
    expect(await p.metric('keepsake_proxy_bytes_sent_total')).toBeGreaterThan(0);
  });

  it('aborts the upstream request when the client leaves before the upstream answers', async () => {
    const o = await origin(() => {});
    const p = await proxy([loopback(o.port)]);
    const controller = new AbortController();
    const pending = httpRequest(p.url(`${o.origin}/hang`), { signal: controller.signal });
    pending.catch(() => {});
    await expect.poll(() => o.seen.length).toBe(1);
    controller.abort();
    await expect.poll(() => o.cutShort, { timeout: 5000 }).toBe(1);
    await expect.poll(() => p.metric('keepsake_proxy_requests_total', 'outcome="aborted"')).toBe(1);
  });

  it('counts the bytes it sends', async () => {
    const o = await origin();
    const p = await proxy([loopback(o.port)]);
    await call(p.url(`${o.origin}/v.mp4`));
    await call(p.url(`${o.origin}/v.mp4`), { headers: { range: 'bytes=0-9' } });
    expect(await p.metric('keepsake_proxy_bytes_sent_total')).toBe(SIZE + 10);
    expect(await p.metric('keepsake_proxy_requests_total', 'outcome="ok"')).toBe(2);
  });
});

describe('shared secret', () => {
  it('requires the password as x-keepsake-api-password or Bearer when one is set', async () => {
    const o = await origin();
    const p = await proxy([loopback(o.port)], {}, { password: 'correct-horse' });
    const url = p.url(`${o.origin}/v.mp4`);
    for (const headers of [
      {},
      { 'x-keepsake-api-password': 'wrong' },
      { authorization: 'Bearer wrong' },
    ] as Array<Record<string, string>>) {
      const r = await call(url, { headers });
      expect(r.status, JSON.stringify(headers)).toBe(401);
      expect(r.json().code).toBe('UNAUTHORIZED');
    }
    // A query-string secret is not a thing: it would end up in logs and playlists.
    expect((await call(`${url}&password=correct-horse`)).status).toBe(401);
    expect((await call(url, { headers: { authorization: 'Bearer correct' } })).status).toBe(401);
    expect(o.seen).toHaveLength(0);
    const header = await call(url, { headers: { 'x-keepsake-api-password': 'correct-horse' } });
    expect(header.status).toBe(200);
    const bearer = await call(url, { headers: { authorization: 'Bearer correct-horse' } });
    expect(bearer.status).toBe(200);
    expect(o.seen).toHaveLength(2);
  });
});
