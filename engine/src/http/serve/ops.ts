// What operators read: Prometheus metrics (unsigned, since scrapers cannot sign, so
// limited to `metricsCidrs`) and the audit log (signed, audit:read).

import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { FastifyPluginAsync } from 'fastify';
import { KeepsakeError } from '../../core/errors';
import { parseCidrs } from '../../net/cidr';
import { AuditQuery, SERVE_PATHS } from '../../net/contract';
import type { ServeRoutesOptions } from './context';

export const opsRoutes: FastifyPluginAsync<ServeRoutesOptions> = async (plugin, { ctx }) => {
  const app = plugin.withTypeProvider<TypeBoxTypeProvider>();
  const { config, metrics, audit } = ctx;
  const metricsFrom = parseCidrs(config.metricsCidrs);
  app.get(SERVE_PATHS.metrics, { schema: { hide: true } }, async (request, reply) => {
    if (!metricsFrom.has(request.clientAddress)) {
      throw new KeepsakeError('FORBIDDEN', 'metrics are not served to this address');
    }
    return reply.type(metrics.registry.contentType).send(await metrics.registry.metrics());
  });

  app.get(
    SERVE_PATHS.audit,
    { config: { scopes: ['audit:read'] }, schema: { querystring: AuditQuery } },
    async (request) => {
      const filter = { ...request.query };
      delete filter.nonce;
      return audit.query(filter);
    },
  );
};
