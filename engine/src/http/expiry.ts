// What nobody will finish is removed: an upload no chunk reached for `maxAgeMs`, a job
// whose owner never came back for its results, a job that waits for keys nobody sends.
// Without this, one credential could hold disk space forever, and every crashed desktop
// left its upload and job behind on the server.
//
//   upload without a job, idle for maxAge        → row and file removed
//   finished job, finished maxAge ago            → job, outputs and upload removed
//   queued job without keys, created maxAge ago  → job and upload removed
//
// A running job, and a queued one that has its keys, are never touched.

import type { JobEngine } from '../jobs/job-engine';
import { FINISHED_STATES } from '../jobs/queue';
import { removeJob } from '../jobs/remove-job';
import type { AuditLog } from '../audit/audit';
import type { JobKeyStore } from './job-keys';
import type { UploadStore } from './uploads';

export interface ExpiryDeps {
  uploads: UploadStore;
  engine: JobEngine;
  jobKeys: JobKeyStore;
  audit: AuditLog;
  maxAgeMs: number;
}

export interface Swept {
  uploads: string[];
  jobs: string[];
  /** Files in the uploads folder that no upload owned (left by a crash). */
  strays: string[];
}

const ALL = 100_000;

export async function sweepAbandoned(deps: ExpiryDeps, now = Date.now()): Promise<Swept> {
  const { uploads, engine, jobKeys, audit, maxAgeMs } = deps;
  const cutoff = now - maxAgeMs;
  const swept: Swept = { uploads: [], jobs: [], strays: [] };
  const hours = `${Math.round(maxAgeMs / 360_000) / 10} h`;

  for (const job of await engine.queue.list({ limit: ALL })) {
    if (!job.options.submittedBy) continue; // not a client's job (an admin's local path)
    const finishedLongAgo =
      FINISHED_STATES.includes(job.state) && (job.finishedAt ?? job.createdAt) < cutoff;
    const keylessLongAgo = job.state === 'queued' && !jobKeys.has(job.id) && job.createdAt < cutoff;
    if (!finishedLongAgo && !keylessLongAgo) continue;
    await removeJob(engine, job);
    jobKeys.delete(job.id);
    if (job.options.upload) await uploads.delete(job.options.upload);
    swept.jobs.push(job.id);
    audit.append({
      action: 'job.expire',
      target: job.id,
      outcome: 'ok',
      detail: finishedLongAgo
        ? `${job.state} more than ${hours} ago and not collected`
        : `waited more than ${hours} for keys nobody sent`,
    });
  }

  for (const upload of uploads.list()) {
    if (uploads.busy(upload.id)) continue;
    if ((await uploads.lastActivity(upload)) >= cutoff) continue;
    if ((await engine.queue.list({ upload: upload.id, limit: 1 })).length > 0) continue;
    await uploads.delete(upload.id);
    swept.uploads.push(upload.id);
    audit.append({
      action: 'upload.expire',
      target: upload.id,
      outcome: 'ok',
      detail: `${upload.offset} of ${upload.size} bytes, nothing received for ${hours}`,
    });
  }

  swept.strays = await uploads.removeStrays();
  return swept;
}

/** Sweeps now and then every `everyMs` (at most a quarter of the expiry); returns a stop. */
export function keepSweeping(
  deps: ExpiryDeps,
  onError: (err: unknown) => void,
  everyMs = Math.min(deps.maxAgeMs / 4, 15 * 60_000),
): () => Promise<void> {
  let running: Promise<unknown> | undefined;
  const sweep = () => {
    if (running) return; // a long sweep is not overtaken by the next
    running = sweepAbandoned(deps)
      .catch(onError)
      .finally(() => (running = undefined));
  };
  sweep();
  const timer = setInterval(sweep, everyMs);
  timer.unref();
  return async () => {
    clearInterval(timer);
    await running;
  };
}
