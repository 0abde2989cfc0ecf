// The desktop API for a tape's analysis (net/desktop-tape-contract.ts): start one for an
// encrypted library video (a job of its own kind, jobs/tape-job.ts, with progress, cancel
// and restarts like any job), and read the newest one: where it is, and once done what it
// found, decrypted in memory: the analysis kept with the tape (tape/analysis-store.ts), so
// it outlives its job, with the clips it proposes and their pictures as capability URLs.
// Starting while one is queued or running answers that one rather than queueing a second.

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
import type { KeptAnalysis } from '../tape/analysis-store';
import { proposedClips } from '../tape/clip-pictures';
import { picturesPath } from './item-media';

export interface TapeRoutesOptions {
  session: DesktopSession;
  /** The per-launch secret behind the pictures' capability URLs (item-media.ts). */
  playSecret: Buffer;
}

/**
 * How long after an analysis its clips' pictures are still awaited: past this, something
 * went wrong (the log says what) and the viewer stops asking.
 */
const PICTURES_PATIENCE_MS = 10 * 60_000;

type ClipView = NonNullable<TapeAnalysisView['clips']>[number];

/** The kept clips as the API shows them: each picture as a capability URL. */
function clipViews(secret: Buffer, fileId: string, kept: KeptAnalysis): ClipView[] {
  const base = picturesPath(secret, fileId);
  let n = 0;
  const pictured = kept.clips ?? proposedClips(kept.analysis).map((c) => ({ ...c, frames: [] }));
  return pictured.map(({ frames, ...clip }) => ({
    ...clip,
    pictures: frames.map(() => `${base}clips/${kept.pictures}/${n++}`),
  }));
}

export function tapeRoutes({ session, playSecret }: TapeRoutesOptions): FastifyPluginAsync {
  /** The newest analysis job of a file, if any. */
  const newest = async (fileId: string): Promise<JobSnapshot | undefined> => {
    const queue = session.requireEngine().queue;
    const jobs = (await queue.jobsForFiles([fileId])).get(fileId) ?? [];
    const job = jobs.find((j) => j.preset === TAPE_ANALYSIS);
    return job && queue.get(job.id);
  };

  /**
   * Where the newest analysis job is, and what the analysis kept with the tape found (it
   * outlives its job). Just after a job succeeds, before it is kept, its output answers.
   */
  const view = async (fileId: string, job: JobSnapshot | undefined): Promise<TapeAnalysisView> => {
    const vault = session.requireVault();
    let kept = session.tapeAnalyses.get(vault, fileId);
    if (job?.state === 'succeeded' && kept?.jobId !== job.id) {
      const analysis = await readTapeAnalysis(job, vault);
      kept = { jobId: job.id, keptAt: job.finishedAt ?? 0, analysis };
    }
    if (!job && !kept) return { state: 'none' };
    return {
      state: job?.state ?? 'succeeded',
      ...(job ? { jobId: job.id } : {}),
      ...(job?.state === 'running' && job.progress ? { percent: job.progress.percent } : {}),
      ...(job?.state === 'failed' && job.lastError ? { error: { ...job.lastError } } : {}),
      ...(kept
        ? {
            analysis: kept.analysis,
            clips: clipViews(playSecret, fileId, kept),
            ...(kept.pictures === undefined && Date.now() - kept.keptAt < PICTURES_PATIENCE_MS
              ? { picturesPending: true }
              : {}),
          }
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
        return view(request.params.id, await newest(request.params.id));
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
          return reply.code(202).send(await view(file.id, current));
        }
        const job = await submitTapeAnalysis(engine.queue, {
          input: { kind: 'vault', path: file.encryptedPath },
          outputDir: engine.outputRoot,
          options: { libraryFile: file.id, sourceName: basename(file.rel), remote },
        });
        const where = remote ? ` on ${remote}` : '';
        session.record('job.create', job.id, 'ok', `tape analysis of ${file.rel}${where}`);
        return reply.code(202).send(await view(file.id, await engine.queue.get(job.id)));
      },
    });
  };
}
