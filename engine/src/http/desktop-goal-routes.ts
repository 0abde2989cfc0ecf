// The desktop API's goals (presets/goals.ts): what the family can ask for in plain words,
// an estimate of the time and room it needs, and starting it on library items. A goal is
// only a way of making jobs: each job it makes is an ordinary job (desktop-job-routes.ts).

import { statfs } from 'node:fs/promises';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { FastifyPluginAsync } from 'fastify';
import { KeepsakeError } from '../core/errors';
import { newestTapeAnalysis } from '../jobs/tape-job';
import type { LibraryFile } from '../library/library';
import type {
  DesktopJob,
  EstimateGoalBody,
  GoalEstimateView,
  GoalView,
} from '../net/desktop-contract';
import { DESKTOP_ROUTES } from '../net/desktop-route-table';
import { enoughRoom, estimateSteps, ratesFrom, type FinishedRun } from '../presets/goal-estimate';
import { GOALS, getGoal, kindWords, kindsWords, type Goal, type GoalId } from '../presets/goals';
import type { DesktopSession } from '../session/session';
import { restoreLook, type RestoreLook } from '../tape/restore-look';
import { desktopJobView, submitDesktopJob } from './desktop-job-routes';

/** The free room of a folder's file system (node's fs.statfs, or a test's reading). */
export type FreeSpace = (path: string) => Promise<{ bavail: number; bsize: number }>;

export interface GoalRoutesOptions {
  session: DesktopSession;
  playSecret: Buffer;
  freeSpace?: FreeSpace;
}

/** How many finished jobs the speed is measured from: recent ones say most about now. */
const HISTORY = 300;

const goalView = (goal: Goal): GoalView => ({
  id: goal.id,
  name: goal.name,
  description: goal.description,
  kinds: [...goal.kinds],
  steps: goal.steps.map((s) => ({ preset: s.preset, label: s.label })),
  poster: goal.poster,
});

/** The items, each of a kind the goal is for; refused in plain words otherwise. */
function itemsFor(session: DesktopSession, goal: Goal, fileIds: readonly string[]): LibraryFile[] {
  const files = [...new Set(fileIds)].map((id) => session.library.file(id));
  const wrong = files.find((f) => !goal.kinds.includes(f.kind));
  if (wrong) {
    const name = wrong.rel.split('/').pop() ?? wrong.rel;
    throw new KeepsakeError(
      'PRESET_KIND_MISMATCH',
      `“${goal.name}” is for ${kindsWords(goal.kinds)}, and ${name} is ${kindWords(wrong.kind)}`,
    );
  }
  return files;
}

/** The time and room a goal needs on these items, and the room free in the data folder. */
export async function estimateGoal(
  session: DesktopSession,
  body: EstimateGoalBody,
  freeSpace: FreeSpace = statfs,
): Promise<GoalEstimateView> {
  const goal = getGoal(body.goal);
  const files = itemsFor(session, goal, body.fileIds);
  const vault = session.requireVault();
  const engine = session.requireEngine();
  // Jobs that finished here (or on the chosen server) are this machine's own measure.
  const finished = (await engine.queue.list({ states: ['succeeded'], limit: HISTORY })).filter(
    (j) => j.options.libraryFile && j.options.remote === body.remote,
  );
  const facts = session.info.infoFor(
    [...files.map((f) => f.id), ...finished.map((j) => j.options.libraryFile!)],
    vault,
  );
  const kindOf = (id: string) => {
    try {
      return session.library.file(id).kind;
    } catch {
      return 'other'; // gone from the library: its facts still measure the speed
    }
  };
  const runs: FinishedRun[] = finished.flatMap((j) => {
    const info = facts.get(j.options.libraryFile!);
    if (!info) return [];
    return [
      {
        preset: j.preset,
        speed: j.progress?.speed,
        outputBytes: j.outputs.reduce((sum, o) => sum + o.size, 0),
        item: { ...info, kind: kindOf(j.options.libraryFile!) },
      },
    ];
  });
  const estimate = estimateSteps(
    goal.steps,
    files.map((f) => ({ kind: f.kind, ...facts.get(f.id) })),
    ratesFrom(runs),
    // Here, as many at once as the worker runs. A paired server runs them as its own
    // worker does, which this engine does not know: one after another errs long, not short.
    body.remote === undefined ? engine.concurrency : 1,
  );
  const fs = await freeSpace(session.dataDir);
  const freeBytes = Number(fs.bavail) * Number(fs.bsize);
  return { ...estimate, freeBytes, enough: enoughRoom(estimate.bytes, freeBytes) };
}

const RESTORE = 'vhs-restore';

/**
 * The restored copy's crop and field order from the tape's newest finished analysis
 * (tape/restore-look.ts), when the goal restores and the tape was analysed.
 */
async function tapeLook(
  session: DesktopSession,
  goal: Goal,
  fileId: string,
): Promise<RestoreLook | undefined> {
  if (!goal.steps.some((s) => s.preset === RESTORE)) return undefined;
  const vault = session.requireVault();
  // The analysis kept with the tape outlives its job; one that has just finished may not
  // be kept yet, and answers from its job.
  const analysis =
    session.tapeAnalyses.get(vault, fileId)?.analysis ??
    (await newestTapeAnalysis(session.requireEngine().queue, fileId, vault));
  return analysis && restoreLook(analysis);
}

export function goalRoutes(options: GoalRoutesOptions): FastifyPluginAsync {
  const { session } = options;
  const view = desktopJobView(session, options.playSecret);

  return async (plain) => {
    const app = plain.withTypeProvider<TypeBoxTypeProvider>();

    app.route({ ...DESKTOP_ROUTES.goals, handler: async () => GOALS.map(goalView) });

    app.route({
      ...DESKTOP_ROUTES.estimateGoal,
      handler: async (request) => estimateGoal(session, request.body, options.freeSpace),
    });

    app.route({
      ...DESKTOP_ROUTES.startGoal,
      handler: async (request, reply) => {
        const body = request.body;
        const id: GoalId = body.goal;
        const goal = getGoal(id);
        const files = itemsFor(session, goal, body.fileIds);
        session.requireEngine();
        // Nothing starts unless every item can: a half-started goal is harder to explain.
        const unprotected = files.find((f) => !f.encryptedPath);
        if (unprotected) {
          throw new KeepsakeError(
            'NOT_ENCRYPTED',
            `${unprotected.rel} is not encrypted yet: encrypt its folder first`,
          );
        }
        const jobs: DesktopJob[] = [];
        for (const file of files) {
          const look = await tapeLook(session, goal, file.id);
          for (const step of goal.steps) {
            const job = await submitDesktopJob(session, {
              fileId: file.id,
              preset: step.preset,
              params: step.preset === RESTORE ? { ...step.params, ...look } : step.params,
              mode: body.mode,
              remote: body.remote,
              outDir: body.outDir,
            });
            jobs.push(view(job));
          }
        }
        let ready = 0;
        let coming = 0;
        if (goal.poster) {
          const withPicture = session.previews.withPicture(files.map((f) => f.id));
          ready = withPicture.size;
          coming = files.filter(
            (f) => !withPicture.has(f.id) && !session.previews.cannotMake(f.id),
          ).length;
          // The library makes them in the background; this makes sure a run is going.
          if (coming > 0) session.readItemInfo();
        }
        session.record('goal.start', goal.id, 'ok', `${goal.name}: ${jobs.length} jobs`);
        return reply.code(201).send({ jobs, posters: { ready, coming } });
      },
    });
  };
}
