// The client address behind reverse proxies, as the server sees it: Fastify's trustProxy
// with trustProxyFor, on a real server on port 0. The walk must give what cidr.ts's
// clientAddress (the server's own walk before trustProxy) gives for the same headers.

import Fastify, { type FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { clientAddress, parseCidrs } from '../net/cidr';
import { clientAddressOf, trustProxyFor } from './serve-auth';

const PROXIES = ['127.0.0.1', '10.0.0.0/8'];

async function serverWith(trusted: string[]): Promise<{ app: FastifyInstance; url: string }> {
  const app = Fastify({ trustProxy: trustProxyFor(trusted) });
  app.get('/who', async (request) => ({ address: clientAddressOf(request) }));
  const url = await app.listen({ host: '127.0.0.1', port: 0 });
  return { app, url };
}

async function addressSeen(url: string, forwarded?: string): Promise<string> {
  const res = await fetch(`${url}/who`, {
    headers: forwarded === undefined ? {} : { 'x-forwarded-for': forwarded },
  });
  return ((await res.json()) as { address: string }).address;
}

describe('the client address behind trusted proxies', () => {
  let trusting: { app: FastifyInstance; url: string };
  let plain: { app: FastifyInstance; url: string };
  beforeAll(async () => {
    trusting = await serverWith(PROXIES);
    plain = await serverWith([]);
  });
  afterAll(async () => {
    await trusting.app.close();
    await plain.app.close();
  });

  it('ignores X-Forwarded-For from a peer that is not a trusted proxy', async () => {
    expect(await addressSeen(plain.url, '198.51.100.7')).toBe('127.0.0.1');
    expect(await addressSeen(plain.url)).toBe('127.0.0.1');
  });

  it.each([
    [undefined, '127.0.0.1'],
    ['198.51.100.7', '198.51.100.7'],
    ['198.51.100.7, 10.0.0.9, 10.0.0.3', '198.51.100.7'],
    ['10.0.0.5, 127.0.0.1, 198.51.100.7', '198.51.100.7'],
    ['garbage, 198.51.100.7', '198.51.100.7'],
    ['10.0.0.7, 10.0.0.3', '10.0.0.7'],
    ['198.51.100.7:443', '127.0.0.1'],
    ['198.51.100.7, unknown', '127.0.0.1'],
    ['::ffff:198.51.100.7', '198.51.100.7'],
    ['2001:DB8::7', '2001:db8::7'],
  ])(
    'from a trusted proxy, X-Forwarded-For %s is %s, as the walk of cidr.ts',
    async (xff, want) => {
      expect(await addressSeen(trusting.url, xff)).toBe(want);
      expect(clientAddress('127.0.0.1', xff, parseCidrs(PROXIES))).toBe(want);
    },
  );

  it('does not trust anything when no proxy is configured', () => {
    expect(trustProxyFor([])).toBe(false);
  });
});
