// The vault's keys on the desktop API (desktop-vault-contract.ts): a new password, a new
// recovery key (the old one stops working), and the confirmation that the recovery key
// was stored. Registered beside desktopRoutes, behind the same bearer token.

import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { FastifyPluginAsync } from 'fastify';
import type { DesktopSession } from '../session/session';
import { CreatedVaultSchema } from '../net/desktop-contract';
import {
  NewRecoveryKeySchema,
  SetPasswordSchema,
  VAULT_KEY_PATHS,
  VaultKeysSchema,
} from '../net/desktop-vault-contract';

export function desktopVaultRoutes({ session }: { session: DesktopSession }): FastifyPluginAsync {
  return async (plain) => {
    const app = plain.withTypeProvider<TypeBoxTypeProvider>();

    app.get(VAULT_KEY_PATHS.keys, { schema: { response: { 200: VaultKeysSchema } } }, async () =>
      session.keys(),
    );

    app.post(
      VAULT_KEY_PATHS.password,
      { schema: { body: SetPasswordSchema } },
      async (request, reply) => {
        await session.setPassword(request.body);
        return reply.code(204).send();
      },
    );

    app.post(
      VAULT_KEY_PATHS.recoveryKey,
      { schema: { body: NewRecoveryKeySchema, response: { 201: CreatedVaultSchema } } },
      async (request, reply) => {
        const recoveryKey = await session.newRecoveryKey(request.body);
        return reply.code(201).send({ recoveryKey });
      },
    );

    app.post(VAULT_KEY_PATHS.recoveryKeyConfirm, async (_request, reply) => {
      await session.confirmRecoveryKey();
      return reply.code(204).send();
    });
  };
}
