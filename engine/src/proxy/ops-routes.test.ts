import { createHash } from 'node:crypto';
import Fastify from 'fastify';
import { request } from 'undici';
import { afterEach, describe, expect, it } from 'vitest';
import { patternBytes } from './fixture-origin';
import { SPEEDTEST_BYTES, opsRoutes, speedtestBody } from './ops-routes';
import type { OpsRoutesOptions } from './ops-routes';

const cleanup: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const fn of cleanup.splice(0)) await fn();
});

async function server(options?: OpsRoutesOptions): Promise<string> {
  const app = Fastify({ logger: false });
  await app.register(opsRoutes(options));
  await app.listen({ host: '127.0.0.1', port: 0 });
  cleanup.push(() => app.close());
  const address = app.server.address();
  return `http://127.0.0.1:${typeof address === 'object' && address ? address.port : 0}`;
}

async function ip(base: string, xff?: string): Promise<string | null> {
  const r = await request(`${base}/ip`, { headers: xff ? { 'x-forwarded-for': xff } : {} });
  expect(r.headers['cache-control']).toBe('no-store');
  return ((await r.body.json()) as { ip: string | null }).ip;
}

const sha256 = (b: Buffer) => createHash('sha256').update(b).digest('hex');

describe('/ip', () => {
  it('reports the socket peer and ignores X-Forwarded-For from an untrusted peer', async () => {
    const base = await server();
    expect(await ip(base)).toBe('127.0.0.1');
    expect(await ip(base, '203.0.113.9')).toBe('127.0.0.1');
  });

  it('believes X-Forwarded-For only up to the first untrusted hop', async () => {
    const base = await server({ trustedProxies: ['127.0.0.1', '10.0.0.0/8'] });
    expect(await ip(base, '203.0.113.9')).toBe('203.0.113.9');
    expect(await ip(base, '198.51.100.1, 203.0.113.9, 10.1.2.3')).toBe('203.0.113.9');
    expect(await ip(base, 'not-an-ip')).toBe('127.0.0.1');
  });
});

describe('/speedtest', () => {
  it('sends 8 MiB of a fixed pattern with no-store and a Content-Length', async () => {
    const base = await server();
    const expected = sha256(patternBytes(SPEEDTEST_BYTES));
    for (let i = 0; i < 2; i += 1) {
      const r = await request(`${base}/speedtest`);
      expect(r.statusCode).toBe(200);
      expect(r.headers['content-length']).toBe(String(SPEEDTEST_BYTES));
      expect(r.headers['cache-control']).toBe('no-store');
      expect(r.headers['content-type']).toBe('application/octet-stream');
      const body = Buffer.from(await r.body.arrayBuffer());
      expect(body.length).toBe(SPEEDTEST_BYTES);
      expect(sha256(body)).toBe(expected);
    }
  });

  it('joins its blocks without a seam at any size', async () => {
    for (const size of [0, 1, 250, 251, 64256, 64257, 200_000]) {
      const chunks: Buffer[] = [];
      for await (const chunk of speedtestBody(size)) chunks.push(chunk as Buffer);
      expect(Buffer.concat(chunks).equals(patternBytes(size)), String(size)).toBe(true);
    }
  });
});
