// The desktop engine's API (desktop-contract.ts), registered by the embedded server
// behind its bearer token: vault, library, presets, jobs with live progress, paired
// servers, and the activity log. Every change is recorded in the activity log.

import { randomBytes } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { mkdir, rename, rm } from 'node:fs/promises';
import { basename, dirname, isAbsolute, join, normalize } from 'node:path';
import { pipeline } from 'node:stream/promises';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { FastifyPluginAsync } from 'fastify';
import { Type } from 'typebox';
import { Value } from 'typebox/value';
import type { DesktopSession } from '../desktop/session';
import { KeepsakeError } from '../errors';
import { isSafeName } from '../fs/paths';
import { FINISHED_STATES, type Job, type JobSnapshot } from '../jobs/queue';
import { removeJob } from '../jobs/remove-job';
import { submitJob } from '../jobs/worker';
import type { LibraryFile, LibraryFolder } from '../library/library';
import { describePresets } from '../presets';
import { getRemote, listRemotes, removeRemote, saveRemote } from '../remote/remotes';
import { JobId, JobStateSchema, PresetListSchema } from './contract';
import {
  AddFolderSchema,
  CreateDesktopJobSchema,
  CreateVaultSchema,
  DESKTOP_PATHS,
  DesktopJobSchema,
  FolderId,
  LockVaultSchema,
  PairServerSchema,
  ServerPreviewSchema,
  UnlockVaultSchema,
  type DesktopJob,
  type FileView,
  type FolderView,
  type ServerView,
} from './desktop-contract';
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

  /** Jobs by the library file they read, newest first; none while the vault is locked. */
  const jobsByFile = async (): Promise<Map<string, Job[]>> => {
    const map = new Map<string, Job[]>();
    if (!session.currentVault()) return map;
    let engine;
    try {
      engine = session.requireEngine();
    } catch {
      return map;
    }
    for (const job of await engine.queue.list({ limit: 100_000 })) {
      const file = job.options.libraryFile;
      if (file) map.set(file, [...(map.get(file) ?? []), job]);
    }
    return map;
  };

  const folderView = (folder: LibraryFolder, byFile: Map<string, Job[]>): FolderView => {
    const files = library.files(folder.id);
    const summary = library.summary(folder, files);
    const encoded = files.filter((f) =>
      byFile.get(f.id)?.some((j) => j.state === 'succeeded'),
    ).length;
    return { ...summary, name: folder.path.split('/').pop() || folder.path, encoded };
  };

  const fileView = (file: LibraryFile, byFile: Map<string, Job[]>): FileView => ({
    id: file.id,
    folderId: file.folderId,
    rel: file.rel,
    size: file.size,
    kind: file.kind,
    encrypted: file.encryptedPath !== undefined,
    jobs: (byFile.get(file.id) ?? []).map((j) => ({ id: j.id, preset: j.preset, state: j.state })),
  });

  return async (plain) => {
    const app = plain.withTypeProvider<TypeBoxTypeProvider>();
    // Browser uploads arrive as raw bytes and stream to disk.
    app.addContentTypeParser('application/octet-stream', (_request, payload, done) =>
      done(null, payload),
    );

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

    // --- Library ------------------------------------------------------------------------

    const folderParams = Type.Object({ id: FolderId });

    app.get(DESKTOP_PATHS.folders, async () => {
      const byFile = await jobsByFile();
      return library.folders().map((f) => folderView(f, byFile));
    });

    app.post(
      DESKTOP_PATHS.folders,
      { schema: { body: AddFolderSchema } },
      async (request, reply) => {
        const folder = await library.addFolder(request.body.path);
        session.record('library.add', folder.id, 'ok', folder.path);
        return reply.code(201).send(folderView(folder, await jobsByFile()));
      },
    );

    app.delete('/v1/library/:id', { schema: { params: folderParams } }, async (request, reply) => {
      await library.remove(request.params.id);
      session.record('library.remove', request.params.id);
      return reply.code(204).send();
    });

    app.post('/v1/library/:id/rescan', { schema: { params: folderParams } }, async (request) => {
      const folder = await library.rescan(request.params.id);
      return folderView(folder, await jobsByFile());
    });

    app.get('/v1/library/:id/files', { schema: { params: folderParams } }, async (request) => {
      const byFile = await jobsByFile();
      return library.files(request.params.id).map((f) => fileView(f, byFile));
    });

    app.post(
      '/v1/library/:id/encrypt',
      { schema: { params: folderParams } },
      async (request, reply) => {
        const vault = session.requireVault();
        const folder = library.folder(request.params.id);
        // Runs on after the answer; progress shows in the folder's `encrypting`.
        void library.encrypt(folder.id, vault).then(
          (done) =>
            session.record(
              'library.encrypt',
              folder.id,
              done.failed ? 'error' : 'ok',
              `${done.done} encrypted, ${done.failed} failed`,
            ),
          (err: unknown) =>
            session.record('library.encrypt', folder.id, 'error', (err as Error).message),
        );
        return reply.code(202).send(folderView(folder, await jobsByFile()));
      },
    );

    app.post(DESKTOP_PATHS.uploads, async (request, reply) => {
      const rel = uploadName(request.headers['x-file-name']);
      if (request.headers['content-type'] !== 'application/octet-stream') {
        throw new KeepsakeError('UNSUPPORTED_MEDIA_TYPE', 'uploads are application/octet-stream');
      }
      const dest = join(library.uploadsPath, ...rel.split('/'));
      const temp = join(dirname(dest), `.ks-tmp-${randomBytes(6).toString('hex')}`);
      await mkdir(dirname(dest), { recursive: true, mode: 0o700 });
      try {
        await pipeline(request.body as NodeJS.ReadableStream, createWriteStream(temp));
        await rename(temp, dest);
      } catch (err) {
        await rm(temp, { force: true });
        throw err;
      }
      const folder = await library.addFolder(library.uploadsPath);
      const file = library.files(folder.id).find((f) => f.rel === rel);
      if (!file) throw new KeepsakeError('INTERNAL', 'the uploaded file did not appear');
      session.record('library.upload', file.id, 'ok', rel);
      return reply.code(201).send(fileView(file, await jobsByFile()));
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

/** A dropped file's path inside the uploads folder: relative, plain names, no dot-files. */
function uploadName(header: string | string[] | undefined): string {
  let rel: string;
  try {
    rel = decodeURIComponent(typeof header === 'string' ? header : '');
  } catch {
    rel = '';
  }
  const parts = rel.split('/');
  if (!rel || rel.length > 1024 || !parts.every((p) => isSafeName(p) && !p.startsWith('.'))) {
    throw new KeepsakeError(
      'USAGE',
      'X-File-Name must be the URL-encoded relative path of the file (no "..", no dot-files)',
    );
  }
  return rel;
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
