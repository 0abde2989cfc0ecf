// The one place the proxy talks to upstreams. Every hop (the first URL and each redirect)
// must match the allowlist, and every address is checked when the socket is opened: the
// connector resolves host names itself and refuses the connection if any resolved address
// is special-purpose, so DNS rebinding (a name that resolved to a public address when
// checked and a private one when connected) cannot slip between check and use. IP-literal
// hosts skip name resolution, so the connector checks them directly.
//
// Connecting (with those checks) is upstream-connect.ts and a single request is
// upstream-dispatch.ts; this module follows redirects and retries.

import { lookup as dnsLookup } from 'node:dns/promises';
import { isIP } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { Agent } from 'undici';
import { backoff } from '../core/backoff';
import { KeepsakeError, isKeepsakeError } from '../core/errors';
import { refusalReason } from './address-policy';
import type { Allowlist, AllowlistMatch } from './allowlist';
import { RetryBudget } from './retry-budget';
import type { RetryBudgetOptions } from './retry-budget';
import { connector, forbidden, type Resolver } from './upstream-connect';
import { discardBody, dispatch, errorCode, joinHeaders } from './upstream-dispatch';
import { PROXY_ERROR, proxiedConnector, type UpstreamProxy } from './upstream-proxy';
import type {
  UpstreamFetch,
  UpstreamRequest,
  UpstreamResponse,
  UpstreamTimeouts,
} from './upstream-types';

export type { Resolver } from './upstream-connect';
export { discardBody } from './upstream-dispatch';

export interface UpstreamEvents {
  /** A retry is about to be made; `reason` is an error code or 'status 503'. */
  retry?(reason: string): void;
  /** An attempt failed (network error or 5xx), retried or not. */
  upstreamError?(reason: string): void;
  /** Body bytes passed on to whoever reads or pipes a response (not discarded ones). */
  bodyBytes?(bytes: number): void;
}

export interface UpstreamFetchOptions {
  allowlist: Allowlist;
  /** Default: the system resolver. Tests pass their own to play a rebinding DNS server. */
  resolve?: Resolver;
  timeouts?: Partial<UpstreamTimeouts>;
  /** Redirects followed per request (default 10); one more is a 502. */
  maxRedirects?: number;
  /** Attempts per hop including the first (default 3). */
  maxAttempts?: number;
  /** Backoff before retry n (n ≥ 1) is random in [0, min(maxMs, baseMs · 2^(n-1))]. */
  backoff?: { baseMs?: number; maxMs?: number };
  /** A shared budget, or options for a new one owned by this fetcher. */
  retryBudget?: RetryBudget | RetryBudgetOptions;
  /** Extra trusted CA certificates (PEM), e.g. a home server's own CA. */
  ca?: string | string[];
  /** Reach upstreams through this SOCKS5 or HTTP CONNECT proxy (upstream-proxy.ts). */
  proxy?: UpstreamProxy;
  events?: UpstreamEvents;
}

export interface UpstreamFetcher extends UpstreamFetch {
  /** Closes the pooled connections. */
  close(): Promise<void>;
}

export const DEFAULT_TIMEOUTS: UpstreamTimeouts = {
  connectMs: 10_000,
  readMs: 30_000,
  requestMs: 30_000,
};

const REDIRECTS = new Set([301, 302, 303, 307, 308]);
/** Never sent upstream whatever the caller passes: undici or the hop owns them. */
const HOP_HEADERS = new Set([
  'host',
  'connection',
  'keep-alive',
  'transfer-encoding',
  'te',
  'trailer',
  'upgrade',
  'content-length',
  'proxy-authorization',
  'proxy-connection',
]);
/** Errors worth another attempt: the connection broke or stalled, not a refusal or bad TLS. */
const TRANSIENT = new Set([
  'ECONNRESET',
  'ECONNREFUSED',
  'ECONNABORTED',
  'EPIPE',
  'ETIMEDOUT',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'EAI_AGAIN',
  'UND_ERR_CONNECT_TIMEOUT',
  'UND_ERR_HEADERS_TIMEOUT',
  'UND_ERR_BODY_TIMEOUT',
  'UND_ERR_SOCKET',
  'UND_ERR_CLOSED',
  'REQUEST_TIMEOUT',
  PROXY_ERROR,
]);

export function createUpstreamFetch(options: UpstreamFetchOptions): UpstreamFetcher {
  const resolve =
    options.resolve ?? ((host: string) => dnsLookup(host, { all: true, verbatim: true }));
  const base = { ...DEFAULT_TIMEOUTS, ...options.timeouts };
  const maxRedirects = options.maxRedirects ?? 10;
  const maxAttempts = Math.max(1, options.maxAttempts ?? 3);
  const baseMs = options.backoff?.baseMs ?? 100;
  const maxMs = options.backoff?.maxMs ?? 2_000;
  const budget =
    options.retryBudget instanceof RetryBudget
      ? options.retryBudget
      : new RetryBudget(options.retryBudget);
  const ca = options.ca === undefined ? undefined : [options.ca].flat();
  const events = options.events ?? {};

  // One pool per allowlist entry (its permitted ranges go into the connector) and TLS mode.
  const agents = new Map<string, Agent>();
  const agentFor = (match: AllowlistMatch, verifyTls: boolean, t: UpstreamTimeouts): Agent => {
    const key = `${match.index}/${verifyTls}/${t.connectMs}`;
    let agent = agents.get(key);
    if (!agent) {
      const connect = options.proxy
        ? proxiedConnector(options.proxy, resolve, match.permitted, verifyTls, t.connectMs, ca)
        : connector(resolve, match.permitted, verifyTls, t.connectMs, ca);
      agent = new Agent({
        connect,
        // Media servers are fine with a few parallel connections per player.
        connections: 16,
      });
      agents.set(key, agent);
    }
    return agent;
  };

  const allowed = (url: URL, from?: URL): AllowlistMatch => {
    const result = options.allowlist.match(url);
    if (!result.ok) {
      throw forbidden(from ? `redirect to ${url.origin} refused: ${result.reason}` : result.reason);
    }
    if (from?.protocol === 'https:' && url.protocol === 'http:' && !result.match.allowDowngrade) {
      throw forbidden(`redirect from https to ${url.origin} refused: it would drop encryption`);
    }
    if (isIP(url.hostname.replace(/^\[|\]$/g, ''))) {
      // Checked again at connect time; refusing here gives the message before any pooling.
      const refused = refusalReason(url.hostname, result.match.permitted);
      if (refused) throw forbidden(refused);
    }
    return result.match;
  };

  /** One attempt at one hop; rejects with the raw error. */
  const attempt = async (
    url: URL,
    request: UpstreamRequest,
    match: AllowlistMatch,
    t: UpstreamTimeouts,
  ) => {
    const deadline = new AbortController();
    const timer = setTimeout(
      () =>
        deadline.abort(Object.assign(new Error('request timed out'), { code: 'REQUEST_TIMEOUT' })),
      t.requestMs,
    );
    const headers: Record<string, string> = {};
    for (const [name, value] of Object.entries(request.headers)) {
      if (!HOP_HEADERS.has(name.toLowerCase())) headers[name.toLowerCase()] = value;
    }
    try {
      return await dispatch(
        agentFor(match, request.verifyTls ?? true, t),
        {
          origin: url.origin,
          path: `${url.pathname}${url.search}`,
          method: request.method,
          headers,
          headersTimeout: t.readMs,
          bodyTimeout: t.readMs,
        },
        request.signal ? [request.signal, deadline.signal] : [deadline.signal],
        events.bodyBytes,
      );
    } catch (err) {
      // The deadline's reason is what undici rethrows; name it for the retry decision.
      throw deadline.signal.aborted && !request.signal?.aborted ? deadline.signal.reason : err;
    } finally {
      clearTimeout(timer);
    }
  };

  /** One hop with retries on transient errors and 5xx, within the budget. */
  const hop = async (
    url: URL,
    request: UpstreamRequest,
    match: AllowlistMatch,
    t: UpstreamTimeouts,
  ) => {
    budget.deposit();
    for (let n = 1; ; n += 1) {
      let reason: string;
      let failure: unknown;
      try {
        const response = await attempt(url, request, match, t);
        if (response.statusCode < 500) return response;
        await discardBody(response.body);
        reason = `status ${response.statusCode}`;
      } catch (err) {
        if (isKeepsakeError(err) || request.signal?.aborted) throw err;
        reason = errorCode(err);
        failure = err;
        if (!TRANSIENT.has(reason)) {
          events.upstreamError?.(reason);
          throw new KeepsakeError('UPSTREAM_FAILED', `${url.origin}: ${describe(err)}`, {
            cause: err,
          });
        }
      }
      events.upstreamError?.(reason);
      if (n >= maxAttempts || !budget.tryWithdraw()) {
        const why = n >= maxAttempts ? `after ${n} attempts` : 'and the retry budget is spent';
        throw new KeepsakeError('UPSTREAM_FAILED', `${url.origin} failed (${reason}) ${why}`, {
          cause: failure,
        });
      }
      events.retry?.(reason);
      const waitMs = backoff(n, { baseMs, maxMs, jitter: 'full' });
      await sleep(waitMs, undefined, request.signal ? { signal: request.signal } : {});
    }
  };

  const fetchUpstream = async (request: UpstreamRequest): Promise<UpstreamResponse> => {
    const t = { ...base, ...request.timeouts };
    let url = new URL(request.url.href);
    let match = allowed(url);
    let method = request.method;
    for (let redirects = 0; ; redirects += 1) {
      const response = await hop(url, { ...request, method }, match, t);
      const location = response.headers.location;
      if (!REDIRECTS.has(response.statusCode) || location === undefined) {
        return {
          url,
          status: response.statusCode,
          headers: joinHeaders(response.headers),
          body: response.body,
        };
      }
      await discardBody(response.body);
      if (redirects >= maxRedirects) {
        throw new KeepsakeError('UPSTREAM_FAILED', `more than ${maxRedirects} redirects`);
      }
      let next: URL;
      try {
        next = new URL(Array.isArray(location) ? (location[0] ?? '') : location, url);
      } catch {
        throw new KeepsakeError('UPSTREAM_FAILED', `${url.origin} redirected to an invalid URL`);
      }
      match = allowed(next, url);
      if (response.statusCode === 303 && method !== 'HEAD') method = 'GET';
      url = next;
    }
  };

  return Object.assign(fetchUpstream, {
    close: async () => {
      const all = [...agents.values()];
      agents.clear();
      await Promise.all(all.map((a) => a.close()));
    },
  });
}

function describe(err: unknown): string {
  const code = errorCode(err);
  const message = err instanceof Error ? err.message : String(err);
  return code && !message.includes(code) ? `${message} (${code})` : message;
}
