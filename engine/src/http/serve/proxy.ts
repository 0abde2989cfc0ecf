// The direct stream proxy, for signed callers with proxy:read (it fetches only what
// `proxyAllow` permits, through `upstreamProxy` when one is set), and the network probes: /ip anyone may use, like /live;
// /speedtest sends 8 MiB, which must not be free bandwidth for whoever asks, so it is for
// signed callers who may use the proxy. The ClearKey key store (/keys) is for signed
// admins only; every key loaded is audited (never the key), and the keys are wiped when
// the server closes.

import { createHash } from 'node:crypto';
import type { FastifyPluginAsync } from 'fastify';
import { KeepsakeError } from '../../core/errors';
import { Allowlist, type AllowlistEntry } from '../../proxy/allowlist';
import { KeyStore } from '../../proxy/key-store';
import { keyRoutes } from '../../proxy/key-routes';
import { SPEEDTEST_PATH, opsRoutes } from '../../proxy/ops-routes';
import { proxyStreamRoutes } from '../../proxy/stream-route';
import { createUpstreamFetch } from '../../proxy/upstream-fetch';
import { parseUpstreamProxy } from '../../proxy/upstream-proxy';
import { callerOf, type ServeRoutesOptions } from './context';

const kidDigest = (kid: string) =>
  `kid-sha256:${createHash('sha256').update(kid).digest('hex').slice(0, 16)}`;

export const proxyRoutes: FastifyPluginAsync<ServeRoutesOptions> = async (app, { ctx, access }) => {
  const { config, metrics } = ctx;
  const upstream = createUpstreamFetch({
    allowlist: new Allowlist(config.proxyAllow as unknown as AllowlistEntry[]),
    events: metrics.proxy.upstreamEvents,
    // Checked when the configuration was read (serve-config.ts).
    ...(config.upstreamProxy ? { proxy: parseUpstreamProxy(config.upstreamProxy) } : {}),
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
  const keys = new KeyStore();
  app.addHook('onClose', async () => keys.close());
  await app.register(async (scope) => {
    scope.addHook('onRoute', (route) => {
      route.config = { ...route.config, scopes: ['proxy:read'] };
    });
    // Signed first (the guard, by the scope above), then the admin role: no scope is
    // admin's alone for this, and a client holding proxy:read must not read keys.
    scope.addHook('preValidation', (request, _reply, done) => {
      const { role } = callerOf(request);
      done(role === 'admin' ? undefined : new KeepsakeError('FORBIDDEN', 'only admins hold keys'));
    });
    await scope.register(
      keyRoutes({
        store: keys,
        onLoad: (request, held) =>
          // The audit names the key by a digest of its id: ids stay out of logs too.
          access.record(
            request,
            'proxy.key.load',
            kidDigest(held.kid),
            `expires ${held.expiresAt}`,
          ),
      }),
    );
  });
};
