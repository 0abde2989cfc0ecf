// The BullMQ queue's names and settings, and what travels in it. Only the coordinator
// talks to Redis (jobs/bullmq-queue.ts): its pool's workers take jobs through it over
// signed HTTPS (pool/), so they never hold Redis's address or password.
//
// What Redis holds, and nothing more: a job's id, its preset, its parameters (numbers and
// choices a preset validated; never a path, a title or a key), its progress, and error
// codes. Outcomes (outputs, notes, history) are recorded by the coordinator in its SQLite
// database, which stays the record the desktop reads (`GET /v1/jobs…`).

import type { JobProgress } from './queue';

/** The one queue a coordinator schedules its jobs on. */
export const QUEUE_NAME = 'jobs';
/** BullMQ's key prefix: every key the pool writes in Redis starts with `keepsake:`. */
export const QUEUE_PREFIX = 'keepsake';

/** A lock not renewed for this long means its holder is gone (BullMQ's lockDuration). */
export const DEFAULT_LOCK_MS = 15_000;
/**
 * How often BullMQ looks for jobs whose lock ran out and hands them on. A job is found at
 * the first look after its lock ran out, so a dead worker's job waits up to the lock plus
 * this: at 10 s, bench:workers measured 15 to 37 s from a `kill -9` to the job running
 * elsewhere. One look is one short script in Redis.
 */
export const DEFAULT_STALLED_INTERVAL_MS = 5_000;
/** A job whose holder vanished this many times is failed rather than handed on again. */
export const MAX_STALLED_COUNT = 3;

/** A BullMQ job's data: the coordinator's job id, and what decides who can run it. */
export interface QueueJobData {
  jobId: string;
  preset: string;
  params: Record<string, unknown>;
}

/**
 * A job's return value as BullMQ stores it (in Redis, so counts only: never an output's
 * name, a path or a key).
 */
export interface QueueResult {
  outputs?: number;
}

/** Progress as Redis may hold it: numbers only. */
export function progressForRedis(progress: JobProgress): JobProgress {
  const out: JobProgress = { percent: progress.percent, at: progress.at };
  if (progress.fps !== undefined) out.fps = progress.fps;
  if (progress.speed !== undefined) out.speed = progress.speed;
  if (progress.etaSeconds !== undefined) out.etaSeconds = progress.etaSeconds;
  return out;
}
