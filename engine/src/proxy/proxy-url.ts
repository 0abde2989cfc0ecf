// How an upstream URL is spelled as a proxy URL, and back. Both directions check the
// allowlist, so a rewritten playlist can only point at what the proxy would fetch anyway,
// and a crafted request cannot reach anything a playlist could not.
//
// Routed (a route's host names):  https://origin/live/a.ts?x=1  ->  <base>/live/a.ts?x=1
//   another allowed origin:       http://cdn:8080/s/1.ts        ->  <base>/.ks-origin/http/cdn:8080/s/1.ts
// Direct (`/proxy/stream`):       <endpoint>?d=<percent-encoded absolute URL>
//
// Nothing of the incoming request (its query string, where a player's token may sit) is
// ever copied: a proxy URL is built from the upstream URL alone.

import { KeepsakeError } from '../core/errors';
import { describeUrl } from './playlist-rewrite';
import type { Route } from './routes-config';

/** Path prefix of upstream URLs on a route's further origins (`allow.origins`). */
export const ORIGIN_PREFIX = '/.ks-origin/';

/** The query parameter of the direct proxy that holds the upstream URL. */
export const DIRECT_PARAM = 'd';

/** The route's proxy URL for an upstream URL; PLAYLIST_REFUSED when outside the route. */
export function proxyUrlFor(absolute: URL, route: Route): string {
  const origin = route.origins.find((o) => o.origin === absolute.origin);
  if (!origin) {
    throw new KeepsakeError(
      'PLAYLIST_REFUSED',
      `${describeUrl(absolute)} is outside route ${route.name} (origin not allowed)`,
    );
  }
  checkPath(absolute.pathname, route, 'PLAYLIST_REFUSED');
  const path =
    origin === route.upstream
      ? absolute.pathname
      : `${ORIGIN_PREFIX}${absolute.protocol.slice(0, -1)}/${absolute.host}${absolute.pathname}`;
  const base = route.hls.baseUrl ? route.hls.baseUrl.origin : '';
  // An empty query (`x.ts?`) has an empty .search but is kept, so the upstream sees the same URL.
  const query = absolute.search || (absolute.href.split('#')[0]!.endsWith('?') ? '?' : '');
  return `${base}${path}${query}`;
}

/**
 * The upstream URL for a request's target (path and query as received), or FORBIDDEN when
 * the route does not allow it.
 */
export function upstreamUrlFor(route: Route, target: string): URL {
  if (!target.startsWith('/')) {
    throw new KeepsakeError('USAGE', 'the request target must be a path');
  }
  let origin = route.upstream;
  let rest = target;
  if (target.startsWith(ORIGIN_PREFIX)) {
    const m = /^([a-z]+)\/([^/?#]+)(\/[^#]*)?$/i.exec(target.slice(ORIGIN_PREFIX.length));
    const named = m ? safeOrigin(`${m[1]}://${m[2]}`) : undefined;
    const found = route.origins.find((o) => o.origin === named);
    if (!m || !found) {
      throw new KeepsakeError('FORBIDDEN', `route ${route.name} does not allow that origin`);
    }
    origin = found;
    rest = m[3] ?? '/';
  }
  // Concatenated, never resolved: `//host/x` must stay a path on the upstream.
  const url = new URL(`${origin.origin}${rest}`);
  if (url.origin !== origin.origin) {
    throw new KeepsakeError('USAGE', 'the request target must be a path');
  }
  url.hash = '';
  checkPath(url.pathname, route, 'FORBIDDEN');
  return url;
}

/** Whether an upstream URL (e.g. after redirects) lies within the route. */
export function withinRoute(url: URL, route: Route): boolean {
  return (
    route.origins.some((o) => o.origin === url.origin) &&
    route.allowsPath(url.pathname) &&
    !hasEncodedSeparator(url.pathname)
  );
}

function checkPath(pathname: string, route: Route, code: 'FORBIDDEN' | 'PLAYLIST_REFUSED') {
  // `//x` would read as another host once root-relative; %2F/%5C as separators upstream.
  if (pathname.startsWith('//') || hasEncodedSeparator(pathname)) {
    throw new KeepsakeError(code, `route ${route.name} refuses the path ${pathname}`);
  }
  if (!route.allowsPath(pathname)) {
    throw new KeepsakeError(code, `route ${route.name} does not allow the path ${pathname}`);
  }
}

function hasEncodedSeparator(pathname: string): boolean {
  return /%2f|%5c/i.test(pathname) || pathname.startsWith(ORIGIN_PREFIX);
}

function safeOrigin(text: string): string | undefined {
  try {
    return new URL(text).origin;
  } catch {
    return undefined;
  }
}

export interface DirectProxyOptions {
  /** The direct proxy's path or absolute URL (default `/proxy/stream`). */
  endpoint?: string;
  /** The direct proxy's allowlist: refused URLs are not written into a playlist. */
  allowed: (url: URL) => boolean;
}

/** The direct proxy's URL for an upstream URL; PLAYLIST_REFUSED when not allowed. */
export function directProxyUrlFor(absolute: URL, options: DirectProxyOptions): string {
  if (!options.allowed(absolute)) {
    throw new KeepsakeError(
      'PLAYLIST_REFUSED',
      `${describeUrl(absolute)} is not allowed by the proxy`,
    );
  }
  const endpoint = options.endpoint ?? '/proxy/stream';
  return `${endpoint}?${DIRECT_PARAM}=${encodeURIComponent(absolute.href)}`;
}

/** The upstream URL a direct proxy URL names (the inverse of directProxyUrlFor). */
export function upstreamFromDirectUrl(proxyUrl: URL): URL {
  const value = proxyUrl.searchParams.get(DIRECT_PARAM);
  const url = value === null ? undefined : safeUrl(value);
  if (!url || (url.protocol !== 'http:' && url.protocol !== 'https:')) {
    throw new KeepsakeError('USAGE', `the ${DIRECT_PARAM} parameter must be an http(s) URL`);
  }
  return url;
}

function safeUrl(text: string): URL | undefined {
  try {
    return new URL(text);
  } catch {
    return undefined;
  }
}
