// What a remote job keeps beside it between attempts (remote/remote-execute.ts): the
// sealed copy of a plain input, and where its upload and remote job stand. An attempt
// that will be resumed keeps them; a job that will not run again (cancelled while it
// waited, deleted, or finished by a crash) must not keep them forever.

import { readdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { isKeepsakeError } from '../core/errors';
import { FINISHED_STATES, type Job, type JobQueue } from './queue';

export function remoteLeftovers(job: Pick<Job, 'id' | 'outputDir'>) {
  return {
    sealedInput: join(job.outputDir, `.${job.id}.input.ksv`),
    state: join(job.outputDir, `.${job.id}.remote.json`),
  };
}

export async function removeRemoteLeftovers(job: Pick<Job, 'id' | 'outputDir'>): Promise<void> {
  const { sealedInput, state } = remoteLeftovers(job);
  await rm(sealedInput, { force: true });
  await rm(state, { force: true });
}

const LEFTOVER = /^\.([A-Za-z0-9_-]+)\.(?:input\.ksv|remote\.json)$/;

/**
 * Removes the leftovers in `outputRoot` of jobs that are gone or finished; returns the
 * names removed. Run when an engine opens, before its worker claims anything.
 */
export async function sweepRemoteLeftovers(outputRoot: string, queue: JobQueue): Promise<string[]> {
  const names = await readdir(outputRoot).catch(() => [] as string[]);
  const removed: string[] = [];
  for (const name of names) {
    const id = LEFTOVER.exec(name)?.[1];
    if (!id) continue;
    let job: Awaited<ReturnType<JobQueue['get']>> | undefined;
    try {
      job = await queue.get(id);
    } catch (err) {
      // Only a job the queue does not know is gone; any other error keeps the files.
      if (!isKeepsakeError(err, 'JOB_NOT_FOUND')) continue;
    }
    if (job && !FINISHED_STATES.includes(job.state)) continue;
    await rm(join(outputRoot, name), { force: true });
    removed.push(name);
  }
  return removed;
}
