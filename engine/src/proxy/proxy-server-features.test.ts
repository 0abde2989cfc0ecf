// `keepsake proxy` with a route's upstream proxy and CORS settings, as it runs them: a
// routes file on disk, a real SOCKS5 server and a real origin on loopback, and requests
// with the Origin and preflight headers a browser sends.

import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { request } from 'undici';
import { afterEach, describe, expect, it } from 'vitest';
import { freshDir } from '../testing/tmp';
import { startSocks5Server, type Socks5Behaviour } from '../testing/upstream-proxies';
import { startOrigin } from './fixture-origin';
import { startProxyServer } from './proxy-server';
import { parseRoutes } from './routes-config';

const cleanup: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const c of cleanup.splice(0).reverse()) await c();
});

async function origin() {
  const o = await startOrigin((req, res) => {
    res.setHeader('content-type', 'video/mp2t');
    res.setHeader('access-control-allow-origin', 'https://evil.example');
    res.end(`bytes of ${req.url}`);
  });
  cleanup.push(() => o.close());
  return o;
}

async function proxyWith(yaml: string, logged: string[] = []) {
  const file = join(await freshDir(), 'routes.yaml');
  await writeFile(file, yaml);
  const proxy = await startProxyServer({
    routesFile: file,
    logError: (e) => logged.push(String(e)),
  });
  cleanup.push(() => proxy.close());
  return proxy;
}

async function call(
  url: string,
  headers: Record<string, string>,
  method: 'GET' | 'OPTIONS' = 'GET',
) {
  const res = await request(url, { method, headers: { host: 'tv.test', ...headers } });
  const text = await res.body.text();
  return { status: res.statusCode, headers: res.headers, text };
}

describe('a route through a SOCKS5 proxy', () => {
  const route = (upstream: string, socksPort: number, cidrs: string[], pw = 'pw') => `routes:
  - hosts: ['tv.test']
    upstream: ${upstream}
    upstreamProxy: socks5://gran:${pw}@127.0.0.1:${socksPort}
    allow:
      privateCidrs: ${JSON.stringify(cidrs)}
`;

  async function socks(behave?: (n: number) => Socks5Behaviour) {
    const s = await startSocks5Server({ username: 'gran', password: 'pw', behave });
    cleanup.push(() => s.close());
    return s;
  }

  it('fetches through the proxy and keeps the destination check', async () => {
    const o = await origin();
    const s = await socks();
    const open = await proxyWith(route(o.origin, s.port, ['127.0.0.1/32']));
    const ok = await call(`${open.url}/a.ts`, {});
    expect(ok).toMatchObject({ status: 200, text: 'bytes of /a.ts' });
    expect(s.targets).toEqual([
      { host: '127.0.0.1', port: Number(new URL(o.origin).port), atyp: 1 },
    ]);

    const closed = await proxyWith(route(o.origin, s.port, []));
    const refused = await call(`${closed.url}/a.ts`, {});
    expect(refused.status).toBe(403);
    expect(JSON.parse(refused.text)).toMatchObject({ code: 'DESTINATION_FORBIDDEN' });
    expect(s.connections).toBe(1);
  });

  it('retries a proxy that sent it elsewhere or cut the tunnel, under the budget, then 502', async () => {
    const o = await origin();
    const flaky = await socks((n) =>
      n === 1 ? { kind: 'redirect', host: '127.0.0.1', port: 1 } : { kind: 'honest' },
    );
    const first = await proxyWith(route(o.origin, flaky.port, ['127.0.0.1/32']));
    expect(await call(`${first.url}/b.ts`, {})).toMatchObject({ status: 200 });
    expect(flaky.connections).toBe(2);

    const broken = await socks(() => ({ kind: 'closeAfter', bytes: 10 }));
    const second = await proxyWith(route(o.origin, broken.port, ['127.0.0.1/32']));
    const failed = await call(`${second.url}/b.ts`, {});
    expect(failed.status).toBe(502);
    expect(JSON.parse(failed.text)).toMatchObject({ code: 'UPSTREAM_FAILED' });
    expect(broken.connections).toBe(3);
  });

  it('answers 502 with a clear message for a wrong password, which is never logged', async () => {
    const o = await origin();
    const s = await socks();
    const logged: string[] = [];
    const open = await proxyWith(route(o.origin, s.port, ['127.0.0.1/32'], 'hunter2'), logged);
    const res = await call(`${open.url}/a.ts`, {});
    expect(res.status).toBe(502);
    expect(JSON.parse(res.text).message).toMatch(/refused the user name or password/);
    expect(res.text).not.toContain('hunter2');
    expect(logged.join('\n')).not.toContain('hunter2');
  });
});

describe('CORS per route', () => {
  const route = (upstream: string, cors: string) => `routes:
  - hosts: ['tv.test']
    upstream: ${upstream}
    allow:
      privateCidrs: ['127.0.0.1/32']
${cors}`;

  it('answers a preflight and marks answers for listed origins only', async () => {
    const o = await origin();
    const open = await proxyWith(
      route(
        o.origin,
        `    cors:
      origins: ['https://player.example']
      headers: [range, x-player]
      credentials: true
`,
      ),
    );
    const pre = await call(
      `${open.url}/a.ts`,
      {
        origin: 'https://player.example',
        'access-control-request-method': 'GET',
        'access-control-request-headers': 'Range, X-Player',
      },
      'OPTIONS',
    );
    expect(pre.status).toBe(204);
    expect(pre.headers).toMatchObject({
      'access-control-allow-origin': 'https://player.example',
      'access-control-allow-methods': 'GET, HEAD',
      'access-control-allow-headers': 'range, x-player',
      'access-control-allow-credentials': 'true',
      'access-control-max-age': '600',
      vary: 'origin',
    });
    expect(o.seen).toHaveLength(0);

    const get = await call(`${open.url}/a.ts`, { origin: 'https://player.example' });
    expect(get.status).toBe(200);
    expect(get.headers['access-control-allow-origin']).toBe('https://player.example');
    expect(get.headers['access-control-expose-headers']).toContain('content-range');

    // Another site: no permission, and the upstream's own CORS header never passes.
    const other = await call(`${open.url}/a.ts`, { origin: 'https://evil.example' });
    expect(other.status).toBe(200);
    expect(other.headers['access-control-allow-origin']).toBeUndefined();
    for (const [headers, why] of [
      [{ origin: 'https://evil.example', 'access-control-request-method': 'GET' }, /origin/],
      [{ origin: 'https://player.example', 'access-control-request-method': 'PUT' }, /PUT/],
      [
        {
          origin: 'https://player.example',
          'access-control-request-method': 'GET',
          'access-control-request-headers': 'authorization',
        },
        /authorization/,
      ],
    ] as const) {
      const refused = await call(`${open.url}/a.ts`, headers, 'OPTIONS');
      expect(refused.status).toBe(403);
      expect(refused.headers['access-control-allow-origin']).toBeUndefined();
      expect(JSON.parse(refused.text).message).toMatch(why);
    }
  });

  it('allows any origin without credentials, and no preflight on a route without cors', async () => {
    const o = await origin();
    const open = await proxyWith(route(o.origin, `    cors:\n      origins: ['*']\n`));
    const get = await call(`${open.url}/a.ts`, { origin: 'https://any.example' });
    expect(get.headers['access-control-allow-origin']).toBe('*');
    expect(get.headers['access-control-allow-credentials']).toBeUndefined();

    const none = await proxyWith(route(o.origin, ''));
    const pre = await call(
      `${none.url}/a.ts`,
      { origin: 'https://any.example', 'access-control-request-method': 'GET' },
      'OPTIONS',
    );
    expect(pre.status).toBe(403);
    expect(JSON.parse(pre.text).message).toMatch(/no cors settings/);
  });

  it('refuses * with credentials, and bad origins and proxies, when the file is read', () => {
    const read = (extra: string) => () =>
      parseRoutes(`routes:\n  - hosts: [tv.test]\n    upstream: https://o.example\n${extra}`);
    expect(read(`    cors: { origins: ['*'], credentials: true }\n`)).toThrow(
      /line 4: routes\[0\]\.cors\.origins cannot hold "\*" when credentials is true/,
    );
    expect(read(`    cors: { origins: ['https://a.example/path'] }\n`)).toThrow(
      /cors\.origins\[0\] "https:\/\/a\.example\/path" is not "\*" or an origin/,
    );
    expect(read(`    cors: { origins: [] }\n`)).toThrow(/cors\.origins/);
    // Accepted before, and never matched anything.
    expect(read(`    cors: { origins: ['https://*.p.example'] }\n`)).toThrow(
      /cors\.origins\[0\] "https:\/\/\*\.p\.example": patterns are not matched, list each origin/,
    );
    expect(read(`    cors: { origins: ['*'], headers: ['*'] }\n`)).toThrow(
      /cors\.headers\[0\] "\*": list the header names, such as range/,
    );
    expect(read(`    upstreamProxy: socks5h://u:hunter2@p.example:1080\n`)).toThrow(
      /routes\[0\]\.upstreamProxy socks5h:\/\/p\.example:1080: use socks5:\/\//,
    );
    expect(read(`    upstreamProxy: socks5://u:hunter2@p.example:1080\n`)).not.toThrow();
    expect(read(`    upstreamProxy: ftp://u:hunter2@p.example:1080\n`)).toThrow(
      /^(?!.*hunter2).*upstreamProxy ftp:\/\/p\.example:1080 is not socks5/,
    );
  });
});
