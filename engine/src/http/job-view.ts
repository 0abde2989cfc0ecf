// A job as clients see it (the hardened server's API and the desktop's): the queue's
// record without local paths, leases or owners.

import type { JobSnapshot } from '../jobs/queue';
import type { JobView } from '../net/contract';

export function jobView(job: JobSnapshot, waitingForKeys: boolean): JobView {
  return {
    id: job.id,
    state: job.state,
    preset: job.preset,
    params: job.params,
    mode: job.options.mode ?? 'manual',
    priority: job.priority,
    createdAt: job.createdAt,
    startedAt: job.startedAt,
    finishedAt: job.finishedAt,
    attempts: job.attempts,
    maxAttempts: job.maxAttempts,
    waitingForKeys,
    progress: job.progress,
    lastError: job.lastError,
    notes: [...job.notes],
    outputs: job.outputs.map((o) => ({
      name: o.name,
      size: o.size,
      ...(o.labels ? { labels: [...o.labels] } : {}),
      ...(o.quality ? { quality: { ...o.quality } } : {}),
    })),
  };
}
