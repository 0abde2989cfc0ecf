// The BullMQ queue's shared names and what travels in it, and the consumer API a
// `keepsake worker` (or any other process) uses to take jobs from it.
//
// What Redis holds, and nothing more: a job's id, its preset, its parameters (numbers and
// choices a preset validated; never a path, a title or a key), its progress, and error
// codes. Outcomes (outputs, notes, history) are recorded by the coordinator in its SQLite
// database, which stays the record the desktop reads (`GET /v1/jobs…`).

import { DelayedError, UnrecoverableError, Worker, type Job as BullJob } from 'bullmq';
import { isKeepsakeError, KeepsakeError } from '../core/errors';
import type { JobProgress } from './queue';
import { redisConnection, type RedisSettings } from './redis-connection';
import { isTransient, toJobError } from './worker';

/** The one queue every coordinator and worker of a pool shares. */
export const QUEUE_NAME = 'jobs';
/** BullMQ's key prefix: every key the pool writes in Redis starts with `keepsake:`. */
export const QUEUE_PREFIX = 'keepsake';

/** A lock not renewed for this long means its holder is gone (BullMQ's lockDuration). */
export const DEFAULT_LOCK_MS = 15_000;
/** How often BullMQ looks for jobs whose lock ran out and hands them on. */
export const DEFAULT_STALLED_INTERVAL_MS = 10_000;
/** A job whose holder vanished this many times is failed rather than handed on again. */
export const MAX_STALLED_COUNT = 3;

/** A BullMQ job's data: the coordinator's job id, and what decides who can run it. */
export interface QueueJobData {
  jobId: string;
  preset: string;
  params: Record<string, unknown>;
}

/**
 * What a processor returns, stored by BullMQ as the job's return value (in Redis, so
 * counts only: never an output's name, a path or a key).
 */
export interface QueueResult {
  outputs?: number;
}

/** Sends progress through BullMQ (its `progress` event); the coordinator mirrors it. */
export type ReportProgress = (progress: JobProgress) => Promise<void>;

/**
 * Runs one job. `jobId` is the coordinator's job id (the same one `GET /v1/jobs/:id`
 * shows). `signal` aborts when this consumer loses the job's lock (it stalled and BullMQ
 * handed the job on), or when the consumer closes: stop FFmpeg, discard partial outputs,
 * and return or throw quickly; whatever is returned afterwards is ignored.
 *
 * Resolve when the outputs are safely with the coordinator. Throw to fail the attempt:
 * a KeepsakeError whose code is transient (worker.ts `isTransient`: JOB_TIMEOUT,
 * DISK_FULL, SERVER_UNREACHABLE, a killed FFmpeg…) is retried by BullMQ with exponential
 * backoff until the job's attempts are used up; any other error fails the job for good.
 * Only the error's code is written to Redis, never its message (which may name a file).
 */
export type QueueProcessor = (
  jobId: string,
  reportProgress: ReportProgress,
  signal: AbortSignal,
  data: Readonly<QueueJobData>,
) => Promise<QueueResult | void>;

export interface ConsumerOptions {
  redis: RedisSettings;
  processor: QueueProcessor;
  /**
   * Who this consumer is (a worker's client id): BullMQ records it on each job it takes,
   * and the coordinator's `BullmqJobQueue.holds(name, jobId)` checks it (with the lock)
   * before handing over the job's keys.
   */
  name?: string;
  /**
   * Jobs this consumer can run (its encoders, say). A job it cannot is put back for
   * 2 s, untouched (no attempt used), for another consumer to take.
   */
  accepts?: (data: Readonly<QueueJobData>) => boolean;
  /** Defaults to DEFAULT_LOCK_MS; the lock is renewed every half of it. */
  lockMs?: number;
  stalledIntervalMs?: number;
  /** Called with BullMQ's connection and lock errors (they never throw out of here). */
  onError?: (err: Error) => void;
}

export interface QueueConsumer {
  /** BullMQ's worker, for its events (`active`, `completed`, `failed`, `stalled`). */
  readonly worker: Worker<QueueJobData, QueueResult | void>;
  /** Stops taking jobs; a running one is aborted and its lock released for another. */
  close(): Promise<void>;
}

/**
 * Takes jobs from the pool's queue one at a time (concurrency 1: a worker runs one FFmpeg
 * at a time and says so in its capabilities) and runs `processor` on each. BullMQ does
 * the rest: it picks by priority, holds a lock renewed while the job runs, hands a job
 * whose holder died to another consumer (stalled-job check), retries with backoff, and
 * makes sure two consumers racing for one job never both get it.
 *
 * ```ts
 * const consumer = consumeQueue({
 *   redis: { url: 'rediss://queue.lan:6380', password },
 *   processor: async (jobId, reportProgress, signal) => {
 *     // lease keys, fetch ciphertext, run FFmpeg, upload outputs…
 *     await reportProgress({ percent: 50, at: Date.now() });
 *     return { outputs: 2 };
 *   },
 * });
 * // later
 * await consumer.close();
 * ```
 */
export function consumeQueue(options: ConsumerOptions): QueueConsumer {
  const lockMs = options.lockMs ?? DEFAULT_LOCK_MS;
  const lost = new Map<string, AbortController>();
  const closing = new AbortController();
  const processor = async (job: BullJob<QueueJobData>, token?: string, signal?: AbortSignal) => {
    const data = job.data;
    if (options.accepts && !options.accepts(data)) {
      await job.moveToDelayed(Date.now() + 2_000, token);
      throw new DelayedError();
    }
    const mine = new AbortController();
    lost.set(job.id ?? '', mine);
    const signals = [mine.signal, closing.signal, ...(signal ? [signal] : [])];
    try {
      return await options.processor(
        data.jobId,
        (progress) => job.updateProgress(progressForRedis(progress)),
        AbortSignal.any(signals),
        data,
      );
    } catch (err) {
      throw forRedis(err);
    } finally {
      lost.delete(job.id ?? '');
    }
  };
  const worker = new Worker<QueueJobData, QueueResult | void>(QUEUE_NAME, processor, {
    connection: redisConnection(options.redis),
    prefix: QUEUE_PREFIX,
    name: options.name,
    concurrency: 1,
    lockDuration: lockMs,
    stalledInterval: options.stalledIntervalMs ?? DEFAULT_STALLED_INTERVAL_MS,
    maxStalledCount: MAX_STALLED_COUNT,
  });
  worker.on('lockRenewalFailed', (ids: string[]) => {
    for (const id of ids) lost.get(id)?.abort('lost');
  });
  worker.on('error', (err) => options.onError?.(err));
  return {
    worker,
    async close() {
      closing.abort('shutdown');
      await worker.close();
    },
  };
}

/** Progress as Redis may hold it: numbers only. */
export function progressForRedis(progress: JobProgress): JobProgress {
  const out: JobProgress = { percent: progress.percent, at: progress.at };
  if (progress.fps !== undefined) out.fps = progress.fps;
  if (progress.speed !== undefined) out.speed = progress.speed;
  if (progress.etaSeconds !== undefined) out.etaSeconds = progress.etaSeconds;
  return out;
}

/**
 * An attempt's error as BullMQ may store it (failedReason and stack trace live in Redis):
 * its code only. Transient codes stay retryable; anything else fails the job for good.
 */
export function forRedis(err: unknown): Error {
  if (err instanceof DelayedError) return err;
  const { code, message } = toJobError(err);
  const error =
    isKeepsakeError(err) && isTransient({ code, message })
      ? new KeepsakeError(code, code)
      : new UnrecoverableError(code);
  error.stack = code;
  return error;
}
