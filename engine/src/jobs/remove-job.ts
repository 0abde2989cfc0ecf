// Deleting a job everywhere it shows: stopped first if it runs (it may finish on its own
// meanwhile; it is deleted either way), then its record and its encrypted outputs.

import { rm } from 'node:fs/promises';
import { isKeepsakeError } from '../core/errors';
import { jobOutputDir } from './execute';
import type { JobEngine } from './job-engine';
import type { JobSnapshot } from './queue';
import { removeRemoteLeftovers } from './remote-leftovers';

const STOP_WAIT_MS = 30_000;

/** Returns the job as it was last seen, for what the caller removes beside it. */
export async function removeJob(engine: JobEngine, job: JobSnapshot): Promise<JobSnapshot> {
  if (job.state === 'queued' || job.state === 'running') {
    await engine.worker.cancel(job.id).catch((err: unknown) => {
      if (!isKeepsakeError(err, 'JOB_FINISHED')) throw err;
    });
    const deadline = Date.now() + STOP_WAIT_MS;
    while ((job = await engine.queue.get(job.id)).state === 'running' && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 100));
    }
  }
  await engine.queue.delete(job.id);
  await rm(jobOutputDir(job), { recursive: true, force: true });
  await removeRemoteLeftovers(job);
  return job;
}
