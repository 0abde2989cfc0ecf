// DASH served as HLS through the routed proxy (`keepsake proxy`, real address checks),
// from a loopback origin serving presentations FFmpeg's own dash muxer made. FFmpeg's
// HLS demuxer plays each result whole; seeking is checked the way a player seeks (the
// media playlist's timing picks the segment, its byte range and init are fetched
// through the proxy and decode to the right frame), because FFmpeg 5.1's HLS demuxer
// cannot seek in fMP4 HLS at all, even in what its own hls muxer writes. hls.js seeks
// for real in e2e/dash-hls.spec.ts. Then every refusal: foreign, file: and private
// BaseURLs, a 50 MB MPD, unknown template identifiers, live MPDs, expansion bombs.

import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { request } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { locateFfmpeg } from '../ffmpeg/locate';
import { DASH_LAYOUTS, DASH_SECONDS, makeDashMedia, serveFolder } from '../testing/dash-media';
import { startOrigin, type FixtureOrigin } from './fixture-origin';
import { startProxyServer, type ProxyServer } from './proxy-server';
import { parseRoutes } from './routes-config';

const run = promisify(execFile);
const MIB = 1024 * 1024;

let dir: string;
let origin: FixtureOrigin;
let proxy: ProxyServer;
let ffmpegPath: string;
let ffprobePath: string;
/** Bytes of the 50 MB MPD the origin managed to send before the proxy cut it. */
let hugeSent = 0;

/** The most a loopback TCP connection can hold in its two kernel buffers (Linux). */
function kernelSocketBuffers(): number {
  const max = (name: string) =>
    Number(readFileSync(`/proc/sys/net/ipv4/${name}`, 'utf8').trim().split(/\s+/)[2]);
  return max('tcp_wmem') + max('tcp_rmem');
}

/** A small MPD for the refusal cases. */
function mpd(o: { baseUrl?: string; type?: string; media?: string; duration?: string } = {}) {
  return [
    '<?xml version="1.0"?>',
    `<MPD xmlns="urn:mpeg:dash:schema:mpd:2011" type="${o.type ?? 'static'}" mediaPresentationDuration="${o.duration ?? 'PT6S'}" minBufferTime="PT2S">`,
    ...(o.baseUrl ? [`<BaseURL>${o.baseUrl}</BaseURL>`] : []),
    '<Period><AdaptationSet contentType="video" mimeType="video/mp4">',
    '<Representation id="0" codecs="avc1.42c014" bandwidth="400000" width="320" height="240">',
    `<SegmentTemplate timescale="1000" duration="2000" initialization="init-$RepresentationID$.m4s" media="${o.media ?? 'chunk-$Number%05d$.m4s'}" startNumber="1"/>`,
    '</Representation></AdaptationSet></Period></MPD>',
  ].join('\n');
}

/** A Period of FFmpeg's number/ layout: representation `id` alone, 6 s. */
const period = (id: string, kind: 'video' | 'audio', attrs: string) =>
  `<Period duration="PT6S"><AdaptationSet contentType="${kind}" mimeType="${kind}/mp4"><Representation id="${id}" ${attrs}>` +
  `<SegmentTemplate timescale="1000000" duration="2000000" initialization="init-stream$RepresentationID$.m4s" media="chunk-stream$RepresentationID$-$Number%05d$.m4s" startNumber="1"/>` +
  '</Representation></AdaptationSet></Period>';
const MORE: Record<string, string> = {
  '/number/audio-only.mpd': `<?xml version="1.0"?><MPD xmlns="urn:mpeg:dash:schema:mpd:2011" type="static" mediaPresentationDuration="PT6S">${period('2', 'audio', 'codecs="mp4a.40.2" bandwidth="64000"')}</MPD>`,
  '/number/two-periods.mpd': `<?xml version="1.0"?><MPD xmlns="urn:mpeg:dash:schema:mpd:2011" type="static" mediaPresentationDuration="PT12S">${period('0', 'video', 'codecs="avc1.42c014" bandwidth="400000" width="320" height="240"').repeat(2)}</MPD>`,
};

/** 100,000 SegmentURLs (3.6 MB): seconds of synchronous XML work. */
const LONG_LIST = `<?xml version="1.0"?><MPD xmlns="urn:mpeg:dash:schema:mpd:2011" type="static" mediaPresentationDuration="PT200000S"><Period><AdaptationSet contentType="video" mimeType="video/mp4"><Representation id="0" codecs="avc1.42c014" bandwidth="400000"><SegmentList timescale="1000" duration="2000"><Initialization sourceURL="init-stream0.m4s"/>${Array.from(
  { length: 100_000 },
  (_, i) => `<SegmentURL media="chunk-${i}.m4s"/>`,
).join('\n')}</SegmentList></Representation></AdaptationSet></Period></MPD>`;
MORE['/number/long.mpd'] = LONG_LIST;

const BAD: Record<string, string> = {
  '/bad/elsewhere.mpd': mpd({ baseUrl: 'http://evil.test/media/' }),
  '/bad/file.mpd': mpd({ baseUrl: 'file:///etc/' }),
  '/bad/private.mpd': mpd({ baseUrl: 'http://10.1.2.3/media/' }),
  '/bad/unknown-id.mpd': mpd({ media: 'chunk-$Number$-$Foo$.m4s' }),
  '/bad/format-id.mpd': mpd({ media: 'chunk-$Time%x$.m4s' }),
  '/bad/live.mpd': mpd({ type: 'dynamic' }),
  '/bad/bomb.mpd': mpd({ duration: 'PT10000H' }).replace('duration="2000"', 'duration="1"'),
  // MPD text lands in the master's quoted attributes: characters that players take as line
  // ends (U+2028, U+2029, U+0085, VT) would start a line of the MPD's choosing there.
  '/bad/line-breaks.mpd': mpd()
    .replace('codecs="avc1.42c014"', 'codecs="avc1.42c014&#x2028;https://evil.test/v.m3u8"')
    .replace(
      '</Period>',
      '<AdaptationSet contentType="audio" mimeType="audio/mp4" lang="en&#x2029;https://evil.test/l" label="Main&#x85;https://evil.test/n"><Representation id="1" codecs="mp4a.40.2&#x0B;https://evil.test/c" bandwidth="64000"><SegmentTemplate timescale="1000" duration="2000" initialization="init-a.m4s" media="a-$Number$.m4s"/></Representation></AdaptationSet></Period>',
    ),
  '/bad/entities.mpd': `<?xml version="1.0"?><!DOCTYPE MPD [<!ENTITY a "aaaaaaaa">]>${mpd().split('\n').slice(1).join('\n')}`,
};

function originHandler(media: (req: IncomingMessage, res: ServerResponse) => void) {
  return (req: IncomingMessage, res: ServerResponse) => {
    const path = (req.url ?? '/').split('?')[0]!;
    const bad = BAD[path] ?? MORE[path];
    if (bad !== undefined) {
      res.writeHead(200, { 'content-type': 'application/dash+xml' }).end(bad);
      return;
    }
    if (path === '/bad/huge.mpd') {
      // 50 MB, chunked (no length to refuse it by): the proxy must stop reading at its cap.
      res.writeHead(200, { 'content-type': 'application/dash+xml' });
      const chunk = Buffer.alloc(MIB, ' ');
      const write = () => {
        while (hugeSent < 50 * MIB && !res.destroyed) {
          hugeSent += chunk.length;
          if (!res.write(chunk)) return void res.once('drain', write);
        }
        res.end();
      };
      res.write('<?xml version="1.0"?><MPD type="static">');
      write();
      return;
    }
    media(req, res);
  };
}

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'keepsake-dash-'));
  ({ ffmpegPath, ffprobePath } = await locateFfmpeg());
  await makeDashMedia(join(dir, 'media'));
  origin = await startOrigin(originHandler(serveFolder(join(dir, 'media'))));
  const routes = join(dir, 'routes.yaml');
  await writeFile(
    routes,
    [
      'routes:',
      '  - name: dash',
      '    hosts: ["127.0.0.1"]',
      `    upstream: ${origin.origin}`,
      '    dash: { toHls: true }',
      '    allow: { privateCidrs: ["127.0.0.0/8"] }',
      '  - name: dash-cdn',
      '    hosts: [cdn.test]',
      `    upstream: ${origin.origin}`,
      '    dash: { toHls: true }',
      '    allow: { privateCidrs: ["127.0.0.0/8"], origins: ["http://10.1.2.3"] }',
      '  - name: dash-based',
      '    hosts: [based.test]',
      `    upstream: ${origin.origin}`,
      '    dash: { toHls: true }',
      '    hls: { baseUrl: "https://tv.example" }',
      '    allow: { privateCidrs: ["127.0.0.0/8"] }',
      '  - name: plain',
      '    hosts: [plain.test]',
      `    upstream: ${origin.origin}`,
      '    allow: { privateCidrs: ["127.0.0.0/8"] }',
    ].join('\n'),
  );
  proxy = await startProxyServer({ routesFile: routes, logError: () => undefined });
}, 120_000);

afterAll(async () => {
  await proxy?.close();
  await origin?.close();
  if (dir) await rm(dir, { recursive: true, force: true });
});

async function get(
  path: string,
  o: { host?: string; method?: 'GET' | 'HEAD'; range?: string } = {},
) {
  const res = await request(`${proxy.url}${path}`, {
    method: o.method ?? 'GET',
    headers: { host: o.host ?? '127.0.0.1', ...(o.range ? { range: o.range } : {}) },
  });
  const body = Buffer.from(await res.body.arrayBuffer());
  return { status: res.statusCode, headers: res.headers, body, text: body.toString() };
}

async function json(path: string, host?: string) {
  const res = await get(path, { host });
  return { status: res.status, ...(JSON.parse(res.text) as { code: string; message: string }) };
}

/** Frame hashes of the first video stream (framemd5), and what FFmpeg said on stderr. */
async function frames(input: string, map = '0:v:0') {
  const { stdout, stderr } = await run(
    ffmpegPath,
    ['-v', 'error', '-i', input, '-map', map, '-f', 'framemd5', '-'],
    {
      maxBuffer: 16 * MIB,
    },
  );
  const hashes = stdout
    .split('\n')
    .filter((l) => l && !l.startsWith('#'))
    .map((l) => l.split(',').pop()!.trim());
  return { hashes, stderr };
}

describe('a route with dash.toHls', () => {
  it.each(DASH_LAYOUTS)(
    'serves the %s MPD as HLS that FFmpeg plays whole: 2 video + 1 audio streams, 6 s, every frame',
    async (layout) => {
      const url = `${proxy.url}/${layout}/manifest.mpd`;
      const { stdout } = await run(ffprobePath, [
        ...['-v', 'error', '-show_entries', 'stream=codec_type,width,height:format=duration'],
        ...['-of', 'json', url],
      ]);
      const probed = JSON.parse(stdout) as {
        streams: { codec_type: string; width?: number; height?: number }[];
        format: { duration: string };
      };
      const kinds = probed.streams.map((s) =>
        s.codec_type === 'video' ? `${s.width}x${s.height}` : s.codec_type,
      );
      expect(kinds.sort()).toEqual(['160x120', '320x240', 'audio']);
      expect(Number(probed.format.duration)).toBeCloseTo(DASH_SECONDS, 1);
      for (const map of ['0:v:0', '0:v:1']) {
        const video = await frames(url, map);
        expect(video.stderr).toBe('');
        expect(video.hashes).toHaveLength(DASH_SECONDS * 25);
      }
      const audio = await frames(url, '0:a:0');
      expect(audio.stderr).toBe('');
      // 6 s of 48 kHz AAC is 281.25 frames of 1024 samples (plus priming).
      expect(audio.hashes.length).toBeGreaterThanOrEqual(281);
      expect(audio.hashes.length).toBeLessThanOrEqual(284);
    },
    60_000,
  );

  it('writes a master playlist of the representations and the audio adaptation set', async () => {
    const res = await get('/number/manifest.mpd');
    expect(res.status).toBe(200);
    expect(res.headers['content-type']).toBe('application/vnd.apple.mpegurl');
    expect(res.headers['content-length']).toBe(String(res.body.length));
    const lines = res.text.trim().split('\n');
    expect(lines[0]).toBe('#EXTM3U');
    expect(lines.filter((l) => l.startsWith('#EXT-X-MEDIA:'))).toEqual([
      '#EXT-X-MEDIA:TYPE=AUDIO,GROUP-ID="audio",NAME="main",DEFAULT=YES,AUTOSELECT=YES,URI="/.ks-dash/a0/number/manifest.mpd"',
    ]);
    expect(lines.filter((l) => l.startsWith('#EXT-X-STREAM-INF:'))).toEqual([
      '#EXT-X-STREAM-INF:BANDWIDTH=464000,RESOLUTION=320x240,CODECS="avc1.42c014,mp4a.40.2",FRAME-RATE=25.000,AUDIO="audio"',
      '#EXT-X-STREAM-INF:BANDWIDTH=214000,RESOLUTION=160x120,CODECS="avc1.42c00c,mp4a.40.2",FRAME-RATE=25.000,AUDIO="audio"',
    ]);
    expect(lines.filter((l) => !l.startsWith('#'))).toEqual([
      '/.ks-dash/v0/number/manifest.mpd',
      '/.ks-dash/v1/number/manifest.mpd',
    ]);
    const head = await get('/number/manifest.mpd', { method: 'HEAD' });
    expect(head.status).toBe(200);
    expect(head.headers['content-type']).toBe('application/vnd.apple.mpegurl');
    expect(head.body.length).toBe(0);
  });

  it('writes media playlists with EXT-X-MAP, byte ranges where the MPD has them, and ENDLIST', async () => {
    const time = (await get('/.ks-dash/v0/time/manifest.mpd')).text;
    expect(time).toContain('#EXT-X-MAP:URI="/time/init-stream0.m4s"\n');
    // $Time$ from the SegmentTimeline (FFmpeg's first segment is 25874/12800 s long).
    expect(time).toContain(
      '#EXTINF:2.021406,\n/time/chunk-0-0.m4s\n#EXTINF:2.000000,\n/time/chunk-0-25874.m4s\n',
    );
    expect(time.trim().endsWith('#EXT-X-ENDLIST')).toBe(true);

    const list = (await get('/.ks-dash/v0/list/manifest.mpd')).text;
    expect(list).toMatch(/#EXT-X-MAP:URI="\/list\/manifest-stream0.mp4",BYTERANGE="\d+@0"\n/);
    expect(list.match(/#EXT-X-BYTERANGE:\d+@\d+\n\/list\/manifest-stream0.mp4\n/g)).toHaveLength(3);

    const base = (await get('/.ks-dash/a0/base/manifest.mpd')).text;
    expect(base).toMatch(/#EXT-X-MAP:URI="\/base\/a0.mp4",BYTERANGE="\d+@0"\n/);
    expect(base.match(/#EXT-X-BYTERANGE:/g)!.length).toBeGreaterThanOrEqual(3);
    // The index told the proxy where each subsegment is: it asked for that range only.
    const indexAsk = origin.seen.find((s) => s.url === '/base/a0.mp4' && s.headers.range);
    expect(indexAsk?.headers.range).toMatch(/^bytes=\d+-\d+$/);
  });

  it.each(DASH_LAYOUTS)(
    'seeks in %s as a player does: the segment at 4.2 s, with its init, decodes to the frame at 4 s',
    async (layout) => {
      const playlistPath = `/.ks-dash/v0/${layout}/manifest.mpd`;
      const whole = await frames(`${proxy.url}${playlistPath}`);
      expect(whole.hashes).toHaveLength(DASH_SECONDS * 25);
      const segment = segmentAt((await get(playlistPath)).text, 4.2);
      expect(segment.start).toBeCloseTo(4, 1);
      const init = await get(segment.map.uri, { range: segment.map.range });
      const media = await get(segment.uri, { range: segment.range });
      expect([init.status, media.status]).toEqual([
        segment.map.range ? 206 : 200,
        segment.range ? 206 : 200,
      ]);
      const file = join(dir, `seek-${layout}.mp4`);
      await writeFile(file, Buffer.concat([init.body, media.body]));
      const seeked = await frames(file);
      expect(seeked.hashes.length).toBeGreaterThan(0);
      expect(seeked.hashes[0]).toBe(whole.hashes[100]); // frame 100 of 25 fps is 4.0 s
      expect(seeked.hashes[0]).not.toBe(whole.hashes[0]);
    },
    60_000,
  );

  it('lists audio alone as variants, and periods with a discontinuity between them', async () => {
    const master = (await get('/number/audio-only.mpd')).text;
    expect(master).not.toContain('#EXT-X-MEDIA');
    expect(master).toContain(
      '#EXT-X-STREAM-INF:BANDWIDTH=64000,CODECS="mp4a.40.2"\n/.ks-dash/a0/number/audio-only.mpd\n',
    );
    const audio = await frames(`${proxy.url}/number/audio-only.mpd`, '0:a:0');
    expect(audio.stderr).toBe('');
    expect(audio.hashes.length).toBeGreaterThanOrEqual(281);

    const periods = (await get('/.ks-dash/v0/number/two-periods.mpd')).text;
    expect(periods.match(/#EXTINF:/g)).toHaveLength(6);
    expect(periods.match(/#EXT-X-DISCONTINUITY\n/g)).toHaveLength(1);
    expect(periods.indexOf('#EXT-X-DISCONTINUITY')).toBeGreaterThan(
      periods.indexOf('chunk-stream0-00003'),
    );
  });

  it('reads a long MPD off the event loop (the proxy runs in this process)', async () => {
    // Read on the event loop, this MPD stalls it for over 2 s on this machine (idle); in
    // the worker, the longest gap between ticks was 69-183 ms. The bound leaves room for
    // a loaded machine (CI's two cores run other test files at once) and still fails a
    // parse on this thread.
    let last = performance.now();
    let longest = 0;
    const ticker = setInterval(() => {
      const now = performance.now();
      longest = Math.max(longest, now - last);
      last = now;
    }, 10);
    try {
      const master = await get('/number/long.mpd');
      expect(master.status).toBe(200);
      expect(master.text).toContain('/.ks-dash/v0/number/long.mpd');
    } finally {
      clearInterval(ticker);
    }
    expect(longest).toBeLessThan(1000);
  });

  it('writes absolute URIs on the baseUrl of a route that has one', async () => {
    const master = (await get('/list/manifest.mpd?t=1', { host: 'based.test' })).text;
    expect(master).toContain('\nhttps://tv.example/.ks-dash/v0/list/manifest.mpd?t=1\n');
    const media = (await get('/.ks-dash/v0/list/manifest.mpd?t=1', { host: 'based.test' })).text;
    expect(media).toContain('#EXT-X-MAP:URI="https://tv.example/list/manifest-stream0.mp4"');
    expect(media).toContain('\nhttps://tv.example/list/manifest-stream0.mp4\n');
  });

  it('passes an MPD through untouched on a route without dash.toHls', async () => {
    const res = await get('/number/manifest.mpd', { host: 'plain.test' });
    expect(res.status).toBe(200);
    expect(res.headers['content-type']).toBe('application/dash+xml');
    expect(res.text).toMatch(/^<\?xml[^]*<MPD/);
  });

  it('answers 404 for a media playlist the MPD does not have', async () => {
    expect(await json('/.ks-dash/v7/number/manifest.mpd')).toMatchObject({
      status: 404,
      code: 'NOT_FOUND',
    });
    expect(await json('/.ks-dash/x0/number/manifest.mpd')).toMatchObject({
      status: 404,
      code: 'NOT_FOUND',
    });
  });
});

describe('refuses', () => {
  it('an MPD whose BaseURL is another host, before any of it is fetched', async () => {
    const res = await json('/bad/elsewhere.mpd');
    expect(res).toMatchObject({ status: 502, code: 'PLAYLIST_REFUSED' });
    expect(res.message).toContain('http://evil.test/media/init-0.m4s is outside route dash');
  });

  it('an MPD whose BaseURL is a file: URI', async () => {
    const res = await json('/bad/file.mpd');
    expect(res).toMatchObject({ status: 502, code: 'PLAYLIST_REFUSED' });
    expect(res.message).toContain('a file: URI (only http and https are proxied)');
  });

  it('an MPD whose BaseURL is a private address: outside the route, or refused at connect', async () => {
    const refused = await json('/bad/private.mpd');
    expect(refused).toMatchObject({ status: 502, code: 'PLAYLIST_REFUSED' });
    expect(refused.message).toContain('http://10.1.2.3/media/init-0.m4s is outside route dash');
    // A route that lists the origin still never connects to a private address it does not allow.
    const media = await get('/.ks-dash/v0/bad/private.mpd', { host: 'cdn.test' });
    expect(media.status).toBe(200);
    expect(media.text).toContain('\n/.ks-origin/http/10.1.2.3/media/chunk-00001.m4s\n');
    const segment = await json('/.ks-origin/http/10.1.2.3/media/chunk-00001.m4s', 'cdn.test');
    expect(segment).toMatchObject({ status: 403, code: 'DESTINATION_FORBIDDEN' });
  });

  it('an MPD of 50 MB, reading no further than the cap', async () => {
    const res = await json('/bad/huge.mpd');
    expect(res).toMatchObject({ status: 502, code: 'PLAYLIST_TOO_LARGE' });
    expect(res.message).toBe(
      `route dash serves DASH manifests (MPDs) of up to ${8 * MIB} bytes as HLS`,
    );
    await expect.poll(() => origin.cutShort).toBeGreaterThan(0);
    // The origin is stopped by backpressure once the proxy stops reading: short of 50 MB.
    // Beyond the 8 MiB the proxy reads, what the origin hands over waits in the kernel:
    // its send buffer and the proxy's receive window, each at most its tcp_wmem/tcp_rmem
    // maximum (4 and 32 MiB on one test machine, where 20 MiB was seen once under load).
    expect(hugeSent).toBeLessThanOrEqual(8 * MIB + kernelSocketBuffers() + MIB);
    expect(hugeSent).toBeLessThan(50 * MIB);
  });

  it('a template with an identifier DASH does not define, or a format it does not allow', async () => {
    const res = await json('/bad/unknown-id.mpd');
    expect(res).toMatchObject({ status: 502, code: 'DASH_UNSUPPORTED' });
    expect(res.message).toContain('uses the unknown identifier $Foo$');
    expect(await json('/bad/format-id.mpd')).toMatchObject({ code: 'DASH_UNSUPPORTED' });
  });

  it('line ends hidden in codecs, labels and languages: the master keeps them inside quotes', async () => {
    const res = await get('/bad/line-breaks.mpd');
    expect(res.status).toBe(200);
    // Split as the most generous player would (the HLS rewriter's own set of line ends).
    // eslint-disable-next-line no-control-regex -- control characters are what this matches
    const lines = res.text.trim().split(/\r\n|[\n\r\v\f\x1c-\x1e\x85\u2028\u2029]/);
    expect(lines).toEqual(res.text.trim().split('\n'));
    for (const line of lines) expect(line).toMatch(/^(#|\/\.ks-dash\/)/);
    expect(res.text).toContain(
      'CODECS="avc1.42c014 https://evil.test/v.m3u8,mp4a.40.2 https://evil.test/c"',
    );
  });

  it('a live (dynamic) MPD', async () => {
    const res = await json('/bad/live.mpd');
    expect(res).toMatchObject({ status: 502, code: 'DASH_UNSUPPORTED' });
    expect(res.message).toContain('it is a live (dynamic) presentation');
  });

  it('a template that would expand to millions of segments, and DTD entities', async () => {
    const bomb = await json('/bad/bomb.mpd');
    expect(bomb).toMatchObject({ status: 502, code: 'DASH_UNSUPPORTED' });
    expect(bomb.message).toMatch(/it describes 36000000000 segments \(at most 500000\)/);
    const entities = await json('/bad/entities.mpd');
    expect(entities).toMatchObject({ status: 502, code: 'DASH_UNSUPPORTED' });
    expect(entities.message).toContain('it declares a DTD or entities');
  });
});

describe('the dash route setting', () => {
  const routes = (dash: string) =>
    `routes:\n  - hosts: [tv.test]\n    upstream: http://origin.test\n    dash: ${dash}\n`;

  it('is off unless asked for, with an 8 MiB cap', () => {
    const route = parseRoutes('routes:\n  - hosts: [tv.test]\n    upstream: http://o.test\n')
      .routes[0]!;
    expect(route.dash).toEqual({ toHls: false, maxManifestBytes: 8 * MIB });
    expect(parseRoutes(routes('{ toHls: true }')).routes[0]!.dash.toHls).toBe(true);
  });

  it('refuses other values and settings, naming the field and line', () => {
    expect(() => parseRoutes(routes('{ toHls: "yes" }'))).toThrow(
      /line 4: routes\[0\]\.dash\.toHls/,
    );
    expect(() => parseRoutes(routes('{ toHls: true, live: true }'))).toThrow(
      /unknown setting "live"/,
    );
    expect(() => parseRoutes(routes('{ maxManifestBytes: 10 }'))).toThrow(
      /routes\[0\]\.dash\.maxManifestBytes/,
    );
  });
});

interface Segment {
  start: number;
  uri: string;
  range: string | undefined;
  map: { uri: string; range: string | undefined };
}

/** The segment of a media playlist that holds time `t`, with its Range headers. */
function segmentAt(playlist: string, t: number): Segment {
  const toRange = (spec: string | undefined) => {
    if (!spec) return undefined;
    const [length, offset] = spec.split('@').map(Number) as [number, number];
    return `bytes=${offset}-${offset + length - 1}`;
  };
  let map = { uri: '', range: undefined as string | undefined };
  let start = 0;
  let duration = 0;
  let byterange: string | undefined;
  for (const line of playlist.split('\n')) {
    const m = /^#EXT-X-MAP:URI="([^"]+)"(?:,BYTERANGE="([^"]+)")?/.exec(line);
    if (m) map = { uri: m[1]!, range: toRange(m[2]) };
    else if (line.startsWith('#EXTINF:')) duration = Number(line.slice(8).split(',')[0]);
    else if (line.startsWith('#EXT-X-BYTERANGE:')) byterange = line.slice(17);
    else if (line && !line.startsWith('#')) {
      if (t >= start && t < start + duration)
        return { start, uri: line, range: toRange(byterange), map };
      start += duration;
      byterange = undefined;
    }
  }
  throw new Error(`no segment holds ${t} s`);
}
