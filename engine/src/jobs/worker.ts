// Runs queued jobs: bounded concurrency, a lease renewed by heartbeats (which also carry
// progress and pick up cancel requests from other processes), retries with backoff for
// transient failures only, and recovery of jobs whose engine died mid-run.

import { EventEmitter } from 'node:events';
import { hostname } from 'node:os';
import { backoff } from '../core/backoff';
import { KeepsakeError, fromSqliteError, isKeepsakeError, type ErrorCode } from '../core/errors';
import { hexId } from '../core/ids';
import type { Progress } from '../ffmpeg/runner';
import { basename } from 'node:path';
import { mediaKindOf } from '../vault/media-kind';
import { getPreset } from '../presets';
import type { Preset } from '../presets/preset';
import { validateParams } from '../presets/params';
import type { Job, JobError, JobQueue, JobSpec } from './queue';

export type ExecuteFn = (
  job: Job,
  control: { signal: AbortSignal; onProgress: (progress: Progress) => void },
) => Promise<{ outputs: Job['outputs']; notes: string[] }>;

export interface WorkerOptions {
  /** Jobs run at once. */
  concurrency: number;
  /** Removes an attempt's leftovers (scratch, staged outputs). */
  cleanup: (job: Job) => Promise<void>;
  /** Jobs this worker may start now (default: all). */
  canRun?: (job: Job) => boolean;
  leaseMs?: number;
  heartbeatMs?: number;
  pollMs?: number;
  /** First retry delay; doubles per attempt up to retryMaxMs. */
  retryBaseMs?: number;
  retryMaxMs?: number;
}

/** Failures worth another attempt: the machine, not the job, was at fault. */
const TRANSIENT: ReadonlySet<ErrorCode> = new Set([
  'JOB_INTERRUPTED',
  'JOB_TIMEOUT',
  'DISK_FULL',
  'SERVER_UNREACHABLE',
  'SERVER_BUSY',
]);

/**
 * Failures that wait on something outside the job (its paired server is down, or this
 * computer's clock is too far from the server's): the job stays queued and tries again,
 * backing off, until that is put right, using up none of its attempts; its last error
 * says what it waits for, and the user can cancel it meanwhile.
 */
const WAITING: ReadonlySet<ErrorCode> = new Set(['SERVER_UNREACHABLE', 'CLOCK_SKEW']);

export function isTransient(error: JobError): boolean {
  return (
    TRANSIENT.has(error.code) ||
    (error.code === 'FFMPEG_FAILED' && /was killed by SIG/.test(error.message))
  );
}

/**
 * What a failed attempt records, for people (the Jobs screen, `keepsake job show`): the
 * reason without a vault path. A vault file's path (`…/library/fx…/mx….ksv`) means
 * nothing to a family, who know the job by its file's name; the full message goes to the
 * `attemptFailed` event, for logs.
 */
export function toJobError(err: unknown): JobError {
  if (err instanceof KeepsakeError) {
    const prefix = err.file?.endsWith('.ksv') ? `${err.file}: ` : undefined;
    const message =
      prefix && err.message.startsWith(prefix) ? err.message.slice(prefix.length) : err.message;
    return { code: err.code, message };
  }
  const db = fromSqliteError(err);
  if (db) return { code: db.code, message: db.message };
  return { code: 'INTERNAL', message: err instanceof Error ? err.message : String(err) };
}

/** A worker's identity: host, pid and a nonce, so a reused pid is not mistaken for it. */
export function newOwnerId(): string {
  return `${hostname()}:${process.pid}:${hexId(4)}`;
}

/** Whether the worker named `owner` still runs; other hosts are trusted to their lease. */
export function ownerAlive(owner: string): boolean {
  const [host, pid] = owner.split(':');
  if (host !== hostname() || !pid) return true;
  try {
    process.kill(Number(pid), 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/**
 * Refuses a preset that cannot take the input's kind of media (a video preset on a photo,
 * a photo preset on a video): it would only fail once it ran. The kind comes from the
 * source's name (a vault input carries it in `sourceName`); an unknown kind is let through
 * for FFprobe to judge.
 */
export function checkPresetFits(preset: Preset, spec: JobSpec): void {
  const name = spec.options?.sourceName ?? (spec.input.kind === 'plain' ? spec.input.path : '');
  const kind = mediaKindOf(name);
  const wrong =
    (preset.accepts === 'video' && kind === 'photo') ||
    (preset.accepts === 'image' && (kind === 'video' || kind === 'audio'));
  if (wrong) {
    const what = kind === 'photo' ? 'a photo' : `a ${kind} file`;
    throw new KeepsakeError(
      'PRESET_KIND_MISMATCH',
      `${preset.name} is for ${preset.accepts === 'image' ? 'photos' : 'videos'}, and ${basename(name)} is ${what}`,
    );
  }
}

/** Validates a spec (preset, parameters, input kind) before it is queued: bad jobs never wait. */
export async function submitJob(queue: JobQueue, spec: JobSpec): Promise<Job> {
  const preset = getPreset(spec.preset);
  const params = validateParams(preset.params, spec.params);
  checkPresetFits(preset, spec);
  return queue.submit({ ...spec, params });
}

interface Running {
  controller: AbortController;
  progress?: Progress;
  done: Promise<void>;
}

export interface WorkerEvents {
  progress: [job: Job, progress: Progress];
  /** The job ended: succeeded, failed for good, or cancelled. */
  finished: [job: Job];
  /** The attempt failed and the job went back to the queue (its lastError says why). */
  retry: [job: Job];
  /** An attempt failed, with the whole error (vault paths included), for the log. */
  attemptFailed: [job: Job, error: unknown];
  /**
   * The queue could not be read or written (the database busy in another process, the
   * disk full, the file damaged). The worker keeps running and tries again later; a
   * job whose outcome could not be recorded yet is recorded at the next try.
   */
  stalled: [error: KeepsakeError, job?: Job];
}

export class JobWorker extends EventEmitter<WorkerEvents> {
  readonly owner = newOwnerId();
  private readonly running = new Map<string, Running>();
  /** Failed tries in a row of jobs that wait (see WAITING), for their backoff. */
  private readonly waits = new Map<string, number>();
  private timer: NodeJS.Timeout | undefined;
  private stopped = true;
  private ticking = false;
  /** Failed reads of the queue in a row, for the backoff of the next look. */
  private stalls = 0;
  /** Pending pauses of outcomes waiting for the database, cut short by stop(). */
  private readonly wakers = new Set<() => void>();
  /** Why running jobs were stopped, for their history. */
  private stopReason = 'the engine shut down during the job';
  private readonly leaseMs: number;
  private readonly heartbeatMs: number;
  private readonly pollMs: number;

  constructor(
    private readonly queue: JobQueue,
    private readonly execute: ExecuteFn,
    private readonly options: WorkerOptions,
  ) {
    super();
    this.leaseMs = options.leaseMs ?? 15_000;
    this.heartbeatMs = options.heartbeatMs ?? 1_000;
    this.pollMs = options.pollMs ?? 500;
  }

  /** Recovers orphaned jobs, then starts taking work. */
  async start(): Promise<Job[]> {
    const recovered = await this.recover();
    this.stopped = false;
    this.schedule(0);
    return recovered;
  }

  /**
   * Stops taking work. Running jobs are interrupted and go back to the queue (they are
   * not the user's to lose), unless `drain` lets them finish first.
   */
  async stop(options: { drain?: boolean; reason?: string } = {}): Promise<void> {
    this.stopped = true;
    this.stopReason = options.reason ?? 'the engine shut down during the job';
    clearTimeout(this.timer);
    for (const wake of [...this.wakers]) wake();
    if (!options.drain) for (const r of this.running.values()) r.controller.abort('shutdown');
    await Promise.all([...this.running.values()].map((r) => r.done));
  }

  /** Cancels a job; if it runs here, it stops now rather than at the next heartbeat. */
  async cancel(id: string): Promise<Job> {
    const job = await this.queue.cancel(id);
    this.running.get(id)?.controller.abort('cancel');
    return job;
  }

  get activeJobs(): string[] {
    return [...this.running.keys()];
  }

  /** Running jobs whose engine is gone: leftovers removed, then retried or failed. */
  async recover(): Promise<Job[]> {
    const orphans = await this.queue.orphans((owner) => owner === this.owner || ownerAlive(owner));
    const recovered: Job[] = [];
    for (const job of orphans) {
      await this.options.cleanup(job);
      const owner = job.owner ?? '';
      if (job.cancelRequested) {
        recovered.push(await this.queue.cancelled(job.id, owner));
        continue;
      }
      const error: JobError = {
        code: 'JOB_INTERRUPTED',
        message: `the engine stopped while this job was running (attempt ${job.attempts} of ${job.maxAttempts}); its partial output was removed`,
      };
      const retry = job.attempts < job.maxAttempts ? Date.now() : undefined;
      recovered.push(await this.queue.fail(job.id, owner, error, retry));
    }
    return recovered;
  }

  private schedule(delay: number): void {
    if (this.stopped) return;
    clearTimeout(this.timer);
    this.timer = setTimeout(() => void this.tick(), delay);
  }

  private async tick(): Promise<void> {
    if (this.ticking || this.stopped) return;
    this.ticking = true;
    let delay = this.pollMs;
    try {
      while (!this.stopped && this.running.size < this.options.concurrency) {
        const job = await this.queue.claim(this.owner, this.leaseMs, this.options.canRun);
        if (!job) break;
        this.launch(job);
      }
      this.stalls = 0;
    } catch (err) {
      // Busy, full or damaged: report it and look again later; never take the process
      // (the desktop, `job work`) down with it.
      this.emit('stalled', asQueueError(err));
      delay = Math.max(this.pollMs, this.backoff(++this.stalls));
    } finally {
      this.ticking = false;
      this.schedule(delay);
    }
  }

  private launch(job: Job): void {
    const controller = new AbortController();
    const entry: Running = { controller, done: Promise.resolve() };
    this.running.set(job.id, entry);
    entry.done = this.run(job, entry).finally(() => {
      this.running.delete(job.id);
      this.schedule(0);
    });
  }

  private async run(job: Job, entry: Running): Promise<void> {
    const { controller } = entry;
    const beat = setInterval(() => {
      const progress = entry.progress;
      this.queue
        .heartbeat(
          job.id,
          this.owner,
          this.leaseMs,
          progress && {
            percent: progress.percent,
            fps: progress.fps,
            speed: progress.speed,
            etaSeconds: progress.etaSeconds,
            at: Date.now(),
          },
        )
        .then(({ owned, cancelRequested }) => {
          if (!owned) controller.abort('lost');
          else if (cancelRequested) controller.abort('cancel');
        })
        .catch(() => undefined);
    }, this.heartbeatMs);
    let finished: Job | undefined;
    try {
      let outcome: (() => Promise<Job | undefined>) | undefined;
      try {
        const result = await this.execute(job, {
          signal: controller.signal,
          onProgress: (progress) => {
            entry.progress = progress;
            this.emit('progress', job, progress);
          },
        });
        outcome = () => this.queue.succeed(job.id, this.owner, result);
      } catch (err) {
        const reason = controller.signal.reason as string | undefined;
        await this.options.cleanup(job).catch(() => undefined);
        outcome = this.failure(job, err, reason);
      }
      // The heartbeat keeps the lease while the outcome waits for the database.
      finished = outcome && (await this.record(job, outcome));
    } finally {
      clearInterval(beat);
    }
    if (finished?.state !== 'queued') this.waits.delete(job.id);
    if (finished) this.emit(finished.state === 'queued' ? 'retry' : 'finished', finished);
  }

  /**
   * Records a job's outcome, trying again while the database is busy, full or damaged:
   * a finished encode is not thrown away (nor the process killed) because another
   * program held the write lock. Once the worker stops, the job is left running under
   * this dead owner, and the next start recovers it.
   */
  private async record(job: Job, write: () => Promise<Job | undefined>): Promise<Job | undefined> {
    for (let attempt = 1; ; attempt++) {
      try {
        return await write();
      } catch (err) {
        // The job moved on (cancelled for good elsewhere): nothing more to record.
        if (isKeepsakeError(err, 'JOB_FINISHED')) return undefined;
        const error = asQueueError(err);
        this.emit('stalled', error, job);
        // Only the database's own trouble is waited out; anything else (a bug, the job's
        // row gone) would hold the job and its slot forever. It is reported and left
        // running under this owner; the next start recovers it, as after a crash.
        if (!DATABASE_TROUBLE.has(error.code)) return undefined;
        if (this.stopped) return undefined;
        await this.pause(this.backoff(attempt));
      }
    }
  }

  /** Waits `ms`, or less if the worker stops meanwhile (stop must not wait a backoff out). */
  private pause(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const done = () => {
        clearTimeout(timer);
        this.wakers.delete(done);
        resolve();
      };
      const timer = setTimeout(done, ms);
      this.wakers.add(done);
    });
  }

  /** What to record for a failed attempt, or undefined when another worker owns it now. */
  private failure(
    job: Job,
    err: unknown,
    abortReason: string | undefined,
  ): (() => Promise<Job | undefined>) | undefined {
    if (abortReason === 'lost') return undefined; // another worker owns it now
    if (abortReason === 'cancel' || isKeepsakeError(err, 'JOB_CANCELLED')) {
      if (abortReason !== 'shutdown') return () => this.queue.cancelled(job.id, this.owner);
    }
    if (abortReason === 'shutdown') {
      // Stopped by us (the vault locked, the engine shutting down), not failed: it
      // starts again at the next unlock or start, with every attempt still its own.
      const reason = this.stopReason;
      return () => this.queue.interrupted(job.id, this.owner, reason);
    }
    this.emit('attemptFailed', job, err);
    const error = toJobError(err);
    const waiting = WAITING.has(error.code);
    const waits = waiting ? (this.waits.get(job.id) ?? 0) + 1 : 0;
    if (waiting) this.waits.set(job.id, waits);
    else this.waits.delete(job.id);
    const retry =
      waiting || (isTransient(error) && job.attempts < job.maxAttempts)
        ? Date.now() + this.backoff(waiting ? waits : job.attempts)
        : undefined;
    return () => this.queue.fail(job.id, this.owner, error, retry, { countAttempt: !waiting });
  }

  private backoff(attempts: number): number {
    return backoff(attempts, {
      baseMs: this.options.retryBaseMs ?? 2_000,
      maxMs: this.options.retryMaxMs ?? 60_000,
    });
  }
}

/**
 * What the database says when it is busy, full or unusable for now, and the BullMQ
 * queue's Redis being away (bullmq-queue.ts): worth waiting out.
 */
const DATABASE_TROUBLE: ReadonlySet<ErrorCode> = new Set([
  'DATABASE_BUSY',
  'DATABASE_UNAVAILABLE',
  'DATABASE_CORRUPT',
  'DISK_FULL',
  'QUEUE_UNAVAILABLE',
]);

/** An error from reading or writing the queue, as a registry error. */
function asQueueError(err: unknown): KeepsakeError {
  if (err instanceof KeepsakeError) return err;
  return (
    fromSqliteError(err) ??
    new KeepsakeError('INTERNAL', err instanceof Error ? err.message : String(err), { cause: err })
  );
}
