// `GET|HEAD /proxy/stream?d=URL`: the direct stream proxy. It fetches one upstream URL
// through the checked fetcher and streams the body back unbuffered. What goes upstream is
// limited to a request-header allowlist; what comes back is limited to representation
// and caching headers, so an upstream cannot set cookies, CSP or redirects on our origin.
//
// The plugin does not authenticate callers itself beyond the optional shared secret: the
// host server registers it behind its own auth (bearer token or HMAC).

import { createHash, timingSafeEqual } from 'node:crypto';
import type { FastifyPluginAsync, FastifyReply, FastifyRequest } from 'fastify';
import { KeepsakeError, isKeepsakeError } from '../core/errors';
import type { ProxyMetrics, ProxyOutcome } from './proxy-metrics';
import { discardBody } from './upstream-fetch';
import type { UpstreamFetch, UpstreamResponse, UpstreamTimeouts } from './upstream-types';

export const PROXY_STREAM_PATH = '/proxy/stream';

/** Request headers a caller may send upstream, as `h_name=value` or as its own header. */
export const REQUEST_HEADER_ALLOWLIST: ReadonlySet<string> = new Set([
  'range',
  'if-range',
  'if-match',
  'if-none-match',
  'if-modified-since',
  'if-unmodified-since',
  'user-agent',
  'referer',
  'origin',
  'accept',
  'accept-charset',
  'accept-encoding',
  'accept-language',
  'cache-control',
]);

/**
 * Of the caller's own headers, Referer and Origin describe the page that embeds the
 * proxy (our loopback origin), which means nothing upstream: they go only as overrides.
 */
const OVERRIDE_ONLY = new Set(['referer', 'origin']);

/** Response headers copied from the upstream; everything else is dropped. */
export const RESPONSE_HEADER_ALLOWLIST: readonly string[] = [
  'content-type',
  'content-length',
  'content-range',
  'accept-ranges',
  // Without it a compressed body (if the caller sent Accept-Encoding) would be garbage.
  'content-encoding',
  'content-language',
  'etag',
  'last-modified',
  'cache-control',
  'expires',
  'age',
];

/** RFC 9110 field-value characters: no CR, LF or NUL can reach the upstream request. */
const FIELD_VALUE = /^[\t\x20-\x7e\x80-\xff]*$/;
const FIELD_NAME = /^[a-z0-9-]+$/;

export interface ProxyStreamOptions {
  /** The checked fetcher (createUpstreamFetch), shared with the routed proxy. */
  fetch: UpstreamFetch;
  /** Streams in progress at once; more are answered 429 (default 32). */
  maxConcurrent?: number;
  /** Seconds a refused caller is told to wait (Retry-After, default 1). */
  retryAfterSeconds?: number;
  /**
   * Optional shared secret, sent as `x-keepsake-api-password` or `Authorization: Bearer`.
   * Leave unset where the host server's auth already uses the Bearer header.
   */
  password?: string;
  metrics?: ProxyMetrics;
  timeouts?: Partial<UpstreamTimeouts>;
  /** Verify upstream TLS certificates (default true). */
  verifyTls?: boolean;
}

const digest = (s: string) => createHash('sha256').update(s).digest();

function hasPassword(request: FastifyRequest, password: string): boolean {
  const header = request.headers['x-keepsake-api-password'];
  const bearer = /^Bearer ([^\s]+)$/i.exec(request.headers.authorization ?? '')?.[1];
  const given = typeof header === 'string' ? header : bearer;
  if (given === undefined) return false;
  // Hashing first gives equal lengths, so the comparison time says nothing.
  return timingSafeEqual(digest(given), digest(password));
}

function usage(message: string): KeepsakeError {
  return new KeepsakeError('USAGE', message);
}

/** The upstream URL and headers from the query string and the caller's own headers. */
export function parseProxyRequest(
  rawUrl: string,
  clientHeaders: Record<string, string | string[] | undefined>,
): { url: URL; headers: Record<string, string> } {
  const query = new URL(rawUrl, 'http://proxy.invalid').searchParams;
  const targets = query.getAll('d');
  if (targets.length !== 1 || targets[0] === '') {
    throw usage('give the upstream URL once, as the d query parameter');
  }
  let url: URL;
  try {
    url = new URL(targets[0] ?? '');
  } catch {
    throw usage('the d parameter is not an absolute URL');
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw usage(`the d parameter must be an http or https URL, not ${url.protocol}`);
  }
  url.hash = '';

  const headers: Record<string, string> = {};
  for (const [name, value] of Object.entries(clientHeaders)) {
    const lower = name.toLowerCase();
    if (!REQUEST_HEADER_ALLOWLIST.has(lower) || OVERRIDE_ONLY.has(lower)) continue;
    if (typeof value === 'string') headers[lower] = value;
  }
  const overridden = new Set<string>();
  for (const [key, value] of query) {
    if (!key.startsWith('h_')) continue;
    const name = key.slice(2).replace(/_/g, '-').toLowerCase();
    if (!FIELD_NAME.test(name) || !REQUEST_HEADER_ALLOWLIST.has(name)) {
      throw usage(`header ${JSON.stringify(name)} may not be sent upstream`);
    }
    if (overridden.has(name)) throw usage(`header ${JSON.stringify(name)} is given twice`);
    if (!FIELD_VALUE.test(value)) {
      throw usage(`header ${JSON.stringify(name)} has a value with control characters`);
    }
    overridden.add(name);
    headers[name] = value;
  }
  return { url, headers };
}

/** The headers we answer with, or UPSTREAM_FAILED if the upstream contradicts itself. */
export function responseHeaders(upstream: UpstreamResponse): Record<string, string> {
  const range = upstream.headers['content-range'];
  if (upstream.status === 206 && range === undefined) {
    throw new KeepsakeError('UPSTREAM_FAILED', 'the upstream sent 206 without Content-Range');
  }
  // 416 carries 'Content-Range: bytes */size' by design; other statuses must not.
  if (range !== undefined && upstream.status !== 206 && upstream.status !== 416) {
    throw new KeepsakeError(
      'UPSTREAM_FAILED',
      `the upstream sent Content-Range with status ${upstream.status}`,
    );
  }
  const out: Record<string, string> = {};
  for (const name of RESPONSE_HEADER_ALLOWLIST) {
    const value = upstream.headers[name];
    if (value !== undefined) out[name] = value;
  }
  out['accept-ranges'] ??= 'bytes';
  return out;
}

function outcomeOf(err: unknown): ProxyOutcome {
  if (!isKeepsakeError(err)) return 'error';
  switch (err.code) {
    case 'USAGE':
      return 'bad_request';
    case 'UNAUTHORIZED':
      return 'unauthorized';
    case 'DESTINATION_FORBIDDEN':
      return 'refused';
    case 'RATE_LIMITED':
      return 'busy';
    case 'UPSTREAM_FAILED':
      return 'upstream_failed';
    default:
      return 'error';
  }
}

export function proxyStreamRoutes(options: ProxyStreamOptions): FastifyPluginAsync {
  const maxConcurrent = options.maxConcurrent ?? 32;
  const retryAfter = String(options.retryAfterSeconds ?? 1);
  const metrics = options.metrics;
  let active = 0;

  return async (app) => {
    const handler = async (request: FastifyRequest, reply: FastifyReply) => {
      const aborted = new AbortController();
      let outcome: ProxyOutcome = 'error';
      try {
        if (options.password !== undefined && !hasPassword(request, options.password)) {
          throw new KeepsakeError('UNAUTHORIZED', 'missing or wrong proxy password');
        }
        const { url, headers } = parseProxyRequest(request.url, request.headers);
        if (active >= maxConcurrent) {
          reply.header('retry-after', retryAfter);
          throw new KeepsakeError(
            'RATE_LIMITED',
            `${maxConcurrent} proxied streams are already running; retry in ${retryAfter} s`,
          );
        }
        // Held until the response is over, not until the handler returns: streams are long.
        active += 1;
        metrics?.active.inc();
        reply.raw.once('close', () => {
          active -= 1;
          metrics?.active.dec();
          if (!reply.raw.writableFinished) aborted.abort(new Error('the client went away'));
        });
        const upstream = await options.fetch({
          url,
          method: request.method === 'HEAD' ? 'HEAD' : 'GET',
          headers,
          signal: aborted.signal,
          ...(options.timeouts ? { timeouts: options.timeouts } : {}),
          ...(options.verifyTls === undefined ? {} : { verifyTls: options.verifyTls }),
        });
        let out: Record<string, string>;
        try {
          out = responseHeaders(upstream);
        } catch (err) {
          void discardBody(upstream.body);
          throw err;
        }
        outcome = upstream.status >= 400 ? 'upstream_4xx' : 'ok';
        reply.code(upstream.status).headers(out);
        if (request.method === 'HEAD') {
          void discardBody(upstream.body);
          return reply.send();
        }
        // Fastify pipes the body into the response (see upstream-body.ts); a client that
        // leaves destroys it, which aborts the upstream read. The fetcher counts the bytes.
        return reply.send(upstream.body);
      } catch (err) {
        if (aborted.signal.aborted) {
          // Nobody is left to answer; an error here would only be logged as unexpected.
          outcome = 'aborted';
          return reply;
        }
        outcome = outcomeOf(err);
        throw err;
      } finally {
        // Once per request; a stream the client leaves midway still counts as 'ok'.
        metrics?.requests.inc({ outcome });
      }
    };

    app.route({
      method: ['GET', 'HEAD'],
      url: PROXY_STREAM_PATH,
      exposeHeadRoute: false,
      handler,
    });
  };
}
