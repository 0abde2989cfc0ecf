// The routed proxy (`keepsake proxy`, a real server on port 0) against a hostile origin,
// with the real FFmpeg as the player. The "foreign" address is 127.0.0.2: loopback, so
// nothing leaves the machine, but outside the route (which allows 127.0.0.1 only), so a
// connection to it is exactly the bypass the rewriter must prevent.

import { execFile } from 'node:child_process';
import { readFile, writeFile } from 'node:fs/promises';
import { createServer, type AddressInfo, type Server } from 'node:net';
import { join } from 'node:path';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { request } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { locateFfmpeg } from '../ffmpeg/locate';
import { makeClip } from '../testing/media';
import { freshDir } from '../testing/tmp';
import { startOrigin, type FixtureOrigin } from './fixture-origin';
import { startProxyServer, type ProxyServer } from './proxy-server';

const M3U8 = 'application/vnd.apple.mpegurl';

let origin: FixtureOrigin;
let proxy: ProxyServer;
let ffmpeg: string;
let segment: Buffer;
/** Connections that reached the foreign address, by anyone. */
let foreignConnections = 0;
let foreign: Server;
let foreignUrl: string;
/** Playlists the origin serves, by path. */
const playlists = new Map<string, string>();

beforeAll(async () => {
  ffmpeg = (await locateFfmpeg()).ffmpegPath;
  const dir = await freshDir();
  segment = await readFile(
    await makeClip(dir, 'seg0.ts', { seconds: 1, size: '64x48', audio: false, rate: 10 }),
  );

  foreign = createServer((socket) => {
    foreignConnections++;
    socket.destroy();
  });
  await new Promise<void>((resolve) => foreign.listen(0, '127.0.0.2', resolve));
  foreignUrl = `http://127.0.0.2:${(foreign.address() as AddressInfo).port}/seg.ts`;

  origin = await startOrigin((req, res) => {
    const path = (req.url ?? '').split('?')[0]!;
    const playlist = playlists.get(path);
    if (playlist !== undefined) {
      res.setHeader('content-type', M3U8);
      res.end(playlist);
    } else if (path === '/hls/seg0.ts') {
      res.setHeader('content-type', 'video/mp2t');
      res.end(segment);
    } else {
      res.statusCode = 404;
      res.end();
    }
  });
  const routes = join(dir, 'routes.yaml');
  await writeFile(
    routes,
    [
      'routes:',
      "  - hosts: ['127.0.0.1']",
      `    upstream: ${origin.origin}`,
      '    allow:',
      "      paths: ['/hls/**']",
      "      privateCidrs: ['127.0.0.1/32']",
      '',
    ].join('\n'),
  );
  proxy = await startProxyServer({ routesFile: routes, logError: () => undefined });
});

afterAll(async () => {
  await proxy?.close();
  await origin?.close();
  await new Promise((resolve) => foreign?.close(resolve));
});

/** A VOD playlist of one segment line, as given (separators and all). */
const vod = (segmentLines: string) =>
  `#EXTM3U\n#EXT-X-VERSION:3\n#EXT-X-TARGETDURATION:2\n#EXT-X-MEDIA-SEQUENCE:0\n${segmentLines}\n#EXT-X-ENDLIST\n`;

/** FFmpeg plays `url` to the null muxer; its exit code and what it said. */
function play(url: string): Promise<{ code: number; stderr: string }> {
  return new Promise((resolve) => {
    execFile(
      ffmpeg,
      [
        '-hide_banner',
        '-nostdin',
        '-v',
        'error',
        '-rw_timeout',
        '5000000',
        '-i',
        url,
        '-f',
        'null',
        '-',
      ],
      { timeout: 30_000 },
      (err, _stdout, stderr) => {
        const code = err ? (typeof err.code === 'number' ? err.code : 1) : 0;
        resolve({ code, stderr });
      },
    );
  });
}

describe('routed proxy against a hostile origin, played by FFmpeg', () => {
  // A foreign URI where FFmpeg ends a line and a LF-only rewriter does not.
  const hidden: [string, () => string][] = [
    ['a bare CR inside a comment', () => `#EXTINF:1.0,\n# note\r${foreignUrl}`],
    ['a bare CR after a tag', () => `#EXTINF:1.0,\r${foreignUrl}`],
    ['a NUL inside a comment', () => `#EXTINF:1.0,\n# note\0${foreignUrl}`],
  ];

  it.each(hidden)(
    '%s: FFmpeg fetching directly does reach the foreign address',
    async (name, lines) => {
      // The control: the playlist really is hostile to FFmpeg when nothing rewrites it.
      const path = `/hls/direct-${hidden.findIndex(([n]) => n === name)}.m3u8`;
      playlists.set(path, vod(lines()));
      const before = foreignConnections;
      await play(`${origin.origin}${path}`);
      expect(foreignConnections).toBeGreaterThan(before);
    },
  );

  it.each(hidden)(
    '%s: through the proxy, no connection goes to the foreign address',
    async (name, lines) => {
      const path = `/hls/hostile-${hidden.findIndex(([n]) => n === name)}.m3u8`;
      playlists.set(path, vod(lines()));
      const before = foreignConnections;
      const played = await play(`${proxy.url}${path}`);
      expect(foreignConnections).toBe(before);
      expect(played.code).not.toBe(0);
      const res = await request(`${proxy.url}${path}`);
      const body = (await res.body.json()) as { code: string; message: string };
      expect([res.statusCode, body.code]).toEqual([502, 'PLAYLIST_REFUSED']);
      expect(body.message).toMatch(/line \d+: /);
    },
  );

  it('plays a URI hidden behind a CR on the route, rewritten through the proxy', async () => {
    playlists.set('/hls/hidden-ok.m3u8', vod(`#EXTINF:1.0,\n# note\r${origin.origin}/hls/seg0.ts`));
    const res = await request(`${proxy.url}/hls/hidden-ok.m3u8`);
    const text = await res.body.text();
    expect(res.statusCode).toBe(200);
    expect(text).toContain('# note\r/hls/seg0.ts\n');
    expect(text).not.toContain(origin.origin);
    const seen = origin.seen.length;
    const played = await play(`${proxy.url}/hls/hidden-ok.m3u8`);
    expect(played).toEqual({ code: 0, stderr: '' });
    // FFmpeg got the segment, and through the proxy: the origin saw the request.
    expect(origin.seen.slice(seen).map((r) => r.url)).toContain('/hls/seg0.ts');
  });

  it('refuses an unknown tag naming the foreign address', async () => {
    playlists.set(
      '/hls/prefetch.m3u8',
      vod(`#EXTINF:1.0,\nseg0.ts\n#EXT-X-PREFETCH:${foreignUrl}`),
    );
    playlists.set(
      '/hls/prefetch-attr.m3u8',
      vod(`#EXTINF:1.0,\nseg0.ts\n#EXT-X-PREFETCH:URI="${foreignUrl}"`),
    );
    for (const path of ['/hls/prefetch.m3u8', '/hls/prefetch-attr.m3u8']) {
      const res = await request(`${proxy.url}${path}`);
      const body = (await res.body.json()) as { code: string; message: string };
      expect([res.statusCode, body.code], path).toEqual([502, 'PLAYLIST_REFUSED']);
      expect(body.message, path).toMatch(/line 7: /);
    }
  });
});

describe('routed proxy rewriting a huge playlist', () => {
  it('keeps answering other requests promptly while it rewrites', async () => {
    // Just under the default cap of 8 MiB: 440,000 segment lines, each rewritten.
    const entry = '#EXTINF:1,\nseg0.ts\n';
    const count = Math.floor((8 * 1024 * 1024 - 64) / entry.length);
    playlists.set('/hls/huge.m3u8', `#EXTM3U\n${entry.repeat(count)}#EXT-X-ENDLIST\n`);

    const delay = monitorEventLoopDelay({ resolution: 5 });
    delay.enable();
    const started = performance.now();
    const huge = request(`${proxy.url}/hls/huge.m3u8`).then(async (res) => ({
      status: res.statusCode,
      length: (await res.body.text()).length,
      ms: performance.now() - started,
    }));
    let done = false;
    void huge.finally(() => (done = true));
    // Small requests through the same proxy while the huge one is in progress.
    const latencies: number[] = [];
    while (!done) {
      const t = performance.now();
      const res = await request(`${proxy.url}/hls/seg0.ts`);
      await res.body.arrayBuffer();
      expect(res.statusCode).toBe(200);
      latencies.push(performance.now() - t);
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
    delay.disable();
    const result = await huge;
    expect(result.status).toBe(200);
    expect(result.length).toBeGreaterThan(count * entry.length);
    const maxDelayMs = delay.max / 1e6;
    console.log(
      `huge playlist: ${count} segments rewritten in ${Math.round(result.ms)} ms; ` +
        `${latencies.length} requests meanwhile, slowest ${Math.round(Math.max(...latencies))} ms; ` +
        `event-loop delay max ${Math.round(maxDelayMs)} ms`,
    );
    // The rewrite takes seconds. Done in one go, it held every other request for all of
    // it; yielding, a request waits at most a slice, plus the odd GC pause or time the
    // machine gives to other processes.
    // Relative to the rewrite's own length, so a faster machine does not hide a block.
    const bound = Math.max(250, result.ms / 4);
    expect(Math.max(...latencies)).toBeLessThan(bound);
    expect(maxDelayMs).toBeLessThan(bound);
    expect(latencies.length).toBeGreaterThan(5);
  });
});
