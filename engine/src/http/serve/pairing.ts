// Pairing: unsigned, since the caller has no credential yet; the code's HMAC stands in.

import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { FastifyPluginAsync } from 'fastify';
import { Type } from 'typebox';
import { SERVE_PATHS } from '../../net/contract';
import type { ServeRoutesOptions } from './context';

export const pairRoutes: FastifyPluginAsync<ServeRoutesOptions> = async (plugin, { ctx }) => {
  const app = plugin.withTypeProvider<TypeBoxTypeProvider>();
  app.post(
    SERVE_PATHS.pair,
    {
      // A code has about 49 bits and lives ten minutes; a few tries a minute per address
      // keep guessing hopeless.
      config: { rateLimit: { max: 10, timeWindow: 60_000 } },
      // Unsigned, so read before anyone is known: a name, a nonce and a MAC fit in far
      // less, and a stalled 1 MiB body must not be a way to hold memory.
      bodyLimit: 4096,
      schema: {
        body: Type.Object(
          {
            name: Type.String({ pattern: '^[A-Za-z0-9._-]{1,64}$' }),
            nonce: Type.String({ pattern: '^[A-Za-z0-9+/]{22}==$' }),
            mac: Type.String({ pattern: '^[A-Za-z0-9+/]{43}=$' }),
          },
          { additionalProperties: false },
        ),
      },
    },
    async (request) => {
      const issued = ctx.pair(request.body);
      ctx.audit.append({
        actor: request.body.name,
        address: request.clientAddress,
        action: 'pair',
        target: issued.clientId,
        outcome: 'ok',
      });
      return issued;
    },
  );
};
