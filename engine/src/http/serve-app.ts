// The hardened server's HTTP application: HTTPS only, signed clients, scopes per route
// and per preset, a Host allowlist, rate limits, security headers, an audit entry for
// every change and every refusal, and `{code, message}` for every error.
//
// Routes are declared with the schemas of contract.ts, which also produce
// /v1/openapi.json through @fastify/swagger.

import { createReadStream } from 'node:fs';
import type { IncomingMessage } from 'node:http';
import { stat } from 'node:fs/promises';
import { isAbsolute, join, normalize } from 'node:path';
import type { Readable } from 'node:stream';
import rateLimit from '@fastify/rate-limit';
import swagger from '@fastify/swagger';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import Fastify, { type FastifyInstance, type FastifyRequest } from 'fastify';
import { Type } from 'typebox';
import { ERROR_CODES, KeepsakeError, type ErrorCode } from '../core/errors';
import { parseRange } from '../core/byte-range';
import { jobOutputDir } from '../jobs/execute';
import { jobInputFor } from '../jobs/job-input';
import type { JobEngine } from '../jobs/job-engine';
import type { Job, JobSnapshot } from '../jobs/queue';
import { removeJob } from '../jobs/remove-job';
import { submitJob } from '../jobs/worker';
import { describePresets, getPreset } from '../presets';
import { ENGINE_VERSION, BUILD_INFO } from '../core/version';
import type { AuditLog } from '../audit/audit';
import { toApiError } from './api-error';
import { watchBody } from './body-deadline';
import {
  ApiErrorSchema,
  AuditQuery,
  CreateJobSchema,
  CreateUploadSchema,
  HealthSchema,
  JobId,
  JobKeysSchema,
  JobViewSchema,
  ListJobsQuery,
  PresetListSchema,
  SERVE_PATHS,
  UploadId,
  UploadViewSchema,
  VersionSchema,
  type Health,
} from '../net/contract';
import { docsPage, DOC_PAGES } from './docs';
import { jobView } from './job-view';
import { jobKeysFrom, type JobKeyStore } from './job-keys';
import type { PairRequest } from '../net/pairing';
import type { IssuedCredential } from '../net/credentials';
import type { ServeMetrics } from './metrics';
import type { AuthGate, Caller } from './serve-auth';
import type { ServeConfig } from './serve-config';
import type { UploadStore } from './uploads';
import { parseCidrs } from '../net/cidr';
import { SERVER_TLS_OPTIONS } from '../net/server-tls';
import { hasScopes } from '../net/roles';
import { Allowlist, type AllowlistEntry } from '../proxy/allowlist';
import { SPEEDTEST_PATH, opsRoutes } from '../proxy/ops-routes';
import { proxyStreamRoutes } from '../proxy/stream-route';
import { createUpstreamFetch } from '../proxy/upstream-fetch';

export interface ServeContext {
  config: ServeConfig;
  engine: JobEngine;
  uploads: UploadStore;
  jobKeys: JobKeyStore;
  gate: AuthGate;
  audit: AuditLog;
  metrics: ServeMetrics;
  health: () => Promise<Health>;
  tls: { key: string; cert: string };
  /** Redeems a one-time pairing code (see pairing.ts). */
  pair: (request: PairRequest) => IssuedCredential & { proof: string };
  logError: (err: unknown) => void;
}

declare module 'fastify' {
  interface FastifyContextConfig {
    /** Scopes the caller needs; absent on public routes. */
    scopes?: readonly string[];
    /** The route verifies the signature itself (streamed bodies). */
    streamAuth?: boolean;
  }
  interface FastifyRequest {
    /** Who signed the request, once the hardened server has verified it. */
    caller: Caller | null;
    /**
     * The client's address (see AuthGate.address), taken when the request arrives: by
     * the time a refused upload is answered, its socket may already be gone.
     */
    clientAddress: string;
    /** Who the headers of a request with a body claim to be, before the body proves it. */
    claimed: { clientId: string; role: Caller['role'] } | null;
  }
}

const SECURITY_HEADERS = {
  'strict-transport-security': 'max-age=31536000',
  'x-content-type-options': 'nosniff',
  'referrer-policy': 'no-referrer',
  'x-frame-options': 'DENY',
  'content-security-policy': "default-src 'none'; frame-ancestors 'none'",
  'cache-control': 'no-store',
};

const LOOPBACK = parseCidrs(['127.0.0.0/8', '::1/128']);
const DENIALS_PER_MINUTE = 60;
/** JSON bodies (at most bodyLimit each) one credential may have arriving at once. */
const MAX_BUFFERED_BODIES_PER_CLIENT = 16;
/** The body of a request without one (every GET), as signed. */
const EMPTY = Buffer.alloc(0);

export async function buildServeApp(ctx: ServeContext): Promise<FastifyInstance> {
  const { config, engine, uploads, jobKeys, gate, audit, metrics } = ctx;
  const app = Fastify({
    https: { ...SERVER_TLS_OPTIONS, key: ctx.tls.key, cert: ctx.tls.cert },
    logger: false,
    forceCloseConnections: true,
    bodyLimit: 1024 * 1024,
    // Our own ids never need more; long URLs are refused before routing.
    routerOptions: { maxParamLength: 256 },
    // Unknown fields are an error, not silently dropped (Fastify's default strips them).
    ajv: { customOptions: { removeAdditional: false } },
  }).withTypeProvider<TypeBoxTypeProvider>();
  // Only the body types the routes take: anything else is 415, not parsed as text.
  app.removeAllContentTypeParsers();

  const rawBodies = new WeakMap<FastifyRequest, Buffer>();
  // A decoration rather than a WeakMap: every signed request sets it.
  app.decorateRequest('caller', null);
  app.decorateRequest('clientAddress', '');
  app.decorateRequest('claimed', null);
  const callerOf = (request: FastifyRequest): Caller => {
    const caller = request.caller;
    if (!caller) throw new KeepsakeError('INTERNAL', 'route reached without authentication');
    return caller;
  };

  // JSON bodies are kept as bytes too: the signature covers exactly what was sent.
  app.addContentTypeParser('application/json', { parseAs: 'buffer' }, (request, body, done) => {
    const raw = body as Buffer;
    rawBodies.set(request, raw);
    if (raw.length === 0) return done(null, undefined);
    try {
      done(null, JSON.parse(raw.toString('utf8')));
    } catch {
      done(new KeepsakeError('USAGE', 'the body is not valid JSON'), undefined);
    }
  });
  // Upload chunks stream to disk: the route reads the body itself.
  app.addContentTypeParser('application/offset+octet-stream', (_request, payload, done) =>
    done(null, payload),
  );

  const hosts = new Set<string>();
  for (const name of [...config.hostnames, ...config.addresses]) {
    const host = name.includes(':') ? `[${name}]` : name;
    hosts.add(host.toLowerCase());
  }
  // Hooks on every request take callbacks rather than promises: under load the promise
  // and its extra turn through the microtask queue cost as much as the check itself.
  app.addHook('onRequest', (request, _reply, done) => {
    request.clientAddress = gate.address(request);
    const host = (request.headers.host ?? '').toLowerCase().replace(/:\d+$/, '');
    if (!hosts.has(host)) {
      done(new KeepsakeError('FORBIDDEN_ORIGIN', 'this server does not answer to that host name'));
    } else {
      done();
    }
  });

  await app.register(rateLimit, {
    global: true,
    max: config.rateLimit.perAddress,
    timeWindow: config.rateLimit.windowSeconds * 1000,
    // Signed and unsigned callers have budgets apart: a flood of /live (or of junk) from
    // an address must not lock out the signed requests from it. A request counts as
    // signed when its headers name a real credential usable from there with a fresh
    // timestamp (precheck; the signature itself needs the body), and each such credential
    // has its own budget per address, so naming one does not spend the others'.
    keyGenerator: (request) => {
      if (request.headers['x-dffmpeg-client-id'] !== undefined) {
        try {
          return `signed ${request.clientAddress} ${gate.precheck(request).clientId}`;
        } catch {
          // Counted with the unsigned; the route refuses it later with the reason.
        }
      }
      return `unsigned ${request.clientAddress}`;
    },
    errorResponseBuilder: (_request, context) => ({
      statusCode: 429,
      code: 'RATE_LIMITED',
      message: `too many requests from this address; retry in ${Math.ceil(context.ttl / 1000)} s`,
    }),
  });

  // Nothing of a body is read before what can be checked without it: the signature
  // headers, the timestamp window, a credential by that id and its address ranges. A
  // caller who cannot name a credential holds no memory and no upload lock; the body
  // itself must then keep arriving (body-deadline.ts).
  const hasBody = (request: FastifyRequest) =>
    request.headers['transfer-encoding'] !== undefined ||
    Number(request.headers['content-length'] ?? 0) > 0;
  // JSON bodies are held in memory until their signature is checked: a credential's id
  // (which is not a secret) buys at most this many of them at once.
  const bufferedBodies = new Map<string, number>();
  app.addHook('onRequest', (request, _reply, done) => {
    if (!request.routeOptions.config.scopes || !hasBody(request)) return done();
    try {
      request.claimed = gate.precheck(request);
    } catch (err) {
      return done(err as Error);
    }
    if (request.headers['content-type']?.startsWith('application/json')) {
      const id = request.claimed.clientId;
      const held = bufferedBodies.get(id) ?? 0;
      if (held >= MAX_BUFFERED_BODIES_PER_CLIENT) {
        return done(
          new KeepsakeError(
            'SERVER_BUSY',
            `${held} requests of this credential are still arriving; retry once they are done`,
          ),
        );
      }
      bufferedBodies.set(id, held + 1);
      request.raw.once('close', () => {
        const left = (bufferedBodies.get(id) ?? 1) - 1;
        if (left > 0) bufferedBodies.set(id, left);
        else bufferedBodies.delete(id);
      });
    }
    done();
  });
  app.addHook('preParsing', (request, _reply, payload, done) => {
    if (!hasBody(request)) return done(null, payload);
    done(null, watchBody(payload as IncomingMessage, config.bodyTimeouts));
  });

  // Per credential: counted after authentication, which the plugin (keyed once per
  // context, before the body is read) cannot do. A fixed window per client id.
  const perClient = new Map<string, { count: number; resetAt: number }>();
  const countClient = (caller: Caller, reply: { header(k: string, v: string): unknown }) => {
    const now = Date.now();
    let window = perClient.get(caller.clientId);
    if (!window || window.resetAt <= now) {
      window = { count: 0, resetAt: now + config.rateLimit.windowSeconds * 1000 };
      perClient.set(caller.clientId, window);
    }
    window.count += 1;
    if (window.count > config.rateLimit.perClient) {
      const retry = Math.ceil((window.resetAt - now) / 1000);
      reply.header('retry-after', String(retry));
      throw new KeepsakeError(
        'RATE_LIMITED',
        `too many requests for this credential; retry in ${retry} s`,
      );
    }
  };

  // Before validation: a caller who cannot sign learns nothing from schema errors.
  app.addHook('preValidation', (request, reply, done) => {
    const scopes = request.routeOptions.config.scopes;
    if (!scopes || request.routeOptions.config.streamAuth) return done();
    try {
      const caller = gate.authenticate(request, rawBodies.get(request) ?? EMPTY, scopes);
      request.caller = caller;
      countClient(caller, reply);
    } catch (err) {
      return done(err as Error);
    }
    done();
  });

  app.addHook('onSend', (_request, reply, payload, done) => {
    reply.headers(SECURITY_HEADERS);
    done(null, payload);
  });

  app.addHook('onResponse', (request, reply, done) => {
    const route = request.routeOptions.url ?? 'unmatched';
    metrics.requests.inc({ method: request.method, route, status: String(reply.statusCode) });
    metrics.latency.observe({ method: request.method, route }, reply.elapsedTime / 1000);
    done();
  });

  // Refusals are audited, but a flood from one address must not grow the append-only log
  // without bound: at most DENIALS_PER_MINUTE entries per address and minute, then one
  // entry saying how many were left out.
  const denials = new Map<string, { minute: number; count: number }>();
  const auditDenial = (address: string): boolean => {
    const minute = Math.floor(Date.now() / 60_000);
    let entry = denials.get(address);
    if (!entry || entry.minute !== minute) {
      if (entry && entry.count > DENIALS_PER_MINUTE) {
        audit.append({
          address,
          action: 'denials',
          outcome: 'denied',
          detail: `${entry.count - DENIALS_PER_MINUTE} more refusals in that minute not logged`,
        });
      }
      if (denials.size > 10_000) denials.clear();
      entry = { minute, count: 0 };
      denials.set(address, entry);
    }
    entry.count += 1;
    return entry.count <= DENIALS_PER_MINUTE;
  };

  // Every refusal (bad input as much as a bad signature) and every failure is audited.
  const auditRefusal = (request: FastifyRequest, body: { code: ErrorCode; message: string }) => {
    const status = ERROR_CODES[body.code].status;
    if (status < 500 && !auditDenial(request.clientAddress)) return;
    audit.append({
      // A refused caller's claimed id is recorded as a claim, not as who they are.
      actor:
        request.caller?.name ??
        `unverified:${String(request.headers['x-dffmpeg-client-id'] ?? '').slice(0, 64)}`,
      address: request.clientAddress,
      action: `${request.method} ${request.routeOptions.url ?? request.url.split('?')[0]}`,
      outcome: status < 500 ? 'denied' : 'error',
      detail: `${body.code}: ${body.message}`,
    });
  };
  app.setErrorHandler((err, request, reply) => {
    const body = toApiError(err, ctx.logError);
    auditRefusal(request, body);
    // Refused before its body was all read: the rest is not waited for.
    if (!request.raw.complete) reply.header('connection', 'close');
    return reply.code(ERROR_CODES[body.code].status).send(body);
  });
  app.setNotFoundHandler((request, reply) => {
    const body = {
      code: 'ROUTE_NOT_FOUND' as const,
      message: `no such route: ${request.method} ${request.url.split('?')[0]}`,
    };
    auditRefusal(request, body);
    return reply.code(404).send(body);
  });

  await app.register(swagger, {
    openapi: {
      info: { title: 'Keepsake engine', version: ENGINE_VERSION },
      components: {
        securitySchemes: {
          hmac: {
            type: 'apiKey',
            in: 'header',
            name: 'X-DFFmpeg-Signature',
            description: 'HMAC-SHA256; see /v1/docs/auth',
          },
        },
      },
    },
  });

  const record = (request: FastifyRequest, action: string, target?: string, detail?: string) =>
    audit.append({
      actor: request.caller?.name,
      address: request.clientAddress,
      action,
      target,
      outcome: 'ok',
      detail,
    });

  /** A client sees its own jobs and uploads; admins and viewers see all. */
  const mayAccess = (caller: Caller, owner: string | undefined) =>
    caller.role === 'admin' || caller.role === 'viewer' || owner === caller.clientId;

  const ownJob = async (request: FastifyRequest, id: string): Promise<JobSnapshot> => {
    const job = await engine.queue.get(id);
    if (!mayAccess(callerOf(request), job.options.submittedBy)) {
      throw new KeepsakeError('JOB_NOT_FOUND', `no job "${id}"`);
    }
    return job;
  };
  const view = (job: JobSnapshot) => jobView(job, job.state === 'queued' && !jobKeys.has(job.id));

  // --- Operations (no signature: probes and scrapers cannot sign) -----------------------

  app.get(SERVE_PATHS.live, { schema: { hide: true } }, async () => ({ ok: true }));
  app.get(
    SERVE_PATHS.healthz,
    { schema: { response: { 200: HealthSchema, 503: HealthSchema } } },
    async (_request, reply) => {
      const health = await ctx.health();
      return reply.code(health.status === 'failing' ? 503 : 200).send(health);
    },
  );
  app.get(SERVE_PATHS.version, { schema: { response: { 200: VersionSchema } } }, async () => ({
    version: ENGINE_VERSION,
    commit: BUILD_INFO.commit,
    buildTime: BUILD_INFO.buildTime,
    node: process.versions.node,
  }));
  const metricsFrom = parseCidrs(config.metricsCidrs);
  app.get(SERVE_PATHS.metrics, { schema: { hide: true } }, async (request, reply) => {
    if (!metricsFrom.has(request.clientAddress)) {
      throw new KeepsakeError('FORBIDDEN', 'metrics are not served to this address');
    }
    return reply.type(metrics.registry.contentType).send(await metrics.registry.metrics());
  });
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
      return reply
        .type('text/plain; charset=utf-8')
        .send(docsPage(page as (typeof DOC_PAGES)[number], app));
    },
  );

  // --- Pairing (unsigned: the caller has no credential yet; the code's HMAC stands in) ---

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
      audit.append({
        actor: request.body.name,
        address: request.clientAddress,
        action: 'pair',
        target: issued.clientId,
        outcome: 'ok',
      });
      return issued;
    },
  );

  // --- Presets ---------------------------------------------------------------------------

  app.get(
    SERVE_PATHS.presets,
    { config: { scopes: ['presets:read'] }, schema: { response: { 200: PresetListSchema } } },
    async () => describePresets(),
  );

  // --- Uploads ---------------------------------------------------------------------------

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

  const uploadParams = Type.Object({ id: UploadId });
  const ownUpload = (request: FastifyRequest, id: string) => {
    const upload = uploads.get(id);
    if (!mayAccess(callerOf(request), upload.clientId)) {
      throw new KeepsakeError('NOT_FOUND', `no upload "${id}"`);
    }
    return upload;
  };
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
      if (
        claimed &&
        !mayAccess({ ...claimed, name: '', address: '' }, uploads.get(request.params.id).clientId)
      ) {
        throw new KeepsakeError('NOT_FOUND', `no upload "${request.params.id}"`);
      }
      const upload = await uploads.append(
        request.params.id,
        offset,
        request.body as Readable,
        async (received, sha256Hex) => {
          // The signature covers the chunk's hash: checked before the offset moves.
          const caller = gate.authenticate(request, { sha256Hex }, ['uploads:write'], arrivedAt);
          request.caller = caller;
          countClient(caller, reply);
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

  // --- Jobs ------------------------------------------------------------------------------

  const jobParams = Type.Object({ id: JobId });

  app.post(
    SERVE_PATHS.jobs,
    {
      config: { scopes: ['jobs:run'] },
      schema: { body: CreateJobSchema, response: { 201: JobViewSchema } },
    },
    async (request, reply) => {
      const caller = callerOf(request);
      const body = request.body;
      const preset = getPreset(body.preset);
      if (!hasScopes(caller.role, preset.scopes)) {
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
      const job = await submitJob(engine.queue, {
        preset: body.preset,
        params: body.params,
        input,
        outputDir: engine.outputRoot,
        priority: body.priority,
        options: {
          thorough: body.thorough,
          mode: body.mode,
          submittedBy: caller.clientId,
          upload: uploadId,
        },
      });
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
          res.write(
            `event: ${['succeeded', 'failed', 'cancelled'].includes(job.state) ? 'end' : 'job'}\ndata: ${data}\n\n`,
          );
          last = data;
        }
        if (['succeeded', 'failed', 'cancelled'].includes(job.state)) break;
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

  app.get(
    '/v1/jobs/:id/outputs/*',
    {
      config: { scopes: ['results:read'] },
      schema: { params: Type.Object({ id: JobId, '*': Type.String() }) },
    },
    async (request, reply) => {
      const job = await ownJob(request, request.params.id);
      const name = request.params['*'];
      const output = job.outputs.find((o) => o.name === name);
      if (job.state !== 'succeeded' || !output) {
        throw new KeepsakeError('NOT_FOUND', `job ${job.id} has no output "${name}"`);
      }
      const path = join(jobOutputDir(job), `${name}.ksv`);
      const { size } = await stat(path);
      const range = parseRange(request.headers.range, size);
      reply.header('accept-ranges', 'bytes').type('application/octet-stream');
      if (range === 'unsatisfiable') {
        reply.header('content-range', `bytes */${size}`);
        throw new KeepsakeError('RANGE_NOT_SATISFIABLE', `the output has ${size} bytes`);
      }
      if (!range) return reply.header('content-length', String(size)).send(createReadStream(path));
      return reply
        .code(206)
        .header('content-range', `bytes ${range.start}-${range.end - 1}/${size}`)
        .header('content-length', String(range.end - range.start))
        .send(createReadStream(path, { start: range.start, end: range.end - 1 }));
    },
  );

  // --- Stream proxy and network probes ----------------------------------------------------

  // The direct proxy, for signed callers with proxy:read; it fetches only what
  // `proxyAllow` permits.
  const upstream = createUpstreamFetch({
    allowlist: new Allowlist(config.proxyAllow as unknown as AllowlistEntry[]),
    events: metrics.proxy.upstreamEvents,
  });
  app.addHook('onClose', () => upstream.close());
  await app.register(async (scope) => {
    scope.addHook('onRoute', (route) => {
      route.config = { ...route.config, scopes: ['proxy:read'] };
    });
    await scope.register(proxyStreamRoutes({ fetch: upstream, metrics: metrics.proxy }));
  });
  // /ip is a probe anyone may use, like /live; /speedtest sends 8 MiB, which must not be
  // free bandwidth for whoever asks: it is for signed callers who may use the proxy.
  await app.register(async (scope) => {
    scope.addHook('onRoute', (route) => {
      if (route.url === SPEEDTEST_PATH) route.config = { ...route.config, scopes: ['proxy:read'] };
    });
    await scope.register(opsRoutes({ trustedProxies: config.trustedProxies }));
  });

  // --- Audit -----------------------------------------------------------------------------

  app.get(
    SERVE_PATHS.audit,
    { config: { scopes: ['audit:read'] }, schema: { querystring: AuditQuery } },
    async (request) => {
      const filter = { ...request.query };
      delete filter.nonce;
      return audit.query(filter);
    },
  );

  return app;
}

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
