// `keepsake proxy --routes FILE`: the host-routed stream proxy on its own loopback
// listener. Each route gets a checked upstream fetcher whose allowlist is exactly the
// route's origins and paths (plus the private ranges it names), so a rewritten playlist
// cannot send a player anywhere the route does not cover. SIGHUP reloads the routes
// (routes-holder.ts keeps the old ones when the new file is bad).

import type { AddressInfo } from 'node:net';
import Fastify from 'fastify';
import { ERROR_CODES, KeepsakeError } from '../core/errors';
import { parseCidrs } from '../net/cidr';
import { Allowlist, type AllowlistEntry, type ProxyScheme } from './allowlist';
import { createProxyMetrics } from './proxy-metrics';
import { routedProxy } from './route-proxy';
import type { Route } from './routes-config';
import { loadRoutes, type RoutesHolder } from './routes-holder';
import { createUpstreamFetch, type UpstreamFetcher } from './upstream-fetch';
import { Registry } from 'prom-client';

export interface ProxyServerOptions {
  routesFile: string;
  host?: string;
  port?: number;
  logError?: (err: unknown) => void;
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
  if (!LOOPBACK.has(host)) {
    throw new KeepsakeError(
      'USAGE',
      `the routed proxy listens on loopback only (got ${host}); put a TLS front end before it`,
    );
  }
  const holder = await loadRoutes(options.routesFile);
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
      });
      fetchers.set(route, fetcher);
      open.add(fetcher);
    }
    return fetcher;
  };
  const logError =
    options.logError ??
    ((err: unknown) => process.stderr.write(`keepsake proxy: ${String(err)}\n`));

  const app = Fastify({ logger: false, forceCloseConnections: true });
  app.setErrorHandler((err, _request, reply) => {
    if (err instanceof KeepsakeError) {
      return reply.code(ERROR_CODES[err.code].status).send(err.toJSON());
    }
    logError(err);
    return reply.code(500).send({ code: 'INTERNAL', message: ERROR_CODES.INTERNAL.summary });
  });
  await app.register(routedProxy({ routes: () => holder.current(), upstreamFor }));
  await app.listen({ host, port: options.port ?? 0 });
  const { port } = app.server.address() as AddressInfo;
  return {
    url: `http://${host.includes(':') ? `[${host}]` : host}:${port}`,
    holder,
    async close() {
      await app.close();
      await Promise.all([...open].map((f) => f.close()));
    },
  };
}
