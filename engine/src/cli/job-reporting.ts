// What `keepsake job submit` and `job work` say about jobs as they run: a job's summary and
// outcome, the worker's stalls on a database it cannot write, and following one job to its
// end with a progress bar.

import { dirname } from 'node:path';
import { KeepsakeError } from '../core/errors';
import { FINISHED_STATES, type JobSnapshot } from '../jobs/queue';
import type { JobWorker } from '../jobs/worker';
import type { GlobalOptions } from './context';
import type { JobProgressBar } from './job-progress';

export function summary(job: JobSnapshot): Record<string, unknown> {
  return {
    id: job.id,
    state: job.state,
    preset: job.preset,
    input: job.input,
    attempts: job.attempts,
    progress: job.progress?.percent ?? null,
    error: job.lastError ?? null,
    outputs: job.outputs,
    notes: job.notes,
  };
}

export function describeOutcome(job: JobSnapshot): string {
  if (job.state === 'succeeded') {
    const notes = job.notes.length ? ` (${job.notes.join('; ')})` : '';
    return `Job ${job.id} succeeded: ${job.outputs.length} encrypted output(s) in ${dirname(job.outputs[0]?.path ?? '')}${notes}`;
  }
  return `Job ${job.id} ${job.state}: ${job.lastError?.message ?? ''}`;
}

/**
 * Says on stderr when the worker cannot read or write the queue (the database busy in
 * another process, the disk full): it waits and tries again rather than dying, and the
 * user should know why nothing moves. Each distinct problem is said once in a row.
 */
export function reportStalls(worker: JobWorker, g: GlobalOptions): () => StallState {
  let last = '';
  let since: number | undefined;
  let error: KeepsakeError | undefined;
  worker.on('stalled', (err) => {
    since ??= Date.now();
    error = err;
    if (g.quiet || err.message === last) return;
    last = err.message;
    process.stderr.write(`keepsake: ${err.message} [${err.code}]; trying again shortly\n`);
  });
  const clear = () => {
    last = '';
    since = undefined;
    error = undefined;
  };
  worker.on('progress', clear);
  worker.on('finished', clear);
  worker.on('retry', clear);
  return () => ({ error, forMs: since === undefined ? 0 : Date.now() - since });
}

export interface StallState {
  /** The latest problem with the database, while it lasts. */
  error?: KeepsakeError;
  forMs: number;
}

/**
 * How long `job submit` waits on a database that stays full or damaged before it gives
 * up (a busy one is waited for: another program is working). The job is left for the
 * next start to recover; nothing can be written about it meanwhile.
 */
export const STALL_GIVE_UP_MS = 30_000;

/** Sets the exit status of a job that did not succeed from its error code. */
export function failedStatus(job: JobSnapshot): void {
  if (job.state === 'succeeded') return;
  const code = job.state === 'cancelled' ? 'JOB_CANCELLED' : (job.lastError?.code ?? 'INTERNAL');
  process.exitCode = new KeepsakeError(code, '').exitCode;
}

/**
 * Waits for one job to finish, drawing its progress. The queue is read every interval
 * (another process may cancel the job) and at once when `wake` fires (this process's
 * worker finished something), so an in-process job returns without a polling delay.
 */
export async function follow(
  id: string,
  read: () => Promise<JobSnapshot>,
  bar: JobProgressBar,
  options: {
    intervalMs?: number;
    wake?: (notify: () => void) => () => void;
    /** Throws to stop following (the database cannot be written, say). */
    check?: () => void;
  } = {},
): Promise<JobSnapshot> {
  for (;;) {
    options.check?.();
    const job = await read();
    bar.update(id, job.state, job.progress);
    if (FINISHED_STATES.includes(job.state)) {
      bar.done();
      return job;
    }
    await new Promise<void>((resolve) => {
      const timer = setTimeout(done, options.intervalMs ?? 250);
      const unsubscribe = options.wake?.(done);
      function done() {
        clearTimeout(timer);
        unsubscribe?.();
        resolve();
      }
    });
  }
}
