// Resumable uploads (a tus-like protocol): create, ask where it stands, send a chunk,
// delete. A chunk streams to disk while its hash is taken; the signature covers that hash
// and is checked before the upload's offset moves (UploadStore.append).

import type { Readable } from 'node:stream';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { FastifyPluginAsync } from 'fastify';
import { Type } from 'typebox';
import { KeepsakeError } from '../../core/errors';
import {
  ApiErrorSchema,
  CreateUploadSchema,
  SERVE_PATHS,
  UploadId,
  UploadViewSchema,
} from '../../net/contract';
import { callerOf, mayAccess, type ServeRoutesOptions } from './context';

export const uploadRoutes: FastifyPluginAsync<ServeRoutesOptions> = async (
  plugin,
  { ctx, access },
) => {
  const app = plugin.withTypeProvider<TypeBoxTypeProvider>();
  const { uploads, engine, gate, metrics } = ctx;
  const { ownUpload, record } = access;
  const uploadParams = Type.Object({ id: UploadId });

  app.post(
    SERVE_PATHS.uploads,
    {
      config: { scopes: ['uploads:write'] },
      schema: {
        body: CreateUploadSchema,
        response: { 201: UploadViewSchema, '4xx': ApiErrorSchema },
      },
    },
    async (request, reply) => {
      const upload = await uploads.create(request.body.size, callerOf(request).clientId);
      record(request, 'upload.create', upload.id, `${upload.size} bytes`);
      reply.header('location', SERVE_PATHS.upload(upload.id)).header('upload-offset', '0');
      return reply.code(201).send({ ...upload, complete: false });
    },
  );

  app.get(
    '/v1/uploads/:id',
    {
      config: { scopes: ['uploads:write'] },
      schema: { params: uploadParams, response: { 200: UploadViewSchema } },
    },
    async (request, reply) => {
      const upload = ownUpload(request, request.params.id);
      reply
        .header('upload-offset', String(upload.offset))
        .header('upload-length', String(upload.size));
      return { ...upload, complete: upload.offset === upload.size };
    },
  );

  app.patch(
    '/v1/uploads/:id',
    { config: { scopes: ['uploads:write'], streamAuth: true }, schema: { params: uploadParams } },
    async (request, reply) => {
      const arrivedAt = Date.now() - reply.elapsedTime;
      if (request.headers['content-type'] !== 'application/offset+octet-stream') {
        throw new KeepsakeError(
          'UNSUPPORTED_MEDIA_TYPE',
          'upload chunks are application/offset+octet-stream',
        );
      }
      const offset = Number(request.headers['upload-offset']);
      if (!Number.isSafeInteger(offset) || offset < 0) {
        throw new KeepsakeError('USAGE', 'the Upload-Offset header must be a byte offset');
      }
      // Someone else's upload is refused before a byte of the chunk is read.
      const claimed = request.claimed;
      if (claimed && !mayAccess(claimed, uploads.get(request.params.id).clientId)) {
        throw new KeepsakeError('NOT_FOUND', `no upload "${request.params.id}"`);
      }
      const upload = await uploads.append(
        request.params.id,
        offset,
        request.body as Readable,
        async (received, sha256Hex) => {
          // The signature covers the chunk's hash: checked before the offset moves.
          request.caller = gate.authenticate(request, { sha256Hex }, ['uploads:write'], arrivedAt);
          await app.spendCredentialBudget(request, reply);
          ownUpload(request, request.params.id);
          metrics.bytesUploaded.inc(received);
        },
      );
      if (upload.offset === upload.size) record(request, 'upload.complete', upload.id);
      return reply
        .code(204)
        .header('upload-offset', String(upload.offset))
        .header('upload-length', String(upload.size))
        .send();
    },
  );

  app.delete(
    '/v1/uploads/:id',
    { config: { scopes: ['uploads:write'] }, schema: { params: uploadParams } },
    async (request, reply) => {
      ownUpload(request, request.params.id);
      const users = await engine.queue.list({
        states: ['queued', 'running'],
        upload: request.params.id,
        limit: 1,
      });
      if (users.length > 0) {
        throw new KeepsakeError(
          'JOB_FINISHED',
          'a job still reads this upload; cancel or delete the job',
        );
      }
      await uploads.delete(request.params.id);
      record(request, 'upload.delete', request.params.id);
      return reply.code(204).send();
    },
  );
};
