// The desktop engine's API (desktop-contract.ts), registered by the embedded server
// behind its bearer token: vault, library (desktop-library-routes.ts), presets, jobs with live progress, paired
// servers, and the activity log. Every change is recorded in the activity log.

import { basename, isAbsolute, normalize } from 'node:path';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { FastifyPluginAsync } from 'fastify';
import { Type } from 'typebox';
import { Value } from 'typebox/value';
import type { DesktopSession } from '../desktop/session';
import { KeepsakeError } from '../errors';
import { FINISHED_STATES, type JobSnapshot } from '../jobs/queue';
import { removeJob } from '../jobs/remove-job';
import { submitJob } from '../jobs/worker';
import { describePresets } from '../presets';
import { getRemote, listRemotes, removeRemote, saveRemote } from '../remote/remotes';
import { JobId, JobStateSchema, PresetListSchema } from './contract';
import {
  CreateDesktopJobSchema,
  CreateVaultSchema,
  DESKTOP_PATHS,
  DesktopJobSchema,
  LockVaultSchema,
  PairServerSchema,
  ServerPreviewSchema,
  UnlockVaultSchema,
  type DesktopJob,
  type ServerView,
} from './desktop-contract';
import { libraryRoutes } from './desktop-library-routes';
import { jobView } from './job-view';
import { playPath } from './play';

export interface DesktopRoutesOptions {
  session: DesktopSession;
  /** The per-launch secret behind `/play` capabilities (play.ts). */
  playSecret: Buffer;
  /** How often live job events look for changes. */
  eventsIntervalMs?: number;
}

const ACTIVE = ['queued', 'running'] as const;

export function desktopRoutes(options: DesktopRoutesOptions): FastifyPluginAsync {
  const { session, playSecret } = options;
  const library = session.library;

  const view = (job: JobSnapshot): DesktopJob => ({
    ...jobView(job, false),
    fileId: job.options.libraryFile,
    remote: job.options.remote,
    playUrl: playPath(playSecret, job),
  });

  return async (plain) => {
    const app = plain.withTypeProvider<TypeBoxTypeProvider>();
    await plain.register(libraryRoutes({ session }));

    // --- Vault --------------------------------------------------------------------------

    app.get(DESKTOP_PATHS.vault, async () => ({
      ...(await session.state()),
      lockPending: session.lockPending(),
    }));

    app.post(
      DESKTOP_PATHS.vault,
      { schema: { body: CreateVaultSchema } },
      async (request, reply) => {
        const recoveryKey = await session.create(request.body.password);
        return reply.code(201).send({ recoveryKey });
      },
    );

    app.post(
      DESKTOP_PATHS.vaultUnlock,
      { schema: { body: UnlockVaultSchema } },
      async (request, reply) => {
        await session.unlock(request.body);
        return reply.code(204).send();
      },
    );

    // With jobs running, the caller says whether to wait for them or stop them
    // (JOBS_RUNNING otherwise); a wait answers 202 and locks when they are done.
    // The body is optional (a plain lock sends none), so it is checked here.
    app.post(DESKTOP_PATHS.vaultLock, async (request, reply) => {
      const body = request.body ?? {};
      if (!Value.Check(LockVaultSchema, body)) {
        throw new KeepsakeError('USAGE', 'the body may only say {"jobs": "wait" | "stop"}');
      }
      await session.lock({ jobs: body.jobs });
      return session.lockPending() ? reply.code(202).send() : reply.code(204).send();
    });

    // --- Presets and jobs ---------------------------------------------------------------

    app.get(DESKTOP_PATHS.presets, { schema: { response: { 200: PresetListSchema } } }, async () =>
      describePresets(),
    );

    app.get(
      DESKTOP_PATHS.jobs,
      {
        schema: {
          querystring: Type.Object(
            {
              state: Type.Optional(JobStateSchema),
              limit: Type.Integer({ minimum: 1, maximum: 10_000, default: 1000 }),
            },
            { additionalProperties: false },
          ),
        },
      },
      async (request) => {
        const { state, limit } = request.query;
        const jobs = await session
          .requireEngine()
          .queue.list({ states: state ? [state] : undefined, limit });
        return jobs.map(view);
      },
    );

    app.post(
      DESKTOP_PATHS.jobs,
      { schema: { body: CreateDesktopJobSchema, response: { 201: DesktopJobSchema } } },
      async (request, reply) => {
        const engine = session.requireEngine();
        const body = request.body;
        const file = library.file(body.fileId);
        if (!file.encryptedPath) {
          throw new KeepsakeError(
            'NOT_ENCRYPTED',
            `${file.rel} is not encrypted yet: encrypt its folder first`,
          );
        }
        if (
          body.remote &&
          !(await listRemotes(session.dataDir)).some((r) => r.name === body.remote)
        ) {
          throw new KeepsakeError('NOT_FOUND', `no paired server named "${body.remote}"`);
        }
        let deliverTo: string | undefined;
        if (body.mode === 'automated') {
          if (!body.outDir || !isAbsolute(body.outDir) || normalize(body.outDir) !== body.outDir) {
            throw new KeepsakeError(
              'USAGE',
              'automated mode needs an output folder (an absolute path) for the results',
            );
          }
          deliverTo = body.outDir;
        }
        const job = await submitJob(engine.queue, {
          preset: body.preset,
          params: body.params,
          input: { kind: 'vault', path: file.encryptedPath },
          outputDir: engine.outputRoot,
          options: {
            mode: body.mode,
            remote: body.remote,
            libraryFile: file.id,
            deliverTo,
            sourceName: basename(file.rel),
          },
        });
        session.record('job.create', job.id, 'ok', `${job.preset} on ${file.rel}`);
        return reply.code(201).send(view(job));
      },
    );

    // Live progress for every job: `job` events whenever one changes (`deleted` when one
    // goes), at most one per job per interval. Polling the queue here
    // (not in each browser) sees changes made by any process, e.g. `keepsake job cancel`.
    app.get(DESKTOP_PATHS.jobEvents, async (request, reply) => {
      const engine = session.requireEngine();
      reply.hijack();
      const res = reply.raw;
      // Hijacked, so the server's onSend headers do not apply: the stream sets its own, and
      // a first comment goes out at once so the client knows it is connected.
      res.writeHead(200, {
        'content-type': 'text/event-stream; charset=utf-8',
        'cache-control': 'no-store',
        'x-content-type-options': 'nosniff',
        'referrer-policy': 'no-referrer',
        connection: 'keep-alive',
      });
      res.write(': connected\n\n');
      let closed = false;
      request.raw.on('close', () => (closed = true));
      // What each job looked like when last sent. The first pass is a snapshot of the
      // active and the most recent jobs, so a job that finished between the client's list
      // and this stream opening is not missed.
      const last = new Map<string, string>();
      let beat = 0;
      try {
        while (!closed && session.currentVault()) {
          const active = await engine.queue.list({ states: [...ACTIVE], limit: 10_000 });
          const recent = await engine.queue.list({ limit: 20 });
          const candidates = new Map<string, JobSnapshot>(
            [...recent, ...active].map((j) => [j.id, j]),
          );
          // Jobs sent while active that are no longer: fetch their final state.
          for (const id of last.keys()) {
            if (candidates.has(id)) continue;
            const job = await engine.queue.get(id).catch(() => undefined);
            if (job) {
              candidates.set(id, job);
            } else {
              last.delete(id);
              res.write(`event: deleted\ndata: ${JSON.stringify({ id })}\n\n`);
            }
          }
          for (const job of candidates.values()) {
            const data = JSON.stringify(view(job));
            if (last.get(job.id) === data) continue;
            last.set(job.id, data);
            res.write(`event: job\ndata: ${data}\n\n`);
          }
          // A job outside the active and recent lists has been sent in its final state.
          const watched = new Set([...active, ...recent].map((j) => j.id));
          for (const id of last.keys()) if (!watched.has(id)) last.delete(id);
          // A comment now and then keeps proxies and idle timers from closing the stream.
          if (++beat % 30 === 0) res.write(': keep-alive\n\n');
          await new Promise((r) => setTimeout(r, options.eventsIntervalMs ?? 500));
        }
      } catch {
        // The vault was locked (the queue closed) mid-read: the stream ends; the client
        // reconnects and is told to unlock.
      }
      res.end();
    });

    const jobParams = Type.Object({ id: JobId });

    app.get('/v1/jobs/:id', { schema: { params: jobParams } }, async (request) =>
      view(await session.requireEngine().queue.get(request.params.id)),
    );

    app.post('/v1/jobs/:id/cancel', { schema: { params: jobParams } }, async (request) => {
      const job = await session.requireEngine().worker.cancel(request.params.id);
      session.record('job.cancel', job.id);
      return view(job);
    });

    app.post('/v1/jobs/:id/retry', { schema: { params: jobParams } }, async (request, reply) => {
      const engine = session.requireEngine();
      const old = await engine.queue.get(request.params.id);
      if (!FINISHED_STATES.includes(old.state) || old.state === 'succeeded') {
        throw new KeepsakeError(
          'USAGE',
          `job ${old.id} is ${old.state}; only a failed or cancelled job is retried`,
        );
      }
      // The same settings would fail the same way (e.g. a crop box larger than the picture).
      if (old.lastError?.code === 'INVALID_PARAMETER') {
        throw new KeepsakeError(
          'INVALID_PARAMETER',
          `job ${old.id} failed because of its settings (${old.lastError.message}); make a new job with other settings`,
        );
      }
      const job = await submitJob(engine.queue, {
        preset: old.preset,
        params: old.params,
        input: old.input,
        outputDir: old.outputDir,
        priority: old.priority,
        options: old.options,
      });
      session.record('job.retry', job.id, 'ok', `retry of ${old.id}`);
      return reply.code(201).send(view(job));
    });

    app.delete('/v1/jobs/:id', { schema: { params: jobParams } }, async (request, reply) => {
      const engine = session.requireEngine();
      const job = await removeJob(engine, await engine.queue.get(request.params.id));
      session.record('job.delete', job.id);
      return reply.code(204).send();
    });

    // --- Paired servers -----------------------------------------------------------------

    app.post(
      DESKTOP_PATHS.serverPreview,
      { schema: { body: ServerPreviewSchema } },
      async (request) => {
        const { fetchServerCa } = await import('../remote/pair-client');
        const url = serverUrl(request.body.url);
        const { caFingerprint } = await fetchServerCa(url);
        return { url, fingerprint: caFingerprint };
      },
    );

    app.post(
      DESKTOP_PATHS.servers,
      { schema: { body: PairServerSchema } },
      async (request, reply) => {
        const vault = session.requireVault();
        const body = request.body;
        const url = serverUrl(body.url);
        if ((await listRemotes(session.dataDir)).some((r) => r.name === body.name)) {
          throw new KeepsakeError(
            'CREDENTIAL_EXISTS',
            `a server named "${body.name}" is already paired`,
          );
        }
        const { fetchServerCa, pairWithServer } = await import('../remote/pair-client');
        const expected = normaliseFingerprint(body.fingerprint);
        // Checked before the code is spent, and again on what the pairing pinned.
        const seen = await fetchServerCa(url);
        if (normaliseFingerprint(seen.caFingerprint) !== expected) {
          session.record('server.pair', body.name, 'denied', 'fingerprint mismatch');
          throw new KeepsakeError(
            'SERVER_NOT_TRUSTED',
            'the server shows a different CA fingerprint than the one you compared; not paired',
          );
        }
        const paired = await pairWithServer(url, body.code, 'keepsake-desktop', body.name);
        if (normaliseFingerprint(paired.caFingerprint) !== expected) {
          throw new KeepsakeError('SERVER_NOT_TRUSTED', 'the server changed its CA while pairing');
        }
        await saveRemote(session.dataDir, vault, paired);
        session.record('server.pair', body.name, 'ok', url);
        return reply.code(201).send(await serverView(session, body.name));
      },
    );

    app.get(DESKTOP_PATHS.servers, async () => {
      session.requireVault();
      const remotes = await listRemotes(session.dataDir);
      return Promise.all(remotes.map((r) => serverView(session, r.name)));
    });

    app.delete(
      '/v1/servers/:name',
      {
        schema: {
          params: Type.Object({ name: Type.String({ pattern: '^[A-Za-z0-9._-]{1,64}$' }) }),
        },
      },
      async (request, reply) => {
        await removeRemote(session.dataDir, request.params.name);
        session.record('server.unpair', request.params.name);
        return reply.code(204).send();
      },
    );

    // --- Activity -----------------------------------------------------------------------

    app.get(
      DESKTOP_PATHS.activity,
      {
        schema: {
          querystring: Type.Object(
            { limit: Type.Integer({ minimum: 1, maximum: 1000, default: 200 }) },
            { additionalProperties: false },
          ),
        },
      },
      async (request) =>
        // Newest first, as a log screen reads.
        session.activity
          .query({ limit: request.query.limit })
          .reverse()
          .map((e) => ({
            seq: e.seq,
            at: e.at,
            action: e.action,
            target: e.target,
            outcome: e.outcome,
            detail: e.detail,
          })),
    );
  };
}

function serverUrl(text: string): string {
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    throw new KeepsakeError('USAGE', `"${text}" is not a URL (e.g. https://nas.local:8443)`);
  }
  if (url.protocol !== 'https:') {
    throw new KeepsakeError('USAGE', 'a Keepsake server is reached over https://');
  }
  return url.origin;
}

const normaliseFingerprint = (f: string) => f.replace(/[^0-9a-f]/gi, '').toLowerCase();

async function serverView(session: DesktopSession, name: string): Promise<ServerView> {
  const remote = await getRemote(session.dataDir, session.requireVault(), name);
  const base = {
    name,
    url: remote.url,
    fingerprint: remote.caFingerprint,
    pairedAt: remote.pairedAt,
  };
  const { RemoteClient } = await import('./client');
  const client = new RemoteClient(remote);
  try {
    const health = await Promise.race([
      client.health(),
      new Promise<never>((_, reject) =>
        setTimeout(() => reject(new Error('no answer in 3 s')), 3000).unref(),
      ),
    ]);
    return {
      ...base,
      health: {
        status: health.status,
        reasons: health.reasons.map((r) => ({ severity: r.severity, message: r.message })),
      },
    };
  } catch (err) {
    return { ...base, health: { status: 'unreachable', message: (err as Error).message } };
  } finally {
    await client.close();
  }
}
