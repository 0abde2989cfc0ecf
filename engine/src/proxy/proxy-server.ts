// `keepsake proxy --routes FILE`: the host-routed stream proxy on its own loopback
// listener. Each route gets a checked upstream fetcher whose allowlist is exactly the
// route's origins and paths (plus the private ranges it names), so a rewritten playlist
// cannot send a player anywhere the route does not cover. SIGHUP reloads the routes
// (routes-holder.ts keeps the old ones when the new file is bad). Routes may name an
// upstream proxy (upstream-proxy.ts) and CORS settings (route-cors.ts); the file may give
// the listener its own certificate, reloaded when the files change (listener-tls.ts).

import type { AddressInfo } from 'node:net';
import type { Server as TlsServer } from 'node:tls';
import Fastify, { type FastifyRequest } from 'fastify';
import { ERROR_CODES, KeepsakeError } from '../core/errors';
import { parseCidrs } from '../net/cidr';
import { Allowlist, type AllowlistEntry, type ProxyScheme } from './allowlist';
import { loadTlsPair, watchTlsPair } from './listener-tls';
import { createProxyMetrics } from './proxy-metrics';
import { answerPreflight, corsHeaders } from './route-cors';
import { routedProxy } from './route-proxy';
import { matchRoute, type Route } from './routes-config';
import { loadRoutes, type RoutesHolder } from './routes-holder';
import { createUpstreamFetch, type UpstreamFetcher } from './upstream-fetch';
import { Registry } from 'prom-client';

export interface ProxyServerOptions {
  routesFile: string;
  host?: string;
  port?: number;
  logError?: (err: unknown) => void;
  /** How often the listener's certificate files are polled for changes (default 2 s). */
  tlsPollMs?: number;
  /** A new listener certificate was loaded. */
  onTlsReload?: () => void;
}

export interface ProxyServer {
  url: string;
  holder: RoutesHolder;
  close(): Promise<void>;
}

/** The allowlist a route implies: its upstream and extra origins, its paths and ranges. */
export function routeAllowlist(route: Route): Allowlist {
  const entries: AllowlistEntry[] = [route.upstream, ...route.origins].map((origin) => ({
    host: origin.hostname,
    schemes: [origin.protocol.slice(0, -1) as ProxyScheme],
    ports: [Number(origin.port || (origin.protocol === 'https:' ? 443 : 80))],
    paths: [...route.allow.paths],
    allowPrivate: [...route.allow.privateCidrs],
    allowDowngrade: route.hls.allowInsecureSegments,
  }));
  return new Allowlist(entries);
}

const LOOPBACK = parseCidrs(['127.0.0.0/8', '::1/128']);

export async function startProxyServer(options: ProxyServerOptions): Promise<ProxyServer> {
  const host = options.host ?? '127.0.0.1';
  const holder = await loadRoutes(options.routesFile);
  // The certificate paths are read at start; a reload changes routes, not the listener.
  const tlsFiles = holder.current().tls;
  if (!tlsFiles && !LOOPBACK.has(host)) {
    throw new KeepsakeError(
      'USAGE',
      `without "tls" in the routes file the routed proxy listens on loopback only (got ${host}); give it a certificate or put a TLS front end before it`,
    );
  }
  const pem = tlsFiles && (await loadTlsPair(tlsFiles));
  const metrics = createProxyMetrics(new Registry());
  // One fetcher per route object: a reload makes new routes, and so new fetchers.
  const fetchers = new WeakMap<Route, UpstreamFetcher>();
  const open = new Set<UpstreamFetcher>();
  const upstreamFor = (route: Route): UpstreamFetcher => {
    let fetcher = fetchers.get(route);
    if (!fetcher) {
      fetcher = createUpstreamFetch({
        allowlist: routeAllowlist(route),
        timeouts: route.timeouts,
        events: metrics.upstreamEvents,
        ...(route.upstreamProxy ? { proxy: route.upstreamProxy } : {}),
      });
      fetchers.set(route, fetcher);
      open.add(fetcher);
    }
    return fetcher;
  };
  const logError =
    options.logError ??
    ((err: unknown) => process.stderr.write(`keepsake proxy: ${String(err)}\n`));

  const app = Fastify({
    logger: false,
    forceCloseConnections: true,
    ...(pem ? { https: { cert: pem.cert, key: pem.key } } : {}),
  });
  app.setErrorHandler((err, _request, reply) => {
    if (err instanceof KeepsakeError) {
      return reply.code(ERROR_CODES[err.code].status).send(err.toJSON());
    }
    logError(err);
    return reply.code(500).send({ code: 'INTERNAL', message: ERROR_CODES.INTERNAL.summary });
  });
  const routeOf = (request: FastifyRequest) =>
    matchRoute(holder.current(), request.host, {
      address: request.raw.socket.localAddress ?? '',
      port: request.raw.socket.localPort ?? 0,
    });
  // On the root instance, so the headers are on every answer of a route, errors included.
  app.addHook('onRequest', async (request, reply) => {
    if (request.method !== 'OPTIONS') corsHeaders(routeOf(request)?.cors, request, reply);
  });
  app.options('/*', async (request, reply) => {
    const route = routeOf(request);
    if (!route)
      throw new KeepsakeError('FORBIDDEN_ORIGIN', 'no stream route serves that host name');
    return answerPreflight(route.cors, route.name, request, reply);
  });
  await app.register(routedProxy({ routes: () => holder.current(), upstreamFor }));
  await app.listen({ host, port: options.port ?? 0 });
  const { port } = app.server.address() as AddressInfo;
  const stopWatching =
    tlsFiles &&
    watchTlsPair(tlsFiles, (next) => (app.server as unknown as TlsServer).setSecureContext(next), {
      ...(options.tlsPollMs !== undefined ? { intervalMs: options.tlsPollMs } : {}),
      ...(options.onTlsReload ? { onReload: options.onTlsReload } : {}),
      onError: (err) =>
        logError(
          `listener certificate not reloaded; the previous one stays in force: ${err instanceof Error ? err.message : String(err)}`,
        ),
    });
  return {
    url: `${pem ? 'https' : 'http'}://${host.includes(':') ? `[${host}]` : host}:${port}`,
    holder,
    async close() {
      stopWatching?.();
      await app.close();
      await Promise.all([...open].map((f) => f.close()));
    },
  };
}
