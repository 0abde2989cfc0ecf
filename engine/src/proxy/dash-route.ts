// DASH served as HLS on a route with `dash.toHls`. The MPD is read in a worker thread
// (dash-thread.ts, which writes the media playlists); dash-to-hls.ts writes the master.
//
// A player asks the route for the MPD's own path and gets the HLS master playlist. The
// media playlists have no upstream file of their own; they are served under
//   /.ks-dash/<key>/<the MPD's proxy path and query>
// (key `v0`, `a1`…), so each is made from the same MPD, fetched again through the route
// (upstreamUrlFor checks it as it checks any request). The MPD is read with a cap as it
// streams in, never buffered beyond it; a SegmentBase representation's index (sidx) is
// fetched by its byte range with the route's fetcher. Every URI in a media playlist then
// goes through the HLS rewriter with the route's proxyUrlFor, as an upstream playlist's would.

import type { Readable } from 'node:stream';
import type { MpdSidx } from 'mpd-parser';
import { KeepsakeError } from '../core/errors';
import { parseSidx } from './dash-sidx';
import { readMpdInThread, unsupported } from './dash-thread';
import { masterPlaylist } from './dash-to-hls';
import { describeUrl, rewritePlaylistYielding } from './playlist-rewrite';
import { proxyUrlFor, withinRoute } from './proxy-url';
import type { Route } from './routes-config';
import type { UpstreamFetch, UpstreamResponse } from './upstream-types';

const DASH_PREFIX = '/.ks-dash/';
const HLS_TYPE = 'application/vnd.apple.mpegurl';
/** Segments one MPD may expand to, across all its representations. */
const MAX_SEGMENTS = 500_000;

/** A media playlist request (`/.ks-dash/v0/x.mpd`): its key and the MPD's target. */
export function dashTarget(target: string): { key: string; rest: string } | undefined {
  if (!target.startsWith(DASH_PREFIX)) return undefined;
  const m = /^([va]\d{1,5})(\/.*)$/.exec(target.slice(DASH_PREFIX.length));
  if (!m) throw new KeepsakeError('NOT_FOUND', 'no such DASH playlist on this route');
  return { key: m[1]!, rest: m[2]! };
}

export function isMpd(url: URL, contentType: string | undefined): boolean {
  const type = contentType?.split(';')[0]?.trim().toLowerCase();
  return type === 'application/dash+xml' || /\.mpd$/i.test(url.pathname);
}

export interface DashAnswer {
  status: number;
  headers: Record<string, string>;
  body: string | undefined;
}

/**
 * The HLS answer for an MPD response: the master playlist, or the media playlist `key`.
 * `headers` are the upstream's passed-on headers; those about its bytes are dropped.
 */
export async function dashAnswer(options: {
  route: Route;
  res: UpstreamResponse;
  key: string | undefined;
  method: 'GET' | 'HEAD';
  headers: Record<string, string>;
  fetch: UpstreamFetch;
  signal: AbortSignal;
}): Promise<DashAnswer> {
  const { route, res, key } = options;
  const out: Record<string, string> = { ...options.headers, 'content-type': HLS_TYPE };
  for (const h of ['etag', 'last-modified', 'content-range', 'accept-ranges', 'content-length']) {
    delete out[h];
  }
  if (res.status !== 200) {
    discard(res.body);
    throw new KeepsakeError(
      'UPSTREAM_FAILED',
      `route ${route.name}: the MPD ${describeUrl(res.url)} answered ${res.status}`,
    );
  }
  if (options.method === 'HEAD' && key === undefined) {
    discard(res.body);
    return { status: 200, headers: out, body: undefined };
  }
  const text = await readManifest(route, res);
  const read = (sidx?: MpdSidx) =>
    readMpdInThread({ text, manifestUri: res.url.href, key, sidx, maxSegments: MAX_SEGMENTS });
  let body: string;
  let result = await read();
  if ('index' in result) result = await read(await fetchIndex(result.index, options));
  if ('missing' in result) {
    throw new KeepsakeError('NOT_FOUND', 'no such DASH playlist on this route');
  }
  if ('master' in result) {
    // Every URI the media playlists will name is checked now, so that an MPD pointing
    // anywhere the route does not serve is refused at once, not mid-playback.
    await rewriteMedia(result.master.check, res.url, route);
    body = masterPlaylist(result.master, (k) => mediaPlaylistUrl(res.url, route, k));
  } else if ('media' in result) {
    body = await rewriteMedia(result.media, res.url, route);
  } else {
    throw new KeepsakeError('INTERNAL', 'the MPD reader answered nothing usable');
  }
  out['content-length'] = String(Buffer.byteLength(body));
  return { status: 200, headers: out, body: options.method === 'HEAD' ? undefined : body };
}

/** Points every URI of a media playlist back through the route, as for upstream HLS. */
function rewriteMedia(text: string, mpdUrl: URL, route: Route): Promise<string> {
  // Yielding, as for upstream playlists: a long one must not hold up other requests.
  return rewritePlaylistYielding(text, {
    playlistUrl: mpdUrl,
    rewrite: (absolute) => proxyUrlFor(absolute, route),
    allowInsecure: route.hls.allowInsecureSegments,
  });
}

/** The proxy URL of a media playlist: the MPD's proxy URL with `/.ks-dash/<key>` before its path. */
function mediaPlaylistUrl(mpdUrl: URL, route: Route, key: string): string {
  const full = proxyUrlFor(mpdUrl, route);
  const base = route.hls.baseUrl ? route.hls.baseUrl.origin : '';
  return `${base}${DASH_PREFIX}${key}${full.slice(base.length)}`;
}

/** Fetches a SegmentBase's index range (its sidx box) through the route, and parses it. */
async function fetchIndex(
  index: { uri: string; offset: number; length: number },
  options: { route: Route; fetch: UpstreamFetch; signal: AbortSignal },
): Promise<MpdSidx> {
  const { route } = options;
  const url = new URL(index.uri);
  proxyUrlFor(url, route); // refuses what the route would not serve, before any fetch
  const { offset, length } = index;
  const end = offset + length;
  if (!Number.isSafeInteger(end) || length <= 0 || end > route.dash.maxManifestBytes) {
    throw unsupported(
      `the segment index of ${describeUrl(url)} is not within its first ${route.dash.maxManifestBytes} bytes`,
    );
  }
  const res = await options.fetch({
    url,
    method: 'GET',
    headers: { range: `bytes=${offset}-${end - 1}`, 'accept-encoding': 'identity' },
    signal: options.signal,
    timeouts: route.timeouts,
    verifyTls: route.verifyTls,
  });
  if (!withinRoute(res.url, route) || (res.status !== 206 && res.status !== 200)) {
    discard(res.body);
    throw new KeepsakeError(
      'UPSTREAM_FAILED',
      `route ${route.name}: the segment index ${describeUrl(url)} answered ${res.status}`,
    );
  }
  // A server that ignores Range sends the whole file: read only as far as the index.
  const from = res.status === 206 ? 0 : offset;
  const bytes = await readCapped(res.body, from + length, true);
  if (bytes.length < from + length) {
    throw new KeepsakeError(
      'UPSTREAM_FAILED',
      `the segment index of ${describeUrl(url)} is cut short`,
    );
  }
  return parseSidx(bytes.subarray(from, from + length));
}

/** The MPD as text, refused as soon as more than the route's cap has come. */
async function readManifest(route: Route, res: UpstreamResponse): Promise<string> {
  const cap = route.dash.maxManifestBytes;
  const encoding = res.headers['content-encoding']?.trim().toLowerCase();
  if (encoding && encoding !== 'identity') {
    discard(res.body);
    throw unsupported(`it is ${encoding}-encoded`);
  }
  const tooLarge = () =>
    new KeepsakeError(
      'PLAYLIST_TOO_LARGE',
      `route ${route.name} serves DASH manifests (MPDs) of up to ${cap} bytes as HLS`,
    );
  if (Number(res.headers['content-length']) > cap) {
    discard(res.body);
    throw tooLarge();
  }
  const bytes = await readCapped(res.body, cap, false);
  if (bytes.length > cap) throw tooLarge();
  try {
    return new TextDecoder('utf-8', { fatal: true }).decode(bytes);
  } catch {
    throw unsupported('it is not UTF-8 text');
  }
}

/**
 * Up to `cap` bytes of a body; one byte more (so the caller sees it was over) unless
 * `truncate`. The rest of the body is dropped, not read.
 */
async function readCapped(body: Readable, cap: number, truncate: boolean): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of body) {
    const buf = Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk as string);
    chunks.push(buf);
    size += buf.length;
    if (size > cap || (truncate && size === cap)) {
      discard(body);
      return Buffer.concat(chunks).subarray(0, truncate ? cap : cap + 1);
    }
  }
  return Buffer.concat(chunks);
}

function discard(body: Readable): void {
  body.on('error', () => undefined);
  body.destroy();
}
