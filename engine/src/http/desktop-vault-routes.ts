// The vault's keys on the desktop API (desktop-vault-contract.ts, routes in desktop-route-table.ts): a new password, a new
// recovery key (the old one stops working), and the confirmation that the recovery key
// was stored. Registered beside desktopRoutes, behind the same bearer token.

import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { FastifyPluginAsync } from 'fastify';
import type { DesktopSession } from '../session/session';
import { DESKTOP_ROUTES } from '../net/desktop-route-table';

export function desktopVaultRoutes({ session }: { session: DesktopSession }): FastifyPluginAsync {
  return async (plain) => {
    const app = plain.withTypeProvider<TypeBoxTypeProvider>();

    app.route({ ...DESKTOP_ROUTES.vaultKeys, handler: async () => session.keys() });

    app.route({
      ...DESKTOP_ROUTES.setPassword,
      handler: async (request, reply) => {
        await session.setPassword(request.body);
        return reply.code(204).send();
      },
    });

    app.route({
      ...DESKTOP_ROUTES.newRecoveryKey,
      handler: async (request, reply) => {
        const recoveryKey = await session.newRecoveryKey(request.body);
        return reply.code(201).send({ recoveryKey });
      },
    });

    app.route({
      ...DESKTOP_ROUTES.confirmRecoveryKey,
      handler: async (_request, reply) => {
        await session.confirmRecoveryKey();
        return reply.code(204).send();
      },
    });
  };
}
