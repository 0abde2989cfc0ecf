// The desktop API for a tape's analysis (net/desktop-tape-contract.ts): start one for an
// encrypted library video (a job of its own kind, jobs/tape-job.ts, with progress, cancel
// and restarts like any job), and read the newest one: where it is, and once done what it
// found, decrypted in memory from its sealed output. Starting while one is queued or
// running answers that one rather than queueing a second.

import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { FastifyPluginAsync } from 'fastify';
import { basename } from 'node:path';
import { KeepsakeError } from '../core/errors';
import type { JobSnapshot } from '../jobs/queue';
import { TAPE_ANALYSIS, readTapeAnalysis, submitTapeAnalysis } from '../jobs/tape-job';
import { DESKTOP_ROUTES } from '../net/desktop-route-table';
import type { TapeAnalysisView } from '../net/desktop-tape-contract';
import { listRemotes } from '../remote/remotes';
import type { DesktopSession } from '../session/session';

export interface TapeRoutesOptions {
  session: DesktopSession;
}

export function tapeRoutes({ session }: TapeRoutesOptions): FastifyPluginAsync {
  /** The newest analysis of a file, if any. */
  const newest = async (fileId: string): Promise<JobSnapshot | undefined> => {
    const queue = session.requireEngine().queue;
    const jobs = (await queue.jobsForFiles([fileId])).get(fileId) ?? [];
    const job = jobs.find((j) => j.preset === TAPE_ANALYSIS);
    return job && queue.get(job.id);
  };

  const view = async (job: JobSnapshot | undefined): Promise<TapeAnalysisView> => {
    if (!job) return { state: 'none' };
    return {
      state: job.state,
      jobId: job.id,
      ...(job.state === 'running' && job.progress ? { percent: job.progress.percent } : {}),
      ...(job.state === 'failed' && job.lastError ? { error: { ...job.lastError } } : {}),
      ...(job.state === 'succeeded'
        ? { analysis: await readTapeAnalysis(job, session.requireVault()) }
        : {}),
    };
  };

  return async (plain) => {
    const app = plain.withTypeProvider<TypeBoxTypeProvider>();

    app.route({
      ...DESKTOP_ROUTES.tapeAnalysis,
      handler: async (request) => {
        session.requireVault();
        session.library.file(request.params.id); // NOT_FOUND for an unknown file
        return view(await newest(request.params.id));
      },
    });

    app.route({
      ...DESKTOP_ROUTES.analyseTape,
      // The body is optional (on this computer): an absent one reads as `{}`.
      preValidation: async (request) => {
        request.body ??= {};
      },
      handler: async (request, reply) => {
        session.requireVault();
        const engine = session.requireEngine();
        const file = session.library.file(request.params.id);
        if (file.kind !== 'video') {
          throw new KeepsakeError('USAGE', 'only a video can be looked through as a tape');
        }
        if (!file.encryptedPath) {
          throw new KeepsakeError(
            'NOT_ENCRYPTED',
            `${file.rel} is not in the vault yet; protect it first, then look through it`,
          );
        }
        const { remote } = request.body;
        if (remote && !(await listRemotes(session.dataDir)).some((r) => r.name === remote)) {
          throw new KeepsakeError('NOT_FOUND', `no paired server named "${remote}"`);
        }
        const current = await newest(file.id);
        if (current && (current.state === 'queued' || current.state === 'running')) {
          return reply.code(202).send(await view(current));
        }
        const job = await submitTapeAnalysis(engine.queue, {
          input: { kind: 'vault', path: file.encryptedPath },
          outputDir: engine.outputRoot,
          options: { libraryFile: file.id, sourceName: basename(file.rel), remote },
        });
        const where = remote ? ` on ${remote}` : '';
        session.record('job.create', job.id, 'ok', `tape analysis of ${file.rel}${where}`);
        return reply.code(202).send(await view(await engine.queue.get(job.id)));
      },
    });
  };
}
