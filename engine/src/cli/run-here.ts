// Running queued jobs in this process and following each to its end, as `keepsake job
// submit` and `keepsake tape …` do: the job engine opened on the data directory's queue
// (so `job watch` or `job cancel` in another terminal sees and steers these jobs), a
// progress bar, stalls on the database said on stderr, and Ctrl-C cancelling the jobs
// being followed cleanly, with nothing left behind.

import { resolveDataDir } from '../core/data-dir';
import { KeepsakeError } from '../core/errors';
import { openJobEngine, type JobEngine } from '../jobs/job-engine';
import type { JobSnapshot } from '../jobs/queue';
import { runRemote } from '../remote/remote-runner';
import { listRemotes } from '../remote/remotes';
import { openVault, type GlobalOptions } from './context';
import { JobProgressBar } from './job-progress';
import { STALL_GIVE_UP_MS, follow, reportStalls } from './job-reporting';

/**
 * The vault's unlocking, started beside FFmpeg's discovery. The engine awaits it only
 * later, so a refusal (no password) is marked handled here, or Node would end the
 * process with a stack trace before the engine got to report it.
 */
export function unlocking(g: GlobalOptions): ReturnType<typeof openVault> {
  const vault = openVault(g);
  vault.catch(() => undefined);
  return vault;
}

/** Refuses a `--remote` that names no paired server (a mistake on the command line). */
export async function requirePairedServer(dataDir: string, name: string): Promise<void> {
  if (!(await listRemotes(dataDir)).some((r) => r.name === name)) {
    throw new KeepsakeError(
      'USAGE',
      `no paired server named "${name}" (pair with \`keepsake remote add\`)`,
    );
  }
}

export interface JobsHere {
  engine: JobEngine;
  /**
   * A job just queued, to be cancelled if the user interrupts (its name is said on
   * stderr). Track every job as soon as it is queued, before following any of them.
   */
  track(job: Pick<JobSnapshot, 'id' | 'preset'>): void;
  /** Waits for a tracked job to finish, with a progress bar; the worker starts at the first. */
  follow(id: string): Promise<JobSnapshot>;
  /** Whether Ctrl-C (or a TERM) came: the tracked jobs are being cancelled. */
  readonly interrupted: boolean;
}

/** Opens the job engine, hands it to `body`, and closes it (running jobs go back to the queue). */
export async function runJobsHere<T>(
  g: GlobalOptions,
  body: (here: JobsHere) => Promise<T>,
): Promise<T> {
  const dataDir = resolveDataDir(g.dataDir);
  const engine = await openJobEngine({ dataDir, keys: { vault: unlocking(g) }, runRemote });
  const stall = reportStalls(engine.worker, g);
  const tracked = new Set<string>();
  const cancel = (id: string) => void engine.worker.cancel(id).catch(() => undefined);
  let interrupted = false;
  let started = false;
  const onSignal = () => {
    interrupted = true;
    for (const id of tracked) cancel(id);
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  const here: JobsHere = {
    engine,
    get interrupted() {
      return interrupted;
    },
    track(job) {
      tracked.add(job.id);
      if (!g.json && !g.quiet) process.stderr.write(`Job ${job.id} (${job.preset})\n`);
      if (interrupted) cancel(job.id);
    },
    async follow(id) {
      if (!started) {
        started = true;
        await engine.worker.start();
      }
      const bar = new JobProgressBar({ json: !!g.json, quiet: !!g.quiet });
      const finished = await follow(id, () => engine.queue.get(id), bar, {
        // A full or damaged database, or Ctrl-C while the cancel cannot be recorded:
        // stop waiting and say why, rather than hang.
        check: () => {
          const { error, forMs } = stall();
          if (!error) return;
          const givesUp = error.code !== 'DATABASE_BUSY' && forMs >= STALL_GIVE_UP_MS;
          if (!givesUp && !interrupted) return;
          bar.done();
          throw new KeepsakeError(
            error.code,
            `${error.message}; job ${id} is left to the next \`keepsake job work\` or desktop start, which will retry it`,
          );
        },
        wake: (notify) => {
          engine.worker.on('finished', notify);
          return () => engine.worker.off('finished', notify);
        },
      });
      tracked.delete(id);
      return finished;
    },
  };
  try {
    return await body(here);
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
    await engine.close();
  }
}
