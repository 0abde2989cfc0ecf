// The coordinator's routes for encoding workers (pool/coordinator.ts): heartbeat with
// what the worker can run, take a job, ranged reads of its input ciphertext, the job's
// keys by lease, resumable upload of encrypted outputs, finish and fail. Only a `worker`
// credential may use them (an admin holds the scope, but is not a worker); and a worker
// credential can use nothing else (roles.ts gives it no client scope).

import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import { createHash } from 'node:crypto';
import type { Readable } from 'node:stream';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { FastifyPluginAsync, FastifyRequest } from 'fastify';
import { Type } from 'typebox';
import { parseRange } from '../../core/byte-range';
import { KeepsakeError } from '../../core/errors';
import { JobId, JobKeysSchema } from '../../net/contract';
import {
  ClaimReplySchema,
  FinishSchema,
  HeartbeatReplySchema,
  HeartbeatSchema,
  OutputStateSchema,
  WORKER_PATHS,
  WorkerFailSchema,
  WorkerJobSchema,
} from '../../net/worker-contract';
import type { PoolCoordinator, WorkerIdentity } from '../../pool/coordinator';
import { MAX_CHUNK_BYTES, checkOutputName } from '../../pool/output-store';
import { callerOf, type ServeRoutesOptions } from './context';

const SCOPES = ['worker:lease'];
const jobParams = Type.Object({ id: JobId });
const outputParams = Type.Object({ id: JobId, '*': Type.String({ maxLength: 300 }) });

/** The signed caller, who must be a worker. */
function workerOf(request: FastifyRequest): WorkerIdentity {
  const caller = callerOf(request);
  if (caller.role !== 'worker') {
    throw new KeepsakeError('FORBIDDEN', 'only a worker credential may use the worker API');
  }
  return { clientId: caller.clientId, name: caller.name, address: request.clientAddress };
}

/** A chunk's bytes, at most MAX_CHUNK_BYTES, and their hash (which the signature covers). */
async function readChunk(body: Readable): Promise<{ chunk: Buffer; sha256Hex: string }> {
  const parts: Buffer[] = [];
  const hash = createHash('sha256');
  let length = 0;
  for await (const part of body) {
    length += (part as Buffer).length;
    if (length > MAX_CHUNK_BYTES) {
      body.destroy();
      throw new KeepsakeError('TOO_LARGE', `a chunk holds at most ${MAX_CHUNK_BYTES} bytes`);
    }
    hash.update(part as Buffer);
    parts.push(part as Buffer);
  }
  return { chunk: Buffer.concat(parts), sha256Hex: hash.digest('hex') };
}

export const workerRoutes: FastifyPluginAsync<
  ServeRoutesOptions & { pool: PoolCoordinator }
> = async (plugin, { ctx, pool }) => {
  const app = plugin.withTypeProvider<TypeBoxTypeProvider>();

  app.post(
    WORKER_PATHS.heartbeat,
    {
      config: { scopes: SCOPES },
      schema: { body: HeartbeatSchema, response: { 200: HeartbeatReplySchema } },
    },
    async (request) => pool.heartbeat(workerOf(request), request.body),
  );

  app.post(
    WORKER_PATHS.claim,
    { config: { scopes: SCOPES }, schema: { response: { 200: ClaimReplySchema } } },
    async (request) => pool.claim(workerOf(request)),
  );

  app.get(
    '/v1/worker/jobs/:id',
    {
      config: { scopes: SCOPES },
      schema: { params: jobParams, response: { 200: WorkerJobSchema } },
    },
    async (request) => pool.describe(workerOf(request), request.params.id),
  );

  app.get(
    '/v1/worker/jobs/:id/input',
    { config: { scopes: SCOPES }, schema: { params: jobParams } },
    async (request, reply) => {
      const path = await pool.inputPath(workerOf(request), request.params.id);
      const { size } = await stat(path);
      const range = parseRange(request.headers.range, size);
      reply.header('accept-ranges', 'bytes').type('application/octet-stream');
      if (range === 'unsatisfiable') {
        reply.header('content-range', `bytes */${size}`);
        throw new KeepsakeError('RANGE_NOT_SATISFIABLE', `the input has ${size} bytes`);
      }
      if (!range) return reply.header('content-length', String(size)).send(createReadStream(path));
      return reply
        .code(206)
        .header('content-range', `bytes ${range.start}-${range.end - 1}/${size}`)
        .header('content-length', String(range.end - range.start))
        .send(createReadStream(path, { start: range.start, end: range.end - 1 }));
    },
  );

  app.post(
    '/v1/worker/jobs/:id/lease',
    { config: { scopes: SCOPES }, schema: { params: jobParams, response: { 200: JobKeysSchema } } },
    async (request) => pool.lease(workerOf(request), request.params.id),
  );

  app.get(
    '/v1/worker/jobs/:id/outputs/*',
    {
      config: { scopes: SCOPES },
      schema: { params: outputParams, response: { 200: OutputStateSchema } },
    },
    async (request, reply) => {
      const name = request.params['*'];
      checkOutputName(name);
      await pool.held(workerOf(request), request.params.id, 'worker.output');
      const offset = await pool.outputs.offset(request.params.id, name);
      reply.header('upload-offset', String(offset));
      return { name, offset };
    },
  );

  app.put(
    '/v1/worker/jobs/:id/outputs/*',
    { config: { scopes: SCOPES, streamAuth: true }, schema: { params: outputParams } },
    async (request, reply) => {
      const arrivedAt = Date.now() - reply.elapsedTime;
      if (request.headers['content-type'] !== 'application/offset+octet-stream') {
        throw new KeepsakeError(
          'UNSUPPORTED_MEDIA_TYPE',
          'output chunks are application/offset+octet-stream',
        );
      }
      const offset = Number(request.headers['upload-offset']);
      if (!Number.isSafeInteger(offset) || offset < 0) {
        throw new KeepsakeError('USAGE', 'the Upload-Offset header must be a byte offset');
      }
      const name = request.params['*'];
      checkOutputName(name);
      if (request.claimed?.role !== 'worker') {
        throw new KeepsakeError('FORBIDDEN', 'only a worker credential may use the worker API');
      }
      const { chunk, sha256Hex } = await readChunk(request.body as Readable);
      // The signature covers the chunk's hash: nothing is written before it is checked.
      request.caller = ctx.gate.authenticate(request, { sha256Hex }, SCOPES, arrivedAt);
      await app.spendCredentialBudget(request, reply);
      const worker = workerOf(request);
      await pool.held(worker, request.params.id, 'worker.output');
      const at = await pool.outputs.append(request.params.id, name, offset, chunk);
      return reply.code(204).header('upload-offset', String(at)).send();
    },
  );

  app.post(
    '/v1/worker/jobs/:id/finish',
    { config: { scopes: SCOPES }, schema: { params: jobParams, body: FinishSchema } },
    async (request, reply) => {
      await pool.finish(workerOf(request), request.params.id, request.body);
      return reply.code(204).send();
    },
  );

  app.post(
    '/v1/worker/jobs/:id/fail',
    { config: { scopes: SCOPES }, schema: { params: jobParams, body: WorkerFailSchema } },
    async (request, reply) => {
      await pool.fail(workerOf(request), request.params.id, request.body);
      return reply.code(204).send();
    },
  );
};
