// /healthz: what stops or slows the server, each finding classified. `failing` when any
// finding is an error (the server cannot do its job), `degraded` on warnings.

import { statfs } from 'node:fs/promises';
import type Database from 'better-sqlite3';
import type { FfmpegLocation } from '../ffmpeg/locate';
import type { Scratch } from '../ffmpeg/scratch';
import { BullmqJobQueue } from '../jobs/bullmq-queue';
import type { JobQueue } from '../jobs/queue';
import type { Health, WorkerStatus } from '../net/contract';

export interface HealthInputs {
  db: Database.Database;
  dataDir: string;
  ffmpeg: FfmpegLocation | undefined;
  scratch: Scratch | undefined;
  keyringReady: () => boolean;
  /** The job queue's backend, and for Redis whether it answers (queueHealth). */
  queue?: () => Promise<NonNullable<Health['queue']>>;
  /** The pool's workers seen (pool/coordinator.ts `status`). */
  workers?: () => WorkerStatus[];
  /** Below this much free space the disk is a warning (default 2 GiB). */
  lowDiskBytes?: number;
}

export async function checkHealth(inputs: HealthInputs): Promise<Health> {
  const reasons: Health['reasons'] = [];
  try {
    inputs.db.prepare('SELECT 1').get();
  } catch (err) {
    reasons.push({ reason: 'database', severity: 'error', message: String(err) });
  }
  try {
    const fs = await statfs(inputs.dataDir);
    const free = fs.bavail * fs.bsize;
    if (free < (inputs.lowDiskBytes ?? 2 * 1024 ** 3)) {
      reasons.push({
        reason: 'disk_space',
        severity: 'warn',
        message: `${Math.round(free / 1024 ** 2)} MiB free in the data directory`,
      });
    }
  } catch (err) {
    reasons.push({ reason: 'disk_space', severity: 'error', message: String(err) });
  }
  if (!inputs.ffmpeg) {
    reasons.push({ reason: 'ffmpeg', severity: 'error', message: 'no usable FFmpeg found' });
  } else if (inputs.ffmpeg.source === 'npm-package') {
    reasons.push({
      reason: 'ffmpeg',
      severity: 'warn',
      message:
        'the npm-packaged FFmpeg (2018) crashes on multi-rendition HLS; install a system FFmpeg',
    });
  } else if (inputs.ffmpeg.ffprobeSource === 'npm-package') {
    reasons.push({
      reason: 'ffprobe',
      severity: 'warn',
      message: 'the npm-packaged FFprobe crashes on MPEG-TS; install a system FFprobe',
    });
  }
  // A disk-backed scratch is fine: outputs go through the encrypting sink, never to it.
  if (!inputs.scratch) {
    reasons.push({ reason: 'scratch', severity: 'error', message: 'no usable scratch folder' });
  }
  if (!inputs.keyringReady()) {
    reasons.push({ reason: 'keyring', severity: 'error', message: 'credentials cannot be read' });
  }
  const queue = await inputs.queue?.();
  if (queue?.backend === 'redis' && !queue.reachable) {
    reasons.push({
      reason: 'queue',
      severity: 'error',
      message: `the job queue's Redis at ${queue.redis} does not answer; jobs wait until it does`,
    });
  }
  const status = reasons.some((r) => r.severity === 'error')
    ? 'failing'
    : reasons.some((r) => r.severity === 'warn')
      ? 'degraded'
      : 'ok';
  const workers = inputs.workers?.();
  return { status, reasons, ...(queue ? { queue } : {}), ...(workers ? { workers } : {}) };
}

/** What /healthz says of the job queue: SQLite's, or BullMQ's with Redis answering or not. */
export function queueHealth(queue: JobQueue): () => Promise<NonNullable<Health['queue']>> {
  return async () =>
    queue instanceof BullmqJobQueue
      ? { backend: 'redis', redis: queue.redisUrl, reachable: await queue.redisReachable() }
      : { backend: 'sqlite' };
}
