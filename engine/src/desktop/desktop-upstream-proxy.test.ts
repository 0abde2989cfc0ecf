// The desktop's direct proxy (/proxy/stream) through the `upstreamProxy` setting: a real
// SOCKS5 server on loopback carries the request, the allowlist still decides, and a bad
// setting stops the engine naming it without printing the password.

import { afterEach, describe, expect, it } from 'vitest';
import { patternBytes, startOrigin } from '../proxy/fixture-origin';
import { startTestDesktop as desktop } from '../testing/desktop';
import { startSocks5Server } from '../testing/upstream-proxies';

const cleanup: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const c of cleanup.splice(0).reverse()) await c();
});

describe('desktop /proxy/stream through upstreamProxy', () => {
  it('fetches through the SOCKS5 server, which is given the checked IP', async () => {
    const origin = await startOrigin((_req, res) => res.end(patternBytes(2000)));
    cleanup.push(() => origin.close());
    const socks = await startSocks5Server({ username: 'gran', password: 'pw' });
    cleanup.push(() => socks.close());
    const engine = await desktop({
      proxyAllow: [
        {
          host: '127.0.0.1',
          schemes: ['http'],
          paths: ['/media/**'],
          allowPrivate: ['127.0.0.0/8'],
        },
      ],
      upstreamProxy: `socks5://gran:pw@127.0.0.1:${socks.port}`,
    });
    cleanup.push(() => engine.close());
    const auth = { headers: { authorization: `Bearer ${engine.token}` } };
    const proxied = (path: string) =>
      `${engine.url}/proxy/stream?d=${encodeURIComponent(origin.origin + path)}`;

    const ok = await fetch(proxied('/media/a.ts'), auth);
    expect(ok.status).toBe(200);
    expect(Buffer.from(await ok.arrayBuffer()).equals(patternBytes(2000))).toBe(true);
    expect(socks.targets).toEqual([
      { host: '127.0.0.1', port: Number(new URL(origin.origin).port), atyp: 1 },
    ]);
    const refused = await fetch(proxied('/private/b.ts'), auth);
    expect(refused.status).toBe(403);
    expect(socks.connections).toBe(1);
  });

  it('refuses a bad setting, naming it and not the password', async () => {
    const err = await desktop({ upstreamProxy: 'socks5h://gran:hunter2@proxy.example:1080' }).then(
      () => undefined,
      (e: unknown) => e as Error,
    );
    expect(err?.message).toMatch(
      /setting "upstreamProxy": socks5h:\/\/proxy\.example:1080: use socks5:\/\//,
    );
    expect(err?.message).not.toContain('hunter2');
  });
});
