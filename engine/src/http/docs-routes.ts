// The OpenAPI document and the plain-text docs pages (docs.ts), built from the routes the
// app declared. A plugin either server can register once @fastify/swagger is registered.

import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { FastifyPluginAsync } from 'fastify';
import { Type } from 'typebox';
import { KeepsakeError } from '../core/errors';
import { SERVE_PATHS } from '../net/contract';
import { DOC_PAGES, docsPage, type DocPage } from './docs';

export const docsRoutes: FastifyPluginAsync = async (plugin) => {
  const app = plugin.withTypeProvider<TypeBoxTypeProvider>();
  app.get(SERVE_PATHS.openapi, { schema: { hide: true } }, async () => app.swagger());
  app.get(SERVE_PATHS.docs, { schema: { hide: true } }, async (_request, reply) =>
    reply.type('text/plain; charset=utf-8').send(docsPage('overview', app)),
  );
  app.get(
    `${SERVE_PATHS.docs}/:page`,
    { schema: { hide: true, params: Type.Object({ page: Type.String({ maxLength: 32 }) }) } },
    async (request, reply) => {
      const { page } = request.params;
      if (!(DOC_PAGES as readonly string[]).includes(page)) {
        throw new KeepsakeError(
          'ROUTE_NOT_FOUND',
          `no docs page "${page}" (pages: ${DOC_PAGES.join(', ')})`,
        );
      }
      return reply.type('text/plain; charset=utf-8').send(docsPage(page as DocPage, app));
    },
  );
};
