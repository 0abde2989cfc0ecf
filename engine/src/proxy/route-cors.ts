// CORS per route of the host-routed proxy: which web pages (origins) may read what the
// route serves from a script (a player on another site), with which methods and request
// headers, and whether with the browser's credentials. Upstream CORS headers are never
// passed on (route-proxy.ts), so these settings are the only ones a browser sees.
//
// `*` with credentials is refused when the routes are read: browsers ignore that
// combination, and echoing any origin instead would let every site read with the
// family's cookies.

import type { FastifyReply, FastifyRequest } from 'fastify';
import { KeepsakeError } from '../core/errors';

export interface CorsConfig {
  origins: string[];
  methods: ('GET' | 'HEAD')[];
  headers: string[];
  credentials: boolean;
  maxAgeSeconds: number;
}

export interface RouteCors {
  /** Exact origins (scheme://host[:port]), or '*' for any. */
  origins: ReadonlySet<string> | '*';
  methods: readonly string[];
  /** Lower-case request header names a page may send. */
  headers: readonly string[];
  credentials: boolean;
  maxAgeSeconds: number;
}

/** Response headers a player needs to read (byte ranges, sizes, types). */
const EXPOSED = 'content-length, content-range, accept-ranges, content-type, etag';
const TOKEN = /^[!#$%&'*+.^_`|~0-9a-z-]+$/i;

/** Checks a route's `cors` settings; problems go to `fail` with their path below `cors`. */
export function compileCors(
  cors: CorsConfig,
  fail: (path: (string | number)[], message: string) => void,
): RouteCors {
  const any = cors.origins.includes('*');
  if (any && cors.credentials) {
    fail(
      ['origins'],
      'cannot hold "*" when credentials is true: browsers refuse that pair, and allowing every site to read with the family\'s cookies is never wanted; list the origins',
    );
  }
  const origins = new Set<string>();
  cors.origins.forEach((o, i) => {
    if (o === '*') return;
    let url: URL | undefined;
    try {
      url = new URL(o);
    } catch {
      // reported below
    }
    if (!url || !/^https?:$/.test(url.protocol) || url.origin !== o.replace(/\/$/, '')) {
      fail(['origins', i], `"${o}" is not "*" or an origin like https://player.example`);
      return;
    }
    // The URL parser takes `*` as a host name; no browser sends one as an Origin.
    if (url.hostname.includes('*')) {
      fail(['origins', i], `"${o}": patterns are not matched, list each origin`);
      return;
    }
    origins.add(url.origin);
  });
  cors.headers.forEach((h, i) => {
    if (!TOKEN.test(h)) fail(['headers', i], `"${h}" is not a header name`);
    // Header names are compared as they are: "*" would allow none, not all.
    else if (h.includes('*')) fail(['headers', i], `"${h}": list the header names, such as range`);
  });
  return {
    origins: any ? '*' : origins,
    methods: [...new Set(cors.methods)],
    headers: [...new Set(cors.headers.map((h) => h.toLowerCase()))],
    credentials: cors.credentials,
    maxAgeSeconds: cors.maxAgeSeconds,
  };
}

function allowedOrigin(cors: RouteCors, origin: string | undefined): string | undefined {
  if (!origin) return undefined;
  if (cors.origins === '*') return '*';
  return cors.origins.has(origin) ? origin : undefined;
}

/** Adds the CORS headers of an actual (non-preflight) request whose Origin is allowed. */
export function corsHeaders(
  cors: RouteCors | undefined,
  request: FastifyRequest,
  reply: FastifyReply,
): void {
  if (!cors) return;
  const origin = allowedOrigin(cors, request.headers.origin);
  if (cors.origins !== '*') reply.header('vary', 'origin');
  if (!origin) return;
  reply.header('access-control-allow-origin', origin);
  reply.header('access-control-expose-headers', EXPOSED);
  if (cors.credentials) reply.header('access-control-allow-credentials', 'true');
}

/** Answers a preflight (OPTIONS) request: 204 with the route's permissions, or 403 saying why. */
export function answerPreflight(
  cors: RouteCors | undefined,
  routeName: string,
  request: FastifyRequest,
  reply: FastifyReply,
): FastifyReply {
  const refuse = (why: string) => {
    throw new KeepsakeError('FORBIDDEN_ORIGIN', `route ${routeName}: ${why}`);
  };
  if (!cors) return refuse('cross-origin requests are not allowed (no cors settings)');
  const origin = allowedOrigin(cors, request.headers.origin);
  if (cors.origins !== '*') reply.header('vary', 'origin');
  if (!origin) return refuse('that origin may not read this route');
  const method = String(request.headers['access-control-request-method'] ?? '').toUpperCase();
  if (!cors.methods.includes(method)) return refuse(`method ${method || '(none)'} is not allowed`);
  const asked = String(request.headers['access-control-request-headers'] ?? '')
    .split(',')
    .map((h) => h.trim().toLowerCase())
    .filter(Boolean);
  const extra = asked.filter((h) => !cors.headers.includes(h));
  if (extra.length) return refuse(`request header ${extra.join(', ')} is not allowed`);
  reply.header('access-control-allow-origin', origin);
  reply.header('access-control-allow-methods', cors.methods.join(', '));
  if (cors.headers.length) reply.header('access-control-allow-headers', cors.headers.join(', '));
  if (cors.credentials) reply.header('access-control-allow-credentials', 'true');
  reply.header('access-control-max-age', String(cors.maxAgeSeconds));
  return reply.code(204).send();
}
