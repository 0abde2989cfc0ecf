// Jobs: submit (from an upload, or an admin's local file), list, watch (Server-Sent
// Events), cancel, hand over the keys, delete; and the presets jobs run.

import { isAbsolute, normalize } from 'node:path';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { FastifyPluginAsync, FastifyRequest } from 'fastify';
import { Type } from 'typebox';
import { KeepsakeError } from '../../core/errors';
import { jobInputFor } from '../../jobs/job-input';
import type { Job } from '../../jobs/queue';
import { removeJob } from '../../jobs/remove-job';
import { TAPE_ANALYSIS, submitTapeAnalysis } from '../../jobs/tape-job';
import { submitJob } from '../../jobs/worker';
import { parseCidrs } from '../../net/cidr';
import {
  CreateJobSchema,
  JobId,
  JobKeysSchema,
  JobViewSchema,
  ListJobsQuery,
  PresetListSchema,
  SERVE_PATHS,
} from '../../net/contract';
import { hasScopes } from '../../net/roles';
import { describePresets, getPreset } from '../../presets';
import { jobKeysFrom } from '../job-keys';
import { callerOf, mayAccess, type ServeRoutesOptions } from './context';
import { SECURITY_HEADERS } from './guard';

const LOOPBACK = parseCidrs(['127.0.0.0/8', '::1/128']);
const ENDED = ['succeeded', 'failed', 'cancelled'];

export const jobRoutes: FastifyPluginAsync<ServeRoutesOptions> = async (
  plugin,
  { ctx, access },
) => {
  const app = plugin.withTypeProvider<TypeBoxTypeProvider>();
  const { engine, uploads, jobKeys } = ctx;
  const { ownJob, ownUpload, view, record } = access;
  const jobParams = Type.Object({ id: JobId });

  app.get(
    SERVE_PATHS.presets,
    { config: { scopes: ['presets:read'] }, schema: { response: { 200: PresetListSchema } } },
    async () => describePresets(),
  );

  app.post(
    SERVE_PATHS.jobs,
    {
      config: { scopes: ['jobs:run'] },
      schema: { body: CreateJobSchema, response: { 201: JobViewSchema } },
    },
    async (request, reply) => {
      const caller = callerOf(request);
      const body = request.body;
      // A tape's analysis is a job of its own kind (jobs/tape-job.ts), not a preset: it
      // takes no parameters, and its one output is the analysis, sealed like any output.
      const tape = body.preset === TAPE_ANALYSIS;
      if (tape && Object.keys(body.params).length > 0) {
        throw new KeepsakeError('INVALID_PARAMETER', 'a tape analysis takes no parameters');
      }
      // Its pool's workers run presets only; a server that runs no job itself
      // (concurrency 0) would keep an analysis queued for ever.
      if (tape && engine.concurrency === 0) {
        throw new KeepsakeError(
          'FEATURE_UNAVAILABLE',
          'this server leaves every job to its helper computers, and they cannot look through a tape yet; analyse it on this computer',
        );
      }
      const preset = tape ? undefined : getPreset(body.preset);
      if (preset && !hasScopes(caller.role, preset.scopes)) {
        throw new KeepsakeError(
          'FORBIDDEN',
          `preset ${preset.name} needs ${preset.scopes.join(', ')}`,
        );
      }
      let input: Job['input'];
      let uploadId: string | undefined;
      if ('upload' in body.input) {
        const upload = ownUpload(request, body.input.upload);
        if (upload.offset !== upload.size) {
          throw new KeepsakeError(
            'UPLOAD_INCOMPLETE',
            `upload ${upload.id} has ${upload.offset} of ${upload.size} bytes`,
          );
        }
        // One upload feeds one job: deleting that job deletes the upload with it.
        if ((await engine.queue.list({ upload: upload.id, limit: 1 })).length > 0) {
          throw new KeepsakeError(
            'UPLOAD_INCOMPLETE',
            `upload ${upload.id} already feeds a job; upload it again`,
          );
        }
        uploadId = upload.id;
        input = { kind: 'vault', path: uploads.path(upload.id) };
      } else {
        // A path names a file on the server itself: only an admin on this machine may.
        if (caller.role !== 'admin') {
          throw new KeepsakeError(
            'FORBIDDEN',
            'only an admin may name a local file; upload it instead',
          );
        }
        input = await localInput(request, body.input.path);
      }
      const spec = {
        input,
        outputDir: engine.outputRoot,
        priority: body.priority,
        options: {
          thorough: body.thorough,
          mode: body.mode,
          submittedBy: caller.clientId,
          upload: uploadId,
        },
      };
      const job = tape
        ? await submitTapeAnalysis(engine.queue, spec)
        : await submitJob(engine.queue, { ...spec, preset: body.preset, params: body.params });
      jobKeys.set(job.id, jobKeysFrom(body.keys));
      record(request, 'job.create', job.id, `${body.preset} ${JSON.stringify(body.params)}`);
      reply.header('location', SERVE_PATHS.job(job.id));
      return reply.code(201).send(view(job));
    },
  );

  app.get(
    SERVE_PATHS.jobs,
    {
      config: { scopes: ['jobs:read'] },
      schema: { querystring: ListJobsQuery, response: { 200: Type.Array(JobViewSchema) } },
    },
    async (request) => {
      const caller = callerOf(request);
      const { state, limit } = request.query;
      const jobs = await engine.queue.list({ states: state ? [state] : undefined, limit });
      return jobs.filter((j) => mayAccess(caller, j.options.submittedBy)).map(view);
    },
  );

  app.get(
    '/v1/jobs/:id',
    {
      config: { scopes: ['jobs:read'] },
      schema: { params: jobParams, response: { 200: JobViewSchema } },
    },
    async (request) => view(await ownJob(request, request.params.id)),
  );

  app.get(
    '/v1/jobs/:id/events',
    { config: { scopes: ['jobs:read'] }, schema: { params: jobParams } },
    async (request, reply) => {
      let job = await ownJob(request, request.params.id);
      reply.hijack();
      const res = reply.raw;
      res.writeHead(200, {
        ...SECURITY_HEADERS,
        'content-type': 'text/event-stream; charset=utf-8',
        connection: 'keep-alive',
      });
      let closed = false;
      request.raw.on('close', () => (closed = true));
      let last = '';
      while (!closed) {
        const data = JSON.stringify(view(job));
        if (data !== last) {
          res.write(`event: ${ENDED.includes(job.state) ? 'end' : 'job'}\ndata: ${data}\n\n`);
          last = data;
        }
        if (ENDED.includes(job.state)) break;
        await new Promise((r) => setTimeout(r, 250));
        const next = await engine.queue.get(job.id).catch(() => undefined);
        if (!next) break; // deleted meanwhile
        job = next;
      }
      res.end();
    },
  );

  app.post(
    '/v1/jobs/:id/cancel',
    {
      config: { scopes: ['jobs:cancel'] },
      schema: { params: jobParams, response: { 200: JobViewSchema } },
    },
    async (request) => {
      await ownJob(request, request.params.id);
      const job = await engine.worker.cancel(request.params.id);
      record(request, 'job.cancel', job.id);
      return view(job);
    },
  );

  app.put(
    '/v1/jobs/:id/keys',
    { config: { scopes: ['jobs:run'] }, schema: { params: jobParams, body: JobKeysSchema } },
    async (request, reply) => {
      const job = await ownJob(request, request.params.id);
      if (job.state !== 'queued' && job.state !== 'running') {
        throw new KeepsakeError('JOB_FINISHED', `job ${job.id} has already ${job.state}`);
      }
      jobKeys.set(job.id, jobKeysFrom(request.body));
      record(request, 'job.keys', job.id);
      return reply.code(204).send();
    },
  );

  app.delete(
    '/v1/jobs/:id',
    { config: { scopes: ['jobs:cancel'] }, schema: { params: jobParams } },
    async (request, reply) => {
      const job = await removeJob(engine, await ownJob(request, request.params.id));
      jobKeys.delete(job.id);
      if (job.options.upload) await uploads.delete(job.options.upload);
      record(request, 'job.delete', job.id);
      return reply.code(204).send();
    },
  );
};

/** A local path as input: only for a caller on this machine, and only a real file. */
async function localInput(request: FastifyRequest, path: string): Promise<Job['input']> {
  if (!LOOPBACK.has(request.clientAddress) || request.headers['x-forwarded-for'] !== undefined) {
    throw new KeepsakeError(
      'FORBIDDEN',
      'local paths are accepted from this machine only; upload the file instead',
    );
  }
  if (!isAbsolute(path) || normalize(path) !== path) {
    throw new KeepsakeError('USAGE', 'a local input path must be absolute and normalised');
  }
  return jobInputFor(path);
}
