// The host-routed stream proxy: a request whose Host (and listener) matches a route is
// forwarded to the route's upstream with the same path. Bodies stream through untouched,
// except HLS playlists, which are read (up to a cap) and rewritten so that every URI in
// them comes back through this proxy. Only allowlisted headers cross in either direction.
//
// The upstream fetch (address checks, redirects, timeouts) is not done here: it is the
// `UpstreamFetch` the caller gives, one per route so that its policy can follow the
// route's origins and `allow.privateCidrs`.

import type { FastifyPluginAsync, FastifyReply, FastifyRequest } from 'fastify';
import type { Readable } from 'node:stream';
import { KeepsakeError, isKeepsakeError } from '../core/errors';
import { dashAnswer, dashTarget, isMpd } from './dash-route';
import { describeUrl, rewritePlaylistYielding } from './playlist-rewrite';
import { proxyUrlFor, upstreamUrlFor, withinRoute } from './proxy-url';
import { matchRoute, type Route, type Routes } from './routes-config';
import type { UpstreamFetch, UpstreamResponse } from './upstream-types';

export interface RoutedProxyOptions {
  /** The routes in force (called per request, so a reload takes effect at once). */
  routes: () => Routes;
  /** The fetcher for a route's upstreams. */
  upstreamFor: (route: Route) => UpstreamFetch;
  /** Upstream failures and refused playlists, for the log (the client gets `{code, message}`). */
  onError?: (err: unknown, route: Route) => void;
}

/** Headers that describe the bytes, which a rewritten playlist no longer matches. */
const BYTE_HEADERS = [
  'range',
  'if-range',
  'if-none-match',
  'if-modified-since',
  'if-match',
  'if-unmodified-since',
];
/** Request headers a player may send upstream; everything else (cookies, auth) stays here. */
const REQUEST_HEADERS = [
  ...BYTE_HEADERS,
  'user-agent',
  'referer',
  'origin',
  'accept',
  'accept-language',
  'cache-control',
];

/** Response headers passed to the player; no cookies, no Location, no upstream CORS. */
const RESPONSE_HEADERS = [
  'content-type',
  'content-length',
  'content-range',
  'content-encoding',
  'content-language',
  'accept-ranges',
  'etag',
  'last-modified',
  'cache-control',
  'expires',
  'age',
];

const PLAYLIST_TYPES = new Set([
  'application/vnd.apple.mpegurl',
  'application/x-mpegurl',
  'audio/mpegurl',
  'audio/x-mpegurl',
]);

export function isPlaylist(url: URL, contentType: string | undefined): boolean {
  const type = contentType?.split(';')[0]?.trim().toLowerCase();
  return (type !== undefined && PLAYLIST_TYPES.has(type)) || /\.m3u8?$/i.test(url.pathname);
}

export function routedProxy(options: RoutedProxyOptions): FastifyPluginAsync {
  return async (app) => {
    app.route({
      method: ['GET', 'HEAD'],
      url: '/*',
      exposeHeadRoute: false,
      handler: (request, reply) => forward(options, request, reply),
    });
  };
}

async function forward(options: RoutedProxyOptions, request: FastifyRequest, reply: FastifyReply) {
  const socket = request.raw.socket;
  const route = matchRoute(options.routes(), request.host, {
    address: socket.localAddress ?? '',
    port: socket.localPort ?? 0,
  });
  if (!route) {
    throw new KeepsakeError('FORBIDDEN_ORIGIN', 'no stream route serves that host name');
  }
  const target = request.raw.url ?? '/';
  // A DASH route's media playlists live under /.ks-dash/KEY/, followed by the MPD's path.
  const dash = route.dash.toHls ? dashTarget(target) : undefined;
  const url = upstreamUrlFor(route, dash?.rest ?? target);
  const method = request.method === 'HEAD' ? 'HEAD' : 'GET';
  const rewriting = route.hls.rewrite;
  const headers: Record<string, string> = {};
  for (const name of REQUEST_HEADERS) {
    const value = request.headers[name];
    if (typeof value === 'string') headers[name] = value;
  }
  // Playlists are rewritten as text; a compressed or partial one could not be.
  headers['accept-encoding'] = 'identity';
  if ((rewriting && isPlaylist(url, undefined)) || (route.dash.toHls && (dash || isMpd(url, '')))) {
    for (const h of BYTE_HEADERS) delete headers[h];
  }

  const abort = new AbortController();
  reply.raw.once('close', () => {
    if (!reply.raw.writableFinished) abort.abort();
  });
  let res: UpstreamResponse;
  try {
    res = await options.upstreamFor(route)({
      url,
      // A media playlist made from an MPD has no length until the MPD is read.
      method: dash ? 'GET' : method,
      headers,
      signal: abort.signal,
      timeouts: route.timeouts,
      verifyTls: route.verifyTls,
    });
  } catch (err) {
    options.onError?.(err, route);
    if (isKeepsakeError(err)) throw err;
    throw new KeepsakeError(
      'UPSTREAM_FAILED',
      `${describeUrl(url)}: ${err instanceof Error ? err.message : String(err)}`,
      { cause: err },
    );
  }
  try {
    const mpd = res.status === 200 && isMpd(res.url, res.headers['content-type']);
    if (route.dash.toHls && (dash || mpd)) {
      // Fetched as the MPD; answered as HLS (dash-route.ts).
      const served = await dashAnswer({
        route,
        res: checkedResponse(route, res),
        key: dash?.key,
        method,
        headers: passedHeaders(res),
        fetch: options.upstreamFor(route),
        signal: abort.signal,
      });
      return reply.code(served.status).headers(served.headers).send(served.body);
    }
    return await answer(route, method, res, reply);
  } catch (err) {
    discard(res.body);
    options.onError?.(err, route);
    throw err;
  }
}

/** The response, if it stayed within the route and is not a redirect we cannot follow. */
function checkedResponse(route: Route, res: UpstreamResponse): UpstreamResponse {
  if (!withinRoute(res.url, route)) {
    throw new KeepsakeError(
      'UPSTREAM_FAILED',
      `route ${route.name}: the upstream redirected outside the route (${describeUrl(res.url)})`,
    );
  }
  if (res.status >= 300 && res.status < 400 && res.status !== 304) {
    throw new KeepsakeError(
      'UPSTREAM_FAILED',
      `route ${route.name}: the upstream answered ${res.status} without a usable redirect`,
    );
  }
  return res;
}

/** The upstream's response headers that may reach the player. */
function passedHeaders(res: UpstreamResponse): Record<string, string> {
  const out: Record<string, string> = {};
  for (const name of RESPONSE_HEADERS) {
    const value = res.headers[name];
    if (value !== undefined) out[name] = value;
  }
  return out;
}

async function answer(
  route: Route,
  method: 'GET' | 'HEAD',
  res: UpstreamResponse,
  reply: FastifyReply,
) {
  checkedResponse(route, res);
  // Headers go on the reply only once nothing can fail, so an error answer never
  // carries the upstream's content type or length.
  const out = passedHeaders(res);
  const playlist = route.hls.rewrite && isPlaylist(res.url, res.headers['content-type']);
  if (playlist && res.status === 206) {
    throw new KeepsakeError('UPSTREAM_FAILED', 'a partial playlist cannot be rewritten');
  }
  if (playlist && res.status === 200) {
    for (const h of ['etag', 'last-modified', 'content-range', 'accept-ranges']) delete out[h];
    if (method === 'HEAD') {
      // The rewritten length is unknown without the body.
      delete out['content-length'];
      discard(res.body);
      return reply.code(200).headers(out).send();
    }
    const text = await readPlaylist(route, res);
    // Yielding: a long (or hostile) playlist must not hold up every other request.
    const rewritten = await rewritePlaylistYielding(text, {
      playlistUrl: res.url,
      rewrite: (absolute) => proxyUrlFor(absolute, route),
      allowInsecure: route.hls.allowInsecureSegments,
    });
    out['content-length'] = String(Buffer.byteLength(rewritten));
    return reply.code(200).headers(out).send(rewritten);
  }
  reply.code(res.status).headers(out);
  if (method === 'HEAD' || res.status === 304 || res.status === 204) {
    discard(res.body);
    return reply.send();
  }
  return reply.send(res.body);
}

/** The playlist as text, refusing what could not be rewritten faithfully. */
async function readPlaylist(route: Route, res: UpstreamResponse): Promise<string> {
  const cap = route.hls.maxPlaylistBytes;
  const encoding = res.headers['content-encoding']?.trim().toLowerCase();
  if (encoding && encoding !== 'identity') {
    throw new KeepsakeError('PLAYLIST_REFUSED', `a ${encoding}-encoded playlist`);
  }
  const declared = Number(res.headers['content-length']);
  if (declared > cap) throw tooLarge(route);
  const bytes = await readCapped(res.body, cap, () => tooLarge(route));
  let text: string;
  try {
    text = new TextDecoder('utf-8', { fatal: true, ignoreBOM: false }).decode(bytes);
  } catch {
    throw new KeepsakeError('PLAYLIST_REFUSED', `${describeUrl(res.url)} is not UTF-8 text`);
  }
  if (!text.startsWith('#EXTM3U')) {
    throw new KeepsakeError('PLAYLIST_REFUSED', `${describeUrl(res.url)} is not an M3U playlist`);
  }
  return text;
}

function tooLarge(route: Route): KeepsakeError {
  return new KeepsakeError(
    'PLAYLIST_TOO_LARGE',
    `route ${route.name} rewrites playlists of up to ${route.hls.maxPlaylistBytes} bytes`,
  );
}

async function readCapped(body: Readable, cap: number, over: () => Error): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of body) {
    const buf = Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk as string);
    size += buf.length;
    if (size > cap) {
      discard(body);
      throw over();
    }
    chunks.push(buf);
  }
  return Buffer.concat(chunks);
}

/** Drops an upstream body we will not send (an aborted undici body errors; nobody listens). */
function discard(body: Readable): void {
  body.on('error', () => undefined);
  body.destroy();
}
