// Liveness, health and version: unsigned, since probes cannot sign. A plugin either server
// can register; what "healthy" means is the caller's (health.ts for the server).

import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { FastifyPluginAsync } from 'fastify';
import { BUILD_INFO, ENGINE_VERSION } from '../core/version';
import { HealthSchema, SERVE_PATHS, VersionSchema, type Health } from '../net/contract';

export interface HealthRoutesOptions {
  health: () => Promise<Health>;
}

export const healthRoutes: FastifyPluginAsync<HealthRoutesOptions> = async (plugin, options) => {
  const app = plugin.withTypeProvider<TypeBoxTypeProvider>();
  app.get(SERVE_PATHS.live, { schema: { hide: true } }, async () => ({ ok: true }));
  app.get(
    SERVE_PATHS.healthz,
    { schema: { response: { 200: HealthSchema, 503: HealthSchema } } },
    async (_request, reply) => {
      const health = await options.health();
      return reply.code(health.status === 'failing' ? 503 : 200).send(health);
    },
  );
  app.get(SERVE_PATHS.version, { schema: { response: { 200: VersionSchema } } }, async () => ({
    version: ENGINE_VERSION,
    commit: BUILD_INFO.commit,
    buildTime: BUILD_INFO.buildTime,
    node: process.versions.node,
  }));
};
