// The direct stream proxy, for signed callers with proxy:read (it fetches only what
// `proxyAllow` permits), and the network probes: /ip anyone may use, like /live;
// /speedtest sends 8 MiB, which must not be free bandwidth for whoever asks, so it is for
// signed callers who may use the proxy.

import type { FastifyPluginAsync } from 'fastify';
import { Allowlist, type AllowlistEntry } from '../../proxy/allowlist';
import { SPEEDTEST_PATH, opsRoutes } from '../../proxy/ops-routes';
import { proxyStreamRoutes } from '../../proxy/stream-route';
import { createUpstreamFetch } from '../../proxy/upstream-fetch';
import type { ServeRoutesOptions } from './context';

export const proxyRoutes: FastifyPluginAsync<ServeRoutesOptions> = async (app, { ctx }) => {
  const { config, metrics } = ctx;
  const upstream = createUpstreamFetch({
    allowlist: new Allowlist(config.proxyAllow as unknown as AllowlistEntry[]),
    events: metrics.proxy.upstreamEvents,
  });
  app.addHook('onClose', () => upstream.close());
  await app.register(async (scope) => {
    scope.addHook('onRoute', (route) => {
      route.config = { ...route.config, scopes: ['proxy:read'] };
    });
    await scope.register(proxyStreamRoutes({ fetch: upstream, metrics: metrics.proxy }));
  });
  await app.register(async (scope) => {
    scope.addHook('onRoute', (route) => {
      if (route.url === SPEEDTEST_PATH) route.config = { ...route.config, scopes: ['proxy:read'] };
    });
    await scope.register(opsRoutes({ trustedProxies: config.trustedProxies }));
  });
};
