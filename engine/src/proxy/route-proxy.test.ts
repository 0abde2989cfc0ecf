// The routed proxy against real origins on loopback: playlists with every tag kind come
// back rewritten, a player following the rewritten URIs gets the origin's bytes, and what
// is outside a route (hosts, paths, origins, schemes, sizes, headers) stays outside.

import { randomBytes } from 'node:crypto';
import {
  createServer as createHttpServer,
  type IncomingMessage,
  type Server,
  type ServerResponse,
} from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import Fastify, { type FastifyInstance } from 'fastify';
import { request } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ERROR_CODES, KeepsakeError } from '../core/errors';
import { aeadSealer } from '../net/sealer';
import { ensureServerTls } from '../net/server-ca';
import { freshDir } from '../testing/tmp';
import { testUpstreamFetch, type TestFetch } from '../testing/upstream-fetch';
import { parseAttributes } from './playlist-rewrite';
import { routedProxy } from './route-proxy';
import { parseRoutes, type Routes } from './routes-config';

const M3U8 = 'application/vnd.apple.mpegurl';
const SEGMENT = Buffer.from(Array.from({ length: 4000 }, (_, i) => i % 251));
const CDN_SEGMENT = Buffer.from('segment bytes from the second origin');
const KEY = Buffer.from('0123456789abcdef');

type Handler = (req: IncomingMessage) => {
  status?: number;
  type?: string;
  headers?: Record<string, string>;
  body?: string | Buffer;
};

/** Answers from a table of paths; Range on byte bodies; remembers request headers. */
function handle(table: Record<string, Handler>, seen: IncomingMessage[]) {
  return (req: IncomingMessage, res: ServerResponse) => {
    seen.push(req);
    const path = (req.url ?? '/').split('?')[0]!;
    const entry = table[path];
    if (!entry) {
      res.writeHead(404, { 'content-type': 'text/plain' }).end('no such fixture');
      return;
    }
    const r = entry(req);
    const body = typeof r.body === 'string' ? Buffer.from(r.body) : (r.body ?? Buffer.alloc(0));
    const range = /^bytes=(\d+)-(\d*)$/.exec(req.headers.range ?? '');
    if (range && r.type !== M3U8 && (r.status ?? 200) === 200) {
      const start = Number(range[1]);
      const end = range[2] ? Number(range[2]) + 1 : body.length;
      res.writeHead(206, {
        'content-type': r.type ?? 'application/octet-stream',
        'content-range': `bytes ${start}-${end - 1}/${body.length}`,
        'content-length': String(end - start),
        ...r.headers,
      });
      res.end(req.method === 'HEAD' ? undefined : body.subarray(start, end));
      return;
    }
    res.writeHead(r.status ?? 200, {
      'content-type': r.type ?? 'application/octet-stream',
      'content-length': String(body.length),
      ...r.headers,
    });
    res.end(req.method === 'HEAD' ? undefined : body);
  };
}

async function listen(server: Server): Promise<string> {
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return String((server.address() as AddressInfo).port);
}

let origin: string; // http://127.0.0.1:A
let cdn: string; // http://127.0.0.1:B
let secure: string; // https://127.0.0.1:C
let proxyPort: number;
let proxy: FastifyInstance;
let fetcher: TestFetch;
let current: Routes;
const originSeen: IncomingMessage[] = [];
const servers: Server[] = [];

function masterPlaylist() {
  return [
    '#EXTM3U',
    '#EXT-X-INDEPENDENT-SEGMENTS',
    '#EXT-X-SESSION-KEY:METHOD=AES-128,URI="/keys/k.key"',
    '#EXT-X-MEDIA:TYPE=AUDIO,GROUP-ID="aud",NAME="English, stereo",DEFAULT=YES,URI="../live/audio/en.m3u8"',
    '#EXT-X-MEDIA:TYPE=CLOSED-CAPTIONS,GROUP-ID="cc",NAME="CC1",INSTREAM-ID="CC1"',
    `#EXT-X-I-FRAME-STREAM-INF:BANDWIDTH=86000,CODECS="avc1.4d401f",URI="${origin}/live/hd/iframes.m3u8"`,
    '#EXT-X-STREAM-INF:BANDWIDTH=1280000,CODECS="avc1.4d401f,mp4a.40.2",AUDIO="aud",CLOSED-CAPTIONS="cc"',
    'hd/index.m3u8',
    '#EXT-X-STREAM-INF:BANDWIDTH=640000,AUDIO="aud"',
    `${origin}/live/sd/index.m3u8`,
    '#EXT-X-STREAM-INF:BANDWIDTH=320000,AUDIO="aud"',
    `//${new URL(origin).host}/live/ld/index.m3u8`,
    '',
  ].join('\r\n');
}

function mediaPlaylist() {
  return [
    '#EXTM3U',
    '#EXT-X-VERSION:9',
    '#EXT-X-TARGETDURATION:4',
    '#EXT-X-SERVER-CONTROL:CAN-BLOCK-RELOAD=YES,PART-HOLD-BACK=3.0',
    '#EXT-X-PART-INF:PART-TARGET=1.0',
    '#EXT-X-MEDIA-SEQUENCE:10',
    '#EXT-X-KEY:METHOD=NONE',
    '#EXT-X-MAP:URI="seg.m4s",BYTERANGE="720@0"',
    '#EXT-X-KEY:METHOD=AES-128,URI="../../keys/k.key",IV=0x000102030405060708090a0b0c0d0e0f',
    '#EXTINF:4.0,',
    '#EXT-X-BYTERANGE:1000@720',
    'seg.m4s',
    '#EXTINF:4.0,',
    '#EXT-X-BYTERANGE:1000',
    './seg.m4s',
    '#EXT-X-KEY:METHOD=NONE',
    '#EXTINF:4.0,',
    `${cdn}/cdn/seg.ts`,
    '#EXT-X-PART:DURATION=1.0,URI="seg.m4s",BYTERANGE="500@2720",INDEPENDENT=YES',
    '#EXT-X-PRELOAD-HINT:TYPE=PART,URI="seg.m4s",BYTERANGE-START=3220',
    '#EXT-X-RENDITION-REPORT:URI="../sd/index.m3u8",LAST-MSN=12,LAST-PART=0',
    '',
  ].join('\n');
}

beforeAll(async () => {
  const cdnServer = createHttpServer(
    handle({ '/cdn/seg.ts': () => ({ type: 'video/mp2t', body: CDN_SEGMENT }) }, []),
  );
  servers.push(cdnServer);
  cdn = `http://127.0.0.1:${await listen(cdnServer)}`;

  const originServer = createHttpServer();
  servers.push(originServer);
  origin = `http://127.0.0.1:${await listen(originServer)}`;
  const playlist =
    (body: () => string, headers: Record<string, string> = {}) =>
    () => ({
      type: M3U8,
      body: body(),
      headers: { etag: '"upstream-etag"', 'last-modified': new Date(0).toUTCString(), ...headers },
    });
  const table: Record<string, Handler> = {
    '/live/master.m3u8': playlist(masterPlaylist),
    '/live/hd/index.m3u8': playlist(mediaPlaylist),
    '/live/sd/index.m3u8': playlist(() => '#EXTM3U\n#EXTINF:4,\n../hd/seg.m4s\n'),
    '/live/ld/index.m3u8': playlist(() => '#EXTM3U\n#EXTINF:4,\n/live/hd/seg.m4s\n'),
    '/live/audio/en.m3u8': playlist(() => '#EXTM3U\n#EXTINF:4,\n../hd/seg.m4s\n'),
    '/live/hd/iframes.m3u8': playlist(
      () => '#EXTM3U\n#EXT-X-I-FRAMES-ONLY\n#EXTINF:4,\n#EXT-X-BYTERANGE:100@720\nseg.m4s\n',
    ),
    // A playlist known by its path only, as some servers send.
    '/live/untyped.m3u8': () => ({ type: 'text/plain', body: '#EXTM3U\n#EXTINF:4,\nhd/seg.m4s\n' }),
    '/live/hd/seg.m4s': () => ({
      type: 'video/iso.segment',
      body: SEGMENT,
      headers: {
        etag: '"seg"',
        'accept-ranges': 'bytes',
        'set-cookie': 'tracking=1',
        server: 'origin/1.0',
        'access-control-allow-origin': '*',
      },
    }),
    '/keys/k.key': () => ({ type: 'application/octet-stream', body: KEY }),
    '/live/echo': (req) => ({ type: 'application/json', body: JSON.stringify(req.headers) }),
    '/live/file.m3u8': playlist(() => '#EXTM3U\n#EXTINF:4,\nfile:///etc/passwd\n'),
    '/live/skd.m3u8': playlist(
      () => '#EXTM3U\n#EXT-X-KEY:METHOD=SAMPLE-AES,URI="skd://k/1"\n#EXTINF:4,\nhd/seg.m4s\n',
    ),
    '/live/elsewhere.m3u8': playlist(() => '#EXTM3U\n#EXTINF:4,\nhttp://evil.test/x.ts\n'),
    '/live/private-ref.m3u8': playlist(() => '#EXTM3U\n#EXTINF:4,\n/private/x.ts\n'),
    '/live/big.m3u8': playlist(() => `#EXTM3U\n${'#EXTINF:4,\nhd/seg.m4s\n'.repeat(200)}`),
    '/live/not-m3u.m3u8': () => ({ type: M3U8, body: '<html>oops</html>' }),
    '/live/redirect.m3u8': () => ({ status: 302, headers: { location: '/live/hd/index.m3u8' } }),
    '/live/away.m3u8': () => ({
      status: 302,
      headers: { location: `${origin.replace('127.0.0.1', 'localhost')}/live/hd/index.m3u8` },
    }),
    '/private/x.ts': () => ({ body: 'private' }),
  };
  originServer.on('request', handle(table, originSeen));

  const tls = await ensureServerTls(await freshDir(), {
    hostnames: ['localhost'],
    addresses: ['127.0.0.1'],
    sealer: aeadSealer(randomBytes(32), 'tls'),
  });
  const secureServer = createHttpsServer({ key: tls.keyPem, cert: tls.certPem });
  secureServer.on(
    'request',
    handle(
      {
        '/live/index.m3u8': () => ({
          type: M3U8,
          body: `#EXTM3U\n#EXTINF:4,\nseg.ts\n#EXTINF:4,\n${origin}/live/hd/seg.m4s\n`,
        }),
        '/live/seg.ts': () => ({ type: 'video/mp2t', body: CDN_SEGMENT }),
      },
      [],
    ),
  );
  servers.push(secureServer as unknown as Server);
  secure = `https://127.0.0.1:${await listen(secureServer as unknown as Server)}`;

  fetcher = testUpstreamFetch();
  proxy = Fastify();
  proxy.setErrorHandler((err, _request, reply) => {
    const known = err instanceof KeepsakeError;
    reply
      .code(known ? ERROR_CODES[err.code].status : 500)
      .send(known ? err.toJSON() : { code: 'INTERNAL', message: String(err) });
  });
  await proxy.register(routedProxy({ routes: () => current, upstreamFor: () => fetcher }));
  await proxy.listen({ host: '127.0.0.1', port: 0 });
  proxyPort = (proxy.server.address() as AddressInfo).port;
  current = parseRoutes(
    [
      'routes:',
      '  - name: tv',
      '    hosts: [tv.test]',
      `    listen: ["127.0.0.1:${proxyPort}"]`,
      `    upstream: ${origin}`,
      `    allow: { paths: ["/live/**", "/keys/*", "/cdn/*"], origins: ["${cdn}"] }`,
      '    hls: { maxPlaylistBytes: 2048 }',
      '  - name: other-listener',
      '    hosts: [elsewhere.test]',
      '    listen: ["127.0.0.1:1"]',
      `    upstream: ${origin}`,
      '  - name: raw',
      '    hosts: [raw.test]',
      `    upstream: ${origin}`,
      '    hls: { rewrite: false }',
      '  - name: secure',
      '    hosts: [secure.test]',
      `    upstream: ${secure}`,
      '    tls: { verify: false }',
      `    allow: { origins: ["${origin}"] }`,
      '  - name: secure-lax',
      '    hosts: [lax.secure.test]',
      `    upstream: ${secure}`,
      '    tls: { verify: false }',
      '    hls: { allowInsecureSegments: true, baseUrl: "https://proxy.test" }',
      `    allow: { origins: ["${origin}"] }`,
      '  - name: secure-verified',
      '    hosts: [verified.test]',
      `    upstream: ${secure}`,
      '  - name: down',
      '    hosts: [down.test]',
      '    upstream: http://127.0.0.1:1',
    ].join('\n'),
  );
});

afterAll(async () => {
  await proxy?.close();
  await fetcher?.close();
  await Promise.all(servers.map((s) => new Promise((r) => s.close(r))));
});

async function get(
  host: string,
  path: string,
  headers: Record<string, string> = {},
  method = 'GET',
) {
  const res = await request(`http://127.0.0.1:${proxyPort}${path}`, {
    method: method as 'GET',
    headers: { host, ...headers },
  });
  const body = Buffer.from(await res.body.arrayBuffer());
  return { status: res.statusCode, headers: res.headers, body, text: body.toString() };
}

/** Every URI a player would fetch from a playlist. */
function urisOf(text: string): string[] {
  return text.split(/\r?\n/).flatMap((line) => {
    if (!line.trim()) return [];
    if (!line.startsWith('#')) return [line];
    const colon = line.indexOf(':');
    if (!line.startsWith('#EXT') || colon < 0 || !line.includes('URI=')) return [];
    return parseAttributes(line.slice(colon + 1))
      .filter((a) => a.name.endsWith('URI'))
      .map((a) => a.value);
  });
}

async function direct(url: string, headers: Record<string, string> = {}) {
  const res = await request(url, { headers });
  return Buffer.from(await res.body.arrayBuffer());
}

describe('routed proxy', () => {
  it('rewrites a master playlist: every variant, rendition, i-frame and session key', async () => {
    const res = await get('tv.test', '/live/master.m3u8');
    expect(res.status).toBe(200);
    expect(res.headers['content-type']).toBe(M3U8);
    expect(res.text.split('\r\n')).toEqual([
      '#EXTM3U',
      '#EXT-X-INDEPENDENT-SEGMENTS',
      '#EXT-X-SESSION-KEY:METHOD=AES-128,URI="/keys/k.key"',
      '#EXT-X-MEDIA:TYPE=AUDIO,GROUP-ID="aud",NAME="English, stereo",DEFAULT=YES,URI="/live/audio/en.m3u8"',
      '#EXT-X-MEDIA:TYPE=CLOSED-CAPTIONS,GROUP-ID="cc",NAME="CC1",INSTREAM-ID="CC1"',
      '#EXT-X-I-FRAME-STREAM-INF:BANDWIDTH=86000,CODECS="avc1.4d401f",URI="/live/hd/iframes.m3u8"',
      '#EXT-X-STREAM-INF:BANDWIDTH=1280000,CODECS="avc1.4d401f,mp4a.40.2",AUDIO="aud",CLOSED-CAPTIONS="cc"',
      '/live/hd/index.m3u8',
      '#EXT-X-STREAM-INF:BANDWIDTH=640000,AUDIO="aud"',
      '/live/sd/index.m3u8',
      '#EXT-X-STREAM-INF:BANDWIDTH=320000,AUDIO="aud"',
      '/live/ld/index.m3u8',
      '',
    ]);
    // Rewritten bytes: the length is recomputed, the upstream's validators dropped.
    expect(Number(res.headers['content-length'])).toBe(res.body.length);
    expect(res.headers.etag).toBeUndefined();
    expect(res.headers['last-modified']).toBeUndefined();
  });

  it('rewrites a media playlist: keys, map and byte ranges, another origin, LL-HLS tags', async () => {
    const res = await get('tv.test', '/live/hd/index.m3u8');
    expect(res.status).toBe(200);
    expect(res.text).toBe(
      mediaPlaylist()
        .replace('URI="../../keys/k.key"', 'URI="/keys/k.key"')
        .replaceAll('URI="seg.m4s"', 'URI="/live/hd/seg.m4s"')
        .replace('\nseg.m4s\n', '\n/live/hd/seg.m4s\n')
        .replace('\n./seg.m4s\n', '\n/live/hd/seg.m4s\n')
        .replace(`${cdn}/cdn/seg.ts`, `/.ks-origin/http/${new URL(cdn).host}/cdn/seg.ts`)
        .replace('URI="../sd/index.m3u8"', 'URI="/live/sd/index.m3u8"'),
    );
    // Byte ranges are the origin's, untouched.
    expect(res.text).toContain('#EXT-X-MAP:URI="/live/hd/seg.m4s",BYTERANGE="720@0"');
    expect(res.text).toContain('BYTERANGE="500@2720"');
    expect(res.text).toContain('BYTERANGE-START=3220');
    expect(res.text).toContain('#EXT-X-BYTERANGE:1000@720');
  });

  it('lets a player follow every rewritten URI back through the proxy to the origin bytes', async () => {
    const visited = new Set<string>();
    const queue = ['/live/master.m3u8'];
    let segments = 0;
    while (queue.length) {
      const path = queue.shift()!;
      if (visited.has(path)) continue;
      visited.add(path);
      const res = await get('tv.test', path);
      expect(res.status, path).toBe(200);
      if (path.endsWith('.m3u8')) {
        for (const uri of urisOf(res.text)) {
          // Root-relative proxy paths only: nothing sends the player to an upstream.
          expect(uri).toMatch(/^\/(?!\/)/);
          queue.push(uri);
        }
        continue;
      }
      segments++;
      const upstream = path.startsWith('/.ks-origin/http/')
        ? `http://${path.slice('/.ks-origin/http/'.length)}`
        : `${origin}${path}`;
      expect(res.body.equals(await direct(upstream)), path).toBe(true);
    }
    expect(segments).toBe(3); // seg.m4s, the key, and the CDN segment
    expect([...visited]).toEqual(
      expect.arrayContaining([
        '/live/audio/en.m3u8',
        '/live/hd/iframes.m3u8',
        '/live/sd/index.m3u8',
        '/live/ld/index.m3u8',
        '/keys/k.key',
      ]),
    );
    // A byte range of a segment, as the map and parts ask for.
    const part = await get('tv.test', '/live/hd/seg.m4s', { range: 'bytes=720-1719' });
    expect(part.status).toBe(206);
    expect(part.headers['content-range']).toBe(`bytes 720-1719/${SEGMENT.length}`);
    expect(part.body.equals(SEGMENT.subarray(720, 1720))).toBe(true);
  });

  it('resolves relative URIs against the URL after redirects', async () => {
    const res = await get('tv.test', '/live/redirect.m3u8');
    expect(res.status).toBe(200);
    expect(res.text).toContain('\n/live/hd/seg.m4s\n');
    const away = await get('tv.test', '/live/away.m3u8');
    expect([away.status, JSON.parse(away.text).code]).toEqual([502, 'UPSTREAM_FAILED']);
  });

  it('treats .m3u8 paths as playlists whatever their type, and streams everything else', async () => {
    const res = await get('tv.test', '/live/untyped.m3u8');
    expect(res.text).toBe('#EXTM3U\n#EXTINF:4,\n/live/hd/seg.m4s\n');
    const seg = await get('tv.test', '/live/hd/seg.m4s');
    expect(seg.headers.etag).toBe('"seg"');
    expect(seg.headers['content-length']).toBe(String(SEGMENT.length));
  });

  it('refuses playlists naming file:, skd:, other origins or disallowed paths', async () => {
    for (const [path, pattern] of [
      ['/live/file.m3u8', /line 3: a file: URI/],
      ['/live/skd.m3u8', /line 2: a skd: URI/],
      ['/live/elsewhere.m3u8', /line 3: .*outside route tv/],
      ['/live/private-ref.m3u8', /line 3: route tv does not allow the path \/private\/x\.ts/],
      ['/live/not-m3u.m3u8', /not an M3U playlist/],
    ] as const) {
      const res = await get('tv.test', path);
      expect(res.status, path).toBe(502);
      const body = JSON.parse(res.text) as { code: string; message: string };
      expect(body.code, path).toBe('PLAYLIST_REFUSED');
      expect(body.message, path).toMatch(pattern);
      expect(res.headers['content-type']).toMatch(/json/);
    }
  });

  it('caps the playlists it reads', async () => {
    const res = await get('tv.test', '/live/big.m3u8');
    expect([res.status, JSON.parse(res.text).code]).toEqual([502, 'PLAYLIST_TOO_LARGE']);
  });

  it('refuses an http segment inside an https playlist unless the route allows it', async () => {
    const strict = await get('secure.test', '/live/index.m3u8');
    expect(strict.status).toBe(502);
    expect(JSON.parse(strict.text).message).toMatch(/line 5: an http:\/\/ URI inside an https/);

    const lax = await get('lax.secure.test', '/live/index.m3u8');
    expect(lax.status).toBe(200);
    const uris = urisOf(lax.text);
    expect(uris).toEqual([
      'https://proxy.test/live/seg.ts',
      `https://proxy.test/.ks-origin/http/${new URL(origin).host}/live/hd/seg.m4s`,
    ]);
    // Followed through the proxy (the base URL names where players reach it).
    const seg = await get('lax.secure.test', new URL(uris[1]!).pathname);
    expect(seg.body.equals(SEGMENT)).toBe(true);
    const first = await get('lax.secure.test', new URL(uris[0]!).pathname);
    expect(first.body.equals(CDN_SEGMENT)).toBe(true);
  });

  it('verifies upstream TLS unless the route turns it off', async () => {
    const res = await get('verified.test', '/live/seg.ts');
    expect([res.status, JSON.parse(res.text).code]).toEqual([502, 'UPSTREAM_FAILED']);
    expect(fetcher.seen.at(-1)?.verifyTls).toBe(true);
  });

  it('passes playlists through as they are when the route does not rewrite', async () => {
    const res = await get('raw.test', '/live/hd/index.m3u8');
    expect(res.text).toBe(mediaPlaylist());
    expect(res.headers.etag).toBe('"upstream-etag"');
  });

  it('forwards only allowlisted request headers and copies only safe response headers', async () => {
    const res = await get('tv.test', '/live/echo', {
      cookie: 'session=1',
      authorization: 'Bearer x',
      'x-forwarded-for': '10.0.0.1',
      'user-agent': 'player/1.0',
      'accept-encoding': 'gzip',
      'if-none-match': '"abc"',
    });
    const received = JSON.parse(res.text) as Record<string, string>;
    expect(received.cookie).toBeUndefined();
    expect(received.authorization).toBeUndefined();
    expect(received['x-forwarded-for']).toBeUndefined();
    expect(received['user-agent']).toBe('player/1.0');
    expect(received['if-none-match']).toBe('"abc"');
    expect(received['accept-encoding']).toBe('identity');
    expect(received.host).toBe(new URL(origin).host);

    const seg = await get('tv.test', '/live/hd/seg.m4s');
    expect(seg.headers['set-cookie']).toBeUndefined();
    expect(seg.headers['access-control-allow-origin']).toBeUndefined();
    expect(seg.headers.server).toBeUndefined();
  });

  it('asks for whole playlists and never copies the request query into rewritten URIs', async () => {
    const before = originSeen.length;
    const res = await get('tv.test', '/live/master.m3u8?token=SECRET', { range: 'bytes=0-10' });
    expect(res.status).toBe(200);
    expect(res.text).not.toContain('SECRET');
    const upstreamReq = originSeen.slice(before).find((r) => r.url?.startsWith('/live/master'));
    expect(upstreamReq?.url).toBe('/live/master.m3u8?token=SECRET');
    expect(upstreamReq?.headers.range).toBeUndefined();
  });

  it('answers HEAD without a body and without the original playlist length', async () => {
    const res = await get('tv.test', '/live/master.m3u8', {}, 'HEAD');
    expect(res.status).toBe(200);
    expect(res.headers['content-length']).toBeUndefined();
    const seg = await get('tv.test', '/live/hd/seg.m4s', {}, 'HEAD');
    expect(seg.headers['content-length']).toBe(String(SEGMENT.length));
    expect(seg.body.length).toBe(0);
  });

  it('refuses hosts without a route, other listeners, paths and origins outside it', async () => {
    const code = async (host: string, path: string) => {
      const res = await get(host, path);
      return [res.status, (JSON.parse(res.text) as { code: string }).code];
    };
    expect(await code('nobody.test', '/live/master.m3u8')).toEqual([403, 'FORBIDDEN_ORIGIN']);
    expect(await code('elsewhere.test', '/live/master.m3u8')).toEqual([403, 'FORBIDDEN_ORIGIN']);
    expect(await code('tv.test', '/private/x.ts')).toEqual([403, 'FORBIDDEN']);
    expect(await code('tv.test', '/live/%2e%2e/private/x.ts')).toEqual([403, 'FORBIDDEN']);
    expect(await code('tv.test', '/.ks-origin/http/evil.test/cdn/seg.ts')).toEqual([
      403,
      'FORBIDDEN',
    ]);
    expect(await code('down.test', '/x')).toEqual([502, 'UPSTREAM_FAILED']);
  });

  it('follows a reload at once', async () => {
    const saved = current;
    try {
      current = parseRoutes(`routes:\n  - hosts: [new.test]\n    upstream: ${origin}\n`);
      expect((await get('new.test', '/live/hd/seg.m4s')).status).toBe(200);
      expect((await get('tv.test', '/live/hd/seg.m4s')).status).toBe(403);
    } finally {
      current = saved;
    }
  });
});
