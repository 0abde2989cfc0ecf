// A finished job's outputs, as the files on disk hold them (ciphertext: the server never
// had the keys to decrypt them). Range, 206/416, ETag and Last-Modified (so If-Range and
// conditional requests) are @fastify/send's.

import send from '@fastify/send';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { FastifyPluginAsync } from 'fastify';
import { Type } from 'typebox';
import { KeepsakeError } from '../../core/errors';
import { jobOutputDir } from '../../jobs/execute';
import { JobId } from '../../net/contract';
import type { ServeRoutesOptions } from './context';

export const outputRoutes: FastifyPluginAsync<ServeRoutesOptions> = async (plugin, { access }) => {
  const app = plugin.withTypeProvider<TypeBoxTypeProvider>();
  app.get(
    '/v1/jobs/:id/outputs/*',
    {
      config: { scopes: ['results:read'] },
      schema: { params: Type.Object({ id: JobId, '*': Type.String() }) },
    },
    async (request, reply) => {
      const job = await access.ownJob(request, request.params.id);
      const name = request.params['*'];
      const output = job.outputs.find((o) => o.name === name);
      if (job.state !== 'succeeded' || !output) {
        throw new KeepsakeError('NOT_FOUND', `job ${job.id} has no output "${name}"`);
      }
      // The name is one the job recorded; send() still takes it as a URL path under the
      // job's folder (and refuses '..'), so each part is escaped as one.
      const path = `/${name.split('/').map(encodeURIComponent).join('/')}.ksv`;
      const sent = await send(request.raw, path, {
        root: jobOutputDir(job),
        dotfiles: 'allow',
        index: false,
        contentType: false,
        cacheControl: false,
      });
      if (sent.type === 'error') {
        if (sent.statusCode === 416) {
          const total = /\/(\d+)$/.exec(sent.headers['Content-Range'] ?? '')?.[1] ?? '?';
          reply.header('accept-ranges', 'bytes').header('content-range', `bytes */${total}`);
          throw new KeepsakeError('RANGE_NOT_SATISFIABLE', `the output has ${total} bytes`);
        }
        // The file of a recorded output is gone (or unreadable): not found, like any other.
        throw new KeepsakeError('NOT_FOUND', `job ${job.id} has no output "${name}"`, {
          cause: sent.metadata.error,
        });
      }
      return reply
        .code(sent.statusCode)
        .headers(sent.headers)
        .type('application/octet-stream')
        .send(sent.stream);
    },
  );
};
