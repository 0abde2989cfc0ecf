// The hardened server's HTTP application: HTTPS only, signed clients, scopes per route
// and per preset, a Host allowlist, rate limits, security headers, an audit entry for
// every change and every refusal, and `{code, message}` for every error.
//
// Routes are declared with the schemas of contract.ts, which also produce
// /v1/openapi.json through @fastify/swagger. Each resource is a plugin of its own
// (serve/*.ts); the checks before every route are serve/guard.ts.

import swagger from '@fastify/swagger';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import Fastify, { type FastifyInstance } from 'fastify';
import { ENGINE_VERSION } from '../core/version';
import { SERVER_TLS_OPTIONS } from '../net/server-tls';
import { docsRoutes } from './docs-routes';
import { errorHandlingPlugin } from './error-handling';
import { healthRoutes } from './health-routes';
import { trustProxyFor } from './serve-auth';
import { createAccess, type ServeContext, type ServeRoutesOptions } from './serve/context';
import { serveGuard } from './serve/guard';
import { jobRoutes } from './serve/jobs';
import { opsRoutes } from './serve/ops';
import { outputRoutes } from './serve/outputs';
import { pairRoutes } from './serve/pairing';
import { proxyRoutes } from './serve/proxy';
import { refusalAuditor } from './serve/refusals';
import { uploadRoutes } from './serve/uploads';
import { workerRoutes } from './serve/workers';

export async function buildServeApp(ctx: ServeContext): Promise<FastifyInstance> {
  const app = Fastify({
    https: { ...SERVER_TLS_OPTIONS, key: ctx.tls.key, cert: ctx.tls.cert },
    logger: false,
    forceCloseConnections: true,
    bodyLimit: 1024 * 1024,
    // Behind the configured reverse proxies, the client is who they say it is.
    trustProxy: trustProxyFor(ctx.config.trustedProxies),
    // Our own ids never need more; long URLs are refused before routing.
    routerOptions: { maxParamLength: 256 },
    // Unknown fields are an error, not silently dropped (Fastify's default strips them).
    ajv: { customOptions: { removeAdditional: false } },
  }).withTypeProvider<TypeBoxTypeProvider>();

  await app.register(serveGuard, { ctx });
  // Every refusal (bad input as much as a bad signature) and every failure is audited.
  await app.register(errorHandlingPlugin, {
    logError: ctx.logError,
    onError: refusalAuditor(ctx.audit),
  });
  await app.register(swagger, {
    openapi: {
      info: { title: 'Keepsake engine', version: ENGINE_VERSION },
      components: {
        securitySchemes: {
          hmac: {
            type: 'apiKey',
            in: 'header',
            name: 'X-DFFmpeg-Signature',
            description: 'HMAC-SHA256; see /v1/docs/auth',
          },
        },
      },
    },
  });

  // Operations first (no signature: probes and scrapers cannot sign), then the resources.
  await app.register(healthRoutes, { health: ctx.health });
  await app.register(docsRoutes);
  const routes: ServeRoutesOptions = { ctx, access: createAccess(ctx) };
  await app.register(pairRoutes, routes);
  await app.register(uploadRoutes, routes);
  await app.register(jobRoutes, routes);
  await app.register(outputRoutes, routes);
  await app.register(proxyRoutes, routes);
  await app.register(opsRoutes, routes);
  if (ctx.pool) await app.register(workerRoutes, { ...routes, pool: ctx.pool });
  return app;
}
