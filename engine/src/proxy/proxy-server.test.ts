// The routed proxy as `keepsake proxy` runs it: a routes file on disk, a loopback
// listener, the checked fetcher per route, and a reload that swaps routes in place.

import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { request } from 'undici';
import { afterEach, describe, expect, it } from 'vitest';
import { freshDir } from '../testing/tmp';
import { startOrigin } from './fixture-origin';
import { startProxyServer } from './proxy-server';

const cleanup: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const c of cleanup.splice(0).reverse()) await c();
});

const routesYaml = (origin: string, privateCidrs: string[]) => `routes:
  - hosts: ['tv.test']
    upstream: ${origin}
    allow:
      paths: ['/hls/**']
      privateCidrs: ${JSON.stringify(privateCidrs)}
`;

describe('keepsake proxy (routed)', () => {
  it('serves a route through the checked fetcher, rewriting playlists, and reloads', async () => {
    const origin = await startOrigin((req, res) => {
      if (req.url === '/hls/index.m3u8') {
        res.setHeader('content-type', 'application/vnd.apple.mpegurl');
        res.end('#EXTM3U\n#EXTINF:2,\nseg0.ts\n#EXT-X-ENDLIST\n');
      } else res.end(`bytes of ${req.url}`);
    });
    cleanup.push(() => origin.close());
    const file = join(await freshDir(), 'routes.yaml');
    // The origin is on loopback: without an explicit permission the route cannot reach it.
    await writeFile(file, routesYaml(origin.origin, []));
    const proxy = await startProxyServer({ routesFile: file, logError: () => undefined });
    cleanup.push(() => proxy.close());
    // fetch() may not set Host; undici's request may.
    const get = async (path: string, host = 'tv.test') => {
      const res = await request(`${proxy.url}${path}`, { headers: { host } });
      const text = await res.body.text();
      return {
        status: res.statusCode,
        text: async () => text,
        json: async () => JSON.parse(text) as unknown,
      };
    };

    const refused = await get('/hls/index.m3u8');
    expect(refused.status).toBe(403);
    expect(((await refused.json()) as { code: string }).code).toBe('DESTINATION_FORBIDDEN');
    expect(origin.seen).toHaveLength(0);

    await writeFile(file, routesYaml(origin.origin, ['127.0.0.1/32']));
    await proxy.holder.reload();
    const playlist = await (await get('/hls/index.m3u8')).text();
    expect(playlist).toContain('/hls/seg0.ts');
    expect(await (await get('/hls/seg0.ts')).text()).toBe('bytes of /hls/seg0.ts');
    // Outside the route's paths or for another host: refused.
    expect((await get('/admin')).status).toBe(403);
    expect((await get('/hls/seg0.ts', 'other.test')).status).toBe(403);
  });

  it('refuses to listen beyond loopback', async () => {
    const file = join(await freshDir(), 'routes.yaml');
    await writeFile(file, routesYaml('http://127.0.0.1:1', []));
    await expect(startProxyServer({ routesFile: file, host: '0.0.0.0' })).rejects.toThrow(
      /loopback only/,
    );
  });
});
