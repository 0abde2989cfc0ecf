// Fetching through a real SOCKS5 server and a real HTTP CONNECT proxy on loopback: the
// destination is resolved and checked here and the proxy gets the IP; a refused
// destination never reaches the proxy; a lying, garbling or cutting proxy is retried
// under the budget and then a 502; a wrong password is a clear error, never retried.

import { createServer, type Server } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import { createServer as createTcpServer, type AddressInfo, type Socket } from 'node:net';
import { inspect } from 'node:util';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { ERROR_CODES, isKeepsakeError } from '../core/errors';
import { selfSignedCert } from '../testing/self-signed';
import {
  startConnectProxy,
  startSocks5Server,
  type Socks5Behaviour,
  type TestProxy,
} from '../testing/upstream-proxies';
import { Allowlist } from './allowlist';
import { createUpstreamFetch, type UpstreamFetcher } from './upstream-fetch';
import { parseUpstreamProxy } from './upstream-proxy';

const BODY = Buffer.from(Array.from({ length: 50_000 }, (_, i) => i % 251));
const media = selfSignedCert('media.test');
const other = selfSignedCert('elsewhere.test');

let plain: Server;
let plainPort: number;
let secure: Server;
let securePort: number;
let wrongTls: Server;
let wrongTlsPort: number;
const open: { close(): Promise<void> }[] = [];

async function listen(server: Server): Promise<number> {
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return (server.address() as AddressInfo).port;
}

const answer: Parameters<typeof createServer>[1] = (_req, res) => {
  res.writeHead(200, { 'content-type': 'video/mp2t', 'content-length': String(BODY.length) });
  res.end(BODY);
};

beforeAll(async () => {
  plain = createServer(answer);
  plainPort = await listen(plain);
  secure = createHttpsServer({ cert: media.certPem, key: media.keyPem }, answer);
  securePort = await listen(secure);
  wrongTls = createHttpsServer({ cert: other.certPem, key: other.keyPem }, answer);
  wrongTlsPort = await listen(wrongTls);
});

afterAll(async () => {
  for (const s of [plain, secure, wrongTls]) s.closeAllConnections();
  await Promise.all([plain, secure, wrongTls].map((s) => new Promise((r) => s.close(r))));
});

afterEach(async () => {
  await Promise.all(open.splice(0).map((o) => o.close()));
});

/** media.test resolves to 127.0.0.1, which the entry opens explicitly. */
function fetcherVia(
  proxyUrl: string,
  extra: { allowPrivate?: string[]; capacity?: number } = {},
): UpstreamFetcher {
  const fetcher = createUpstreamFetch({
    allowlist: new Allowlist([
      {
        host: 'media.test',
        schemes: ['http', 'https'],
        allowPrivate: extra.allowPrivate ?? ['127.0.0.1/32'],
      },
    ]),
    resolve: async () => [{ address: '127.0.0.1', family: 4 }],
    proxy: parseUpstreamProxy(proxyUrl),
    ca: [media.certPem, other.certPem],
    backoff: { baseMs: 1, maxMs: 5 },
    retryBudget: { capacity: extra.capacity ?? 10, minPerSecond: 0 },
  });
  open.push(fetcher);
  return fetcher;
}

async function socks(behave?: (n: number) => Socks5Behaviour): Promise<TestProxy> {
  const server = await startSocks5Server({ username: 'gran', password: 's3cret:pw', behave });
  open.push(server);
  return server;
}

const SOCKS = (port: number, password = 's3cret%3Apw') =>
  `socks5://gran:${password}@127.0.0.1:${port}`;

async function get(fetcher: UpstreamFetcher, url: string) {
  const res = await fetcher({ url: new URL(url), method: 'GET', headers: {} });
  const chunks: Buffer[] = [];
  for await (const chunk of res.body) chunks.push(chunk as Buffer);
  return { status: res.status, body: Buffer.concat(chunks) };
}

async function failure(promise: Promise<unknown>) {
  const err = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  if (!isKeepsakeError(err)) throw new Error(`expected a KeepsakeError, got ${String(err)}`);
  return { code: err.code, status: ERROR_CODES[err.code].status, message: err.message };
}

describe('parseUpstreamProxy', () => {
  it('keeps the password out of labels, JSON and inspection', () => {
    const proxy = parseUpstreamProxy('socks5://gran:s3cret%3Apw@127.0.0.1:1080');
    expect(proxy).toMatchObject({ kind: 'socks5', host: '127.0.0.1', port: 1080 });
    expect(proxy.password).toBe('s3cret:pw');
    expect(proxy.label).toBe('socks5://gran@127.0.0.1:1080');
    expect(JSON.stringify(proxy)).not.toContain('s3cret');
    expect(inspect(proxy)).not.toContain('s3cret');
  });

  it('refuses socks5h, other schemes and a missing port without echoing the password', () => {
    for (const [text, why] of [
      ['socks5h://u:hunter2@proxy.example:1080', /use socks5:\/\//],
      ['https://u:hunter2@proxy.example:443', /is not socks5/],
      ['socks5://u:hunter2@proxy.example', /needs a host and a port/],
    ] as const) {
      let message = '';
      try {
        parseUpstreamProxy(text);
      } catch (err) {
        message = (err as Error).message;
      }
      expect(message).toMatch(why);
      expect(message).not.toContain('hunter2');
    }
  });
});

describe('through SOCKS5', () => {
  it('fetches with username/password auth, handing the proxy the checked IP', async () => {
    const proxy = await socks();
    const res = await get(fetcherVia(SOCKS(proxy.port)), `http://media.test:${plainPort}/a.ts`);
    expect(res.status).toBe(200);
    expect(res.body.equals(BODY)).toBe(true);
    expect(proxy.targets).toEqual([{ host: '127.0.0.1', port: plainPort, atyp: 1 }]);
  });

  it('checks the TLS certificate against the name, through the tunnel', async () => {
    const proxy = await socks();
    const res = await get(fetchVia(proxy), `https://media.test:${securePort}/a.ts`);
    expect(res.body.equals(BODY)).toBe(true);
    expect(proxy.targets[0]).toEqual({ host: '127.0.0.1', port: securePort, atyp: 1 });
  });

  it('refuses a private destination before the proxy is asked', async () => {
    const proxy = await socks();
    const fetcher = fetcherVia(SOCKS(proxy.port), { allowPrivate: [] });
    const err = await failure(get(fetcher, `http://media.test:${plainPort}/a.ts`));
    expect(err).toMatchObject({ code: 'DESTINATION_FORBIDDEN', status: 403 });
    expect(err.message).toMatch(/loopback/);
    expect(proxy.connections).toBe(0);
  });

  it('says clearly that the password was refused, and does not retry', async () => {
    const proxy = await socks();
    const fetcher = fetcherVia(SOCKS(proxy.port, 'wrong'));
    const err = await failure(get(fetcher, `http://media.test:${plainPort}/a.ts`));
    expect(err).toMatchObject({ code: 'UPSTREAM_FAILED', status: 502 });
    expect(err.message).toBe(
      'upstream proxy socks5://gran@127.0.0.1:' + proxy.port + ' refused the user name or password',
    );
    expect(proxy.connections).toBe(1);
  });

  it('retries a garbled reply, then gives a 502 after the attempts', async () => {
    const once = await socks((n) => (n === 1 ? { kind: 'garble' } : { kind: 'honest' }));
    const res = await get(fetcherVia(SOCKS(once.port)), `http://media.test:${plainPort}/a.ts`);
    expect(res.body.equals(BODY)).toBe(true);
    expect(once.connections).toBe(2);

    const always = await socks(() => ({ kind: 'garble' }));
    const err = await failure(
      get(fetcherVia(SOCKS(always.port)), `http://media.test:${plainPort}/a.ts`),
    );
    expect(err).toMatchObject({ code: 'UPSTREAM_FAILED', status: 502 });
    expect(err.message).toMatch(/UPSTREAM_PROXY_ERROR\) after 3 attempts/);
    expect(always.connections).toBe(3);
  });

  it('retries a tunnel cut mid-response', async () => {
    const proxy = await socks((n) =>
      n === 1 ? { kind: 'closeAfter', bytes: 30 } : { kind: 'honest' },
    );
    const res = await get(fetcherVia(SOCKS(proxy.port)), `http://media.test:${plainPort}/a.ts`);
    expect(res.body.equals(BODY)).toBe(true);
    expect(proxy.connections).toBe(2);
  });

  it('catches a proxy that reached another host (TLS) and stops when the budget is spent', async () => {
    const liar = await socks(() => ({ kind: 'redirect', host: '127.0.0.1', port: wrongTlsPort }));
    const err = await failure(
      get(fetcherVia(SOCKS(liar.port), { capacity: 0 }), `https://media.test:${securePort}/a`),
    );
    expect(err).toMatchObject({ code: 'UPSTREAM_FAILED', status: 502 });
    expect(err.message).toMatch(/the retry budget is spent/);
    expect(liar.connections).toBe(1);
    expect(liar.targets[0]).toMatchObject({ host: '127.0.0.1', port: securePort });
  });

  function fetchVia(proxy: TestProxy) {
    return fetcherVia(SOCKS(proxy.port));
  }
});

describe('the connect deadline', () => {
  it('closes a connection to the proxy that opened after the deadline passed', async () => {
    // The name lookup outlasts the connect deadline; the proxy connection opened after it
    // has no one to hand it to and must be closed, not left open for the process's life.
    const held = new Set<Socket>();
    let accepted = 0;
    const silent = createTcpServer((socket) => {
      accepted += 1;
      held.add(socket);
      socket.on('error', () => undefined);
      socket.on('close', () => held.delete(socket));
    });
    const port = await listen(silent as unknown as Server);
    open.push({
      close: () =>
        new Promise<void>((resolve) => {
          for (const s of held) s.destroy();
          silent.close(() => resolve());
        }),
    });
    const fetcher = createUpstreamFetch({
      allowlist: new Allowlist([
        { host: 'media.test', schemes: ['http'], allowPrivate: ['127.0.0.1/32'] },
      ]),
      resolve: async () => {
        await new Promise((r) => setTimeout(r, 100));
        return [{ address: '127.0.0.1', family: 4 }];
      },
      proxy: parseUpstreamProxy(`socks5://127.0.0.1:${port}`),
      timeouts: { connectMs: 20 },
      maxAttempts: 1,
    });
    open.push(fetcher);
    const err = await failure(get(fetcher, `http://media.test:${plainPort}/a.ts`));
    expect(err.code).toBe('UPSTREAM_FAILED');
    await expect.poll(() => accepted, { timeout: 10_000 }).toBe(1);
    await expect.poll(() => held.size, { timeout: 10_000 }).toBe(0);
  });
});

describe('through an HTTP CONNECT proxy', () => {
  it('fetches with Basic auth, asking for the checked IP', async () => {
    const proxy = await startConnectProxy({ credentials: 'gran:pw' });
    open.push(proxy);
    const fetcher = fetcherVia(`http://gran:pw@127.0.0.1:${proxy.port}`);
    const res = await get(fetcher, `https://media.test:${securePort}/a.ts`);
    expect(res.body.equals(BODY)).toBe(true);
    expect(proxy.targets).toEqual([{ host: '127.0.0.1', port: securePort, atyp: 0 }]);
  });

  it('reports a 407 as a refused password', async () => {
    const proxy = await startConnectProxy({ credentials: 'gran:pw' });
    open.push(proxy);
    const fetcher = fetcherVia(`http://gran:nope@127.0.0.1:${proxy.port}`);
    const err = await failure(get(fetcher, `http://media.test:${plainPort}/a.ts`));
    expect(err.message).toMatch(/refused the user name or password/);
    expect(err.message).not.toContain('nope');
  });
});
