// The desktop engine's presets and jobs (desktop-contract.ts), behind the bearer token:
// list, submit (a preset must fit the file's kind), live progress as Server-Sent Events
// (desktop-job-events.ts),
// cancel, retry and remove. Every change is recorded in the activity log.

import { basename, isAbsolute, normalize } from 'node:path';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { FastifyPluginAsync } from 'fastify';
import type { DesktopSession } from '../session/session';
import { KeepsakeError, isKeepsakeError } from '../core/errors';
import { FINISHED_STATES, type JobSnapshot } from '../jobs/queue';
import { deliverNamed, deliveryName } from '../jobs/deliver';
import { removeJob } from '../jobs/remove-job';
import { submitJob } from '../jobs/worker';
import { describePresets } from '../presets';
import { jobLabelsFor } from '../library/item-output-labels';
import { chaptersOf } from '../tape/cut-list';
import { remotePhase } from '../remote/remote-progress';
import { listRemotes } from '../remote/remotes';
import type { CreateDesktopJobBody, DesktopJob } from '../net/desktop-contract';
import { DESKTOP_ROUTES } from '../net/desktop-route-table';
import { streamJobEvents } from './desktop-job-events';
import { jobView } from './job-view';
import { filesPath, playPath } from './play';

export interface JobRoutesOptions {
  session: DesktopSession;
  /** The per-launch secret behind `/play` capabilities (play.ts). */
  playSecret: Buffer;
  /** How often live job events look for changes. */
  eventsIntervalMs?: number;
}

/** How the desktop API shows a job: with its file's name, play links and waiting state. */
export function desktopJobView(
  session: DesktopSession,
  playSecret: Buffer,
): (job: JobSnapshot) => DesktopJob {
  const library = session.library;

  const view = (job: JobSnapshot): DesktopJob => ({
    ...jobView(job, false),
    fileId: job.options.libraryFile,
    fileName: fileName(job.options.libraryFile),
    title: title(job.options.libraryFile),
    remote: job.options.remote,
    remotePhase:
      job.options.remote && job.state === 'running' && job.progress
        ? remotePhase(job.progress.percent)
        : undefined,
    playUrl: playPath(playSecret, job),
    filesUrl: filesPath(playSecret, job),
    delivery: job.options.deliverTo ? session.delivery(job.id) : undefined,
    waiting: waitingView(job),
  });

  /** The path in its folder of the file a job reads, so a list of jobs names them itself. */
  const fileName = (fileId: string | undefined): string | undefined => {
    if (!fileId) return undefined;
    try {
      return library.file(fileId).rel;
    } catch (err) {
      if (isKeepsakeError(err, 'NOT_FOUND')) return undefined; // gone from the library
      throw err;
    }
  };

  /** The item's title, so the Jobs screen says "Copy to watch · Christmas 1989". */
  const title = (fileId: string | undefined): string | undefined => {
    const vault = session.currentVault();
    return fileId && vault ? session.items.title(vault, fileId) : undefined;
  };

  /** A queued job waiting for its paired server: named, with since when (not "soon"). */
  const waitingView = (job: JobSnapshot): DesktopJob['waiting'] => {
    const remote = job.options.remote;
    if (job.state !== 'queued' || !remote || job.lastError?.code !== 'SERVER_UNREACHABLE') {
      return undefined;
    }
    const since = session.requireEngine().queue.waitingSince(job.id);
    return since === undefined
      ? undefined
      : { server: remote, since, lastError: job.lastError.message };
  };

  return view;
}

/**
 * Queues a preset on a protected library file, as POST /v1/jobs and the goals do: the file
 * must be encrypted, the server paired, and automated mode given a folder.
 */
export async function submitDesktopJob(
  session: DesktopSession,
  body: CreateDesktopJobBody,
): Promise<JobSnapshot> {
  const engine = session.requireEngine();
  const file = session.library.file(body.fileId);
  if (!file.encryptedPath) {
    throw new KeepsakeError(
      'NOT_ENCRYPTED',
      `${file.rel} is not encrypted yet: encrypt its folder first`,
    );
  }
  if (body.remote && !(await listRemotes(session.dataDir)).some((r) => r.name === body.remote)) {
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
  const vault = session.requireVault();
  // A tape's clips become chapters of whatever is made of the whole tape.
  const clips = session.cutLists.get(vault, file.id)?.list;
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
      // Its title and date, for the outputs' metadata (sealed: the job row is plain JSON).
      labels: jobLabelsFor(session.items, vault, file.id, clips ? chaptersOf(clips) : []),
    },
  });
  session.record('job.create', job.id, 'ok', `${job.preset} on ${file.rel}`);
  return job;
}

export function jobRoutes(options: JobRoutesOptions): FastifyPluginAsync {
  const { session, playSecret } = options;
  const view = desktopJobView(session, playSecret);

  return async (plain) => {
    const app = plain.withTypeProvider<TypeBoxTypeProvider>();

    app.route({ ...DESKTOP_ROUTES.presets, handler: async () => describePresets() });

    app.route({
      ...DESKTOP_ROUTES.jobs,
      handler: async (request) => {
        const { state, limit } = request.query;
        const jobs = await session
          .requireEngine()
          .queue.list({ states: state ? [state] : undefined, limit });
        return jobs.map(view);
      },
    });

    app.route({
      ...DESKTOP_ROUTES.createJob,
      handler: async (request, reply) =>
        reply.code(201).send(view(await submitDesktopJob(session, request.body))),
    });

    app.route({
      ...DESKTOP_ROUTES.jobEvents,
      handler: async (request, reply) =>
        streamJobEvents(request, reply, {
          session,
          view,
          intervalMs: options.eventsIntervalMs ?? 500,
        }),
    });

    app.route({
      ...DESKTOP_ROUTES.job,
      handler: async (request) => view(await session.requireEngine().queue.get(request.params.id)),
    });

    app.route({
      ...DESKTOP_ROUTES.cancelJob,
      handler: async (request) => {
        const job = await session.requireEngine().worker.cancel(request.params.id);
        session.record('job.cancel', job.id);
        return view(job);
      },
    });

    app.route({
      ...DESKTOP_ROUTES.retryJob,
      handler: async (request, reply) => {
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
      },
    });

    // "Save a copy…": the results decrypted into a folder the user picked, named after the
    // source and the preset (a folder for several outputs), their times kept, nothing
    // replaced (the next free name); it runs on, and GET /v1/saves/:id follows it.
    app.route({
      ...DESKTOP_ROUTES.saveJob,
      handler: async (request, reply) => {
        const vault = session.requireVault();
        const job = await session.requireEngine().queue.get(request.params.id);
        if (job.state !== 'succeeded' || job.outputs.length === 0) {
          throw new KeepsakeError(
            'USAGE',
            `job ${job.id} has no results to save (it is ${job.state})`,
          );
        }
        const dir = request.body.dir;
        if (!isAbsolute(dir) || normalize(dir) !== dir) {
          throw new KeepsakeError('USAGE', 'choose a folder to save into (a full path)');
        }
        const name = deliveryName(job);
        const total = job.outputs.reduce((sum, o) => sum + o.size, 0);
        const task = session.saves.start(name, total, async (onBytes) => {
          const written = await deliverNamed(job, vault, dir, name, onBytes);
          session.record('job.save', job.id, 'ok', written);
          return written;
        });
        return reply.code(202).send(task);
      },
    });

    app.route({
      ...DESKTOP_ROUTES.deleteJob,
      handler: async (request, reply) => {
        const engine = session.requireEngine();
        const job = await removeJob(engine, await engine.queue.get(request.params.id));
        session.record('job.delete', job.id);
        return reply.code(204).send();
      },
    });
  };
}
