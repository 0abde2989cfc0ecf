// The job queue on BullMQ (Redis or Valkey), for a server at the front of a pool.
// (Over 400 lines: one class, each of whose state changes keeps SQLite and BullMQ in step;
// split in two, neither half would be a queue.)
//
// The split: SQLite (the parent class) stays the job's record: spec, state, attempts,
// history, outputs. That record is what the desktop reads (`GET /v1/jobs…`, SSE), so it
// keeps its exact shape, and what a restart or a lost Redis cannot take away. BullMQ does
// the scheduling: which job runs next (priority, then submission order), who holds it (a
// lock its holder renews; a job whose holder died is handed on by BullMQ's stalled-job
// check), retries with exponential backoff, rate limits, and progress events; two
// consumers racing for one job never both get it.
//
// What Redis holds: job id, preset, parameters, progress and error codes (bullmq-names.ts).
//
// Redis down: a submitted job is recorded in SQLite and handed to BullMQ when Redis
// answers again (`reconcile`, on every reconnect); outcomes that cannot be written wait
// (QUEUE_UNAVAILABLE is trouble the worker waits out, like a busy database). Redis that
// comes back empty gets every queued job again from SQLite.

import { Queue, UnrecoverableError, Worker, type Job as BullJob } from 'bullmq';
import { KeepsakeError } from '../core/errors';
import type { Db } from './db';
import type { Job, JobError, JobOutput, JobProgress, JobSpec } from './queue';
import {
  DEFAULT_LOCK_MS,
  DEFAULT_STALLED_INTERVAL_MS,
  MAX_STALLED_COUNT,
  QUEUE_NAME,
  QUEUE_PREFIX,
  progressForRedis,
  type QueueJobData,
  type QueueResult,
} from './bullmq-names';
import { describeRedis, pingClient, redisConnection, type RedisSettings } from './redis-connection';
import { SqliteJobQueue } from './sqlite-queue';

export interface BullmqQueueOptions {
  redis: RedisSettings;
  /** First retry delay; BullMQ doubles it per attempt. */
  retryBaseMs?: number;
  lockMs?: number;
  stalledIntervalMs?: number;
  /** At most `max` jobs started per `durationMs`, across the pool (BullMQ's limiter). */
  rateLimit?: { max: number; durationMs: number };
  /** A Redis command that takes longer than this counts as Redis being down. */
  commandTimeoutMs?: number;
}

/** The BullMQ counts /metrics shows, by BullMQ's own state names. */
export const BULL_STATES = ['waiting', 'prioritized', 'delayed', 'active', 'paused'] as const;

/** Higher runs first in Keepsake; lower runs first in BullMQ (1 is the top). */
export function bullPriority(priority: number): number {
  return Math.min(2_097_152, Math.max(1, 1_000_000 - Math.round(priority)));
}

/** What BullMQ is given for a job: ids and choices, nothing a file or a person is named by. */
export function queueJobData(job: Pick<Job, 'id' | 'preset' | 'params'>): QueueJobData {
  return { jobId: job.id, preset: job.preset, params: { ...job.params } };
}

export class BullmqJobQueue extends SqliteJobQueue {
  readonly bull: Queue<QueueJobData, QueueResult | void>;
  private readonly fetcher: Worker<QueueJobData, QueueResult | void>;
  /** BullMQ's handle of each job this queue's worker holds, by job id. */
  private readonly held = new Map<string, BullJob<QueueJobData>>();
  private readonly timeoutMs: number;
  private reconciling: Promise<void> | undefined;
  private closed = false;
  readonly redisUrl: string;

  private constructor(
    db: string | Db,
    private readonly options: BullmqQueueOptions,
    now?: () => number,
  ) {
    super(db, now);
    this.redisUrl = describeRedis(options.redis);
    this.timeoutMs = options.commandTimeoutMs ?? 5_000;
    const connection = redisConnection(options.redis);
    this.bull = new Queue(QUEUE_NAME, { connection, prefix: QUEUE_PREFIX });
    // A worker without a processor: jobs are fetched by claim(), run by the engine's
    // JobWorker, and finished by succeed()/fail(); BullMQ checks for stalled ones.
    this.fetcher = new Worker<QueueJobData, QueueResult | void>(QUEUE_NAME, null, {
      connection,
      prefix: QUEUE_PREFIX,
      autorun: false,
      lockDuration: options.lockMs ?? DEFAULT_LOCK_MS,
      stalledInterval: options.stalledIntervalMs ?? DEFAULT_STALLED_INTERVAL_MS,
      maxStalledCount: MAX_STALLED_COUNT,
      limiter: options.rateLimit
        ? { max: options.rateLimit.max, duration: options.rateLimit.durationMs }
        : undefined,
    });
    // Connection errors are expected while Redis is away; ioredis reconnects by itself.
    this.bull.on('error', () => undefined);
    this.fetcher.on('error', () => undefined);
    // BullMQ's stalled-job check found a job whose holder stopped renewing its lock (a
    // worker killed, cut off) and put it back in line: the record says so.
    this.fetcher.on('stalled', (jobId: string) => void this.stalled(jobId).catch(() => undefined));
    // A job whose holders died more than MAX_STALLED_COUNT times is failed by BullMQ
    // inside getNextJob() (its "deferred failure") and leaves Redis; claim() never sees
    // it, so without this its record would say "waiting" for ever.
    this.fetcher.on('failed', (job: BullJob<QueueJobData> | undefined) => {
      if (job?.id && job.deferredFailure) void this.stalledOut(job.id).catch(() => undefined);
    });
  }

  /** Opens the queue: Redis must answer (the caller checked), then SQLite's jobs are handed over. */
  static async open(
    db: string | Db,
    options: BullmqQueueOptions,
    now?: () => number,
  ): Promise<BullmqJobQueue> {
    const queue = new BullmqJobQueue(db, options, now);
    try {
      const client = await queue.bull.client;
      client.on('ready', () => void queue.reconcile().catch(() => undefined));
      await queue.reconcile();
      void queue.fetcher.startStalledCheckTimer();
      return queue;
    } catch (err) {
      await queue.close();
      throw err;
    }
  }

  /** Whether Redis answers now (for /healthz and doctor). */
  async redisReachable(): Promise<boolean> {
    try {
      await this.redis(async () => pingClient(await this.bull.client), 1_500);
      return true;
    } catch {
      return false;
    }
  }

  /** BullMQ's job counts by its states (for /metrics). */
  async bullCounts(): Promise<Record<(typeof BULL_STATES)[number], number>> {
    const counts = await this.redis(() => this.bull.getJobCounts(...BULL_STATES));
    return Object.fromEntries(BULL_STATES.map((s) => [s, counts[s] ?? 0])) as Record<
      (typeof BULL_STATES)[number],
      number
    >;
  }

  /**
   * Whether `owner` holds the job's BullMQ lock now (a job taken by `claim(owner)` is
   * locked with `owner` as its token): what the pool asks before a worker may have a
   * job's keys. Lapsed with the holder's heartbeats, whatever SQLite's record says.
   */
  async lockedBy(owner: string, jobId: string): Promise<boolean> {
    const client = await this.bull.client;
    const lock = await this.redis(() => client.get(`${this.bull.toKey(jobId)}:lock`));
    return lock === owner;
  }

  /** A job BullMQ handed back from a holder that stopped renewing its lock. */
  private async stalled(jobId: string): Promise<void> {
    const job = await this.get(jobId).catch(() => undefined);
    if (job?.state !== 'running' || !job.owner) return;
    // Taken again between BullMQ's check and this: the record is the new holder's.
    if (await this.lockedBy(job.owner, jobId)) return;
    this.held.delete(jobId);
    const holder = job.owner.startsWith('pool:') ? 'the worker' : 'the engine';
    // Not an attempt used (BullMQ counts these apart, up to MAX_STALLED_COUNT).
    await super.fail(
      jobId,
      job.owner,
      {
        code: 'JOB_INTERRUPTED',
        message: `${holder} running this job stopped answering (attempt ${job.attempts} of ${job.maxAttempts}); it starts again on whoever takes it next`,
      },
      Date.now(),
      { countAttempt: false },
    );
  }

  /** A job BullMQ failed for stalling too often: its record is failed, in words. */
  private async stalledOut(jobId: string): Promise<void> {
    const owner = 'stalled-check';
    const record = await this.get(jobId).catch(() => undefined);
    if (!record || !this.take(jobId, owner, 60_000, record.attempts)) return;
    this.held.delete(jobId);
    await super.fail(jobId, owner, {
      code: 'JOB_INTERRUPTED',
      message: `the machines running this job stopped answering ${MAX_STALLED_COUNT + 1} times; it was stopped`,
    });
  }

  /**
   * Hands BullMQ every job SQLite says is waiting (adding is idempotent: a job id BullMQ
   * already has is left as it is). Runs at open and whenever Redis comes back.
   */
  reconcile(): Promise<void> {
    this.reconciling ??= (async () => {
      try {
        const queued = await this.list({ states: ['queued'] });
        for (const job of queued) await this.enqueue(job);
      } finally {
        this.reconciling = undefined;
      }
    })();
    return this.reconciling;
  }

  private async enqueue(job: Job, delayUntil?: number): Promise<void> {
    const delay = Math.max(0, (delayUntil ?? job.notBefore) - Date.now());
    await this.redis(() =>
      this.bull.add(job.preset, queueJobData(job), {
        jobId: job.id,
        priority: bullPriority(job.priority),
        attempts: job.maxAttempts,
        backoff: { type: 'exponential', delay: this.options.retryBaseMs ?? 2_000 },
        delay: delay > 0 ? delay : undefined,
        // Finished jobs leave Redis at once: their record is SQLite's.
        removeOnComplete: true,
        removeOnFail: true,
        stackTraceLimit: 0,
      }),
    );
  }

  override async submit(spec: JobSpec): Promise<Job> {
    const job = await super.submit(spec);
    // Redis away: the job is recorded and waits; reconcile() hands it over on return.
    await this.enqueue(job).catch(() => undefined);
    return job;
  }

  override async claim(
    owner: string,
    leaseMs: number,
    canRun?: (job: Job) => boolean,
  ): Promise<Job | undefined> {
    if (this.closed || (await this.isPaused())) return undefined;
    const client = await this.bull.client;
    if (client.status !== 'ready') {
      throw new KeepsakeError('QUEUE_UNAVAILABLE', `Redis at ${this.redisUrl} does not answer`);
    }
    const skipped: BullJob<QueueJobData>[] = [];
    try {
      for (let tries = 0; tries < 20; tries++) {
        const bullJob = await this.redis(() => this.fetcher.getNextJob(owner, { block: false }));
        if (!bullJob?.id) return undefined;
        const record = await this.get(bullJob.id).catch(() => undefined);
        if (!record || (record.state !== 'queued' && record.state !== 'running')) {
          // Cancelled or deleted meanwhile: BullMQ lets it go without another attempt.
          await this.redis(() =>
            bullJob.moveToFailed(new UnrecoverableError('JOB_FINISHED'), owner, false),
          );
          continue;
        }
        if (canRun && !canRun(record as Job)) {
          skipped.push(bullJob);
          continue;
        }
        await this.redis(() => bullJob.extendLock(owner, leaseMs));
        const job = this.take(bullJob.id, owner, leaseMs, bullJob.attemptsMade + 1);
        if (!job) {
          // Cancelled or deleted between the read above and now: let BullMQ drop it at
          // once, rather than hold its lock until the stalled-job check hands it on.
          await this.redis(() =>
            bullJob.moveToFailed(new UnrecoverableError('JOB_FINISHED'), owner, false),
          ).catch(() => undefined);
          continue;
        }
        this.held.set(job.id, bullJob);
        return job;
      }
      return undefined;
    } finally {
      // Jobs this worker cannot start yet (its keys have not come) go back, untouched.
      for (const job of skipped) {
        await this.redis(() => job.moveToDelayed(Date.now() + 1_000, owner)).catch(() => undefined);
      }
    }
  }

  override async heartbeat(
    id: string,
    owner: string,
    leaseMs: number,
    progress?: JobProgress,
  ): Promise<{ owned: boolean; cancelRequested: boolean }> {
    const result = await super.heartbeat(id, owner, leaseMs, progress);
    if (!result.owned) return result;
    // After a restart of this coordinator `held` is empty; the lock's token is the owner,
    // so a worker's heartbeat renews it all the same.
    const bullJob = this.held.get(id) ?? (await this.redis(() => this.bull.getJob(id)));
    if (!bullJob) return result;
    const extended = await this.redis(() => bullJob.extendLock(owner, leaseMs));
    if (progress) await this.redis(() => bullJob.updateProgress(progressForRedis(progress)));
    if (extended === 0 && (await this.redis(() => bullJob.getState())) !== 'unknown') {
      // The lock ran out and BullMQ handed the job on: another consumer runs it now.
      return { ...result, owned: false };
    }
    return result;
  }

  override async succeed(
    id: string,
    owner: string,
    result: { outputs: JobOutput[]; notes: string[] },
  ): Promise<Job> {
    await this.release(id, (job) =>
      job.moveToCompleted({ outputs: result.outputs.length }, owner, false),
    );
    return super.succeed(id, owner, result);
  }

  override async fail(
    id: string,
    owner: string,
    error: JobError,
    retryAt?: number,
    options: { countAttempt?: boolean } = {},
  ): Promise<Job> {
    const countAttempt = options.countAttempt ?? true;
    if (retryAt !== undefined && !countAttempt) {
      await this.release(id, (job) => job.moveToDelayed(retryAt, owner));
      return super.fail(id, owner, error, retryAt, options);
    }
    if (retryAt === undefined) {
      await this.release(id, (job) =>
        job.moveToFailed(new UnrecoverableError(error.code), owner, false),
      );
      return super.fail(id, owner, error);
    }
    // A retry: BullMQ decides whether attempts remain and when the next one starts.
    const bullJob = this.held.get(id);
    let nextAt: number | undefined = retryAt;
    if (bullJob) {
      const reason = new Error(error.code);
      reason.stack = error.code;
      await this.release(id, (job) => job.moveToFailed(reason, owner, false));
      nextAt = await this.retryTime(id);
    } else {
      await this.requeue(id, retryAt);
    }
    return super.fail(id, owner, error, nextAt);
  }

  override async cancelled(id: string, owner: string): Promise<Job> {
    await this.release(id, (job) =>
      job.moveToFailed(new UnrecoverableError('JOB_CANCELLED'), owner, false),
    );
    return super.cancelled(id, owner);
  }

  override async interrupted(id: string, owner: string, reason: string): Promise<Job> {
    // Stopped by this engine: back to the queue at once, the attempt given back.
    await this.release(id, (job) => job.moveToDelayed(Date.now(), owner));
    return super.interrupted(id, owner, reason);
  }

  override async cancel(id: string): Promise<Job> {
    const job = await super.cancel(id);
    if (job.state === 'cancelled') await this.forget(id);
    return job;
  }

  override async delete(id: string): Promise<void> {
    await super.delete(id);
    await this.forget(id);
  }

  override async pause(): Promise<void> {
    await super.pause();
    await this.redis(() => this.bull.pause()).catch(() => undefined);
  }

  override async resume(): Promise<void> {
    await super.resume();
    await this.redis(() => this.bull.resume()).catch(() => undefined);
  }

  override async close(): Promise<void> {
    this.closed = true;
    // Redis away: a polite QUIT would wait for it for ever; the connections are dropped.
    const client = await this.bull.client.catch(() => undefined);
    if (client?.status !== 'ready') {
      client?.disconnect();
      (await this.fetcher.client.catch(() => undefined))?.disconnect();
    }
    // BullMQ's close (and its disconnect) can still wait on a connection that is gone.
    const closing = Promise.all([
      this.fetcher.close(true).catch(() => undefined),
      this.bull.close().catch(() => undefined),
    ]);
    const timer = new Promise((resolve) => setTimeout(resolve, 3_000).unref());
    await Promise.race([closing, timer]);
    await super.close();
  }

  /**
   * Lets go of a job this worker holds in BullMQ. A job BullMQ no longer has (Redis came
   * back empty) or holds for someone else is SQLite's to settle: its owner check decides.
   */
  private async release(
    id: string,
    move: (job: BullJob<QueueJobData>) => Promise<unknown>,
  ): Promise<void> {
    const bullJob = this.held.get(id) ?? (await this.redis(() => this.bull.getJob(id)));
    try {
      if (bullJob) await this.redis(() => move(bullJob));
    } catch (err) {
      if (err instanceof KeepsakeError) throw err; // Redis away: the worker waits it out
      // Missing lock or key, or not active: the job moved on in BullMQ; fall through.
    }
    this.held.delete(id);
  }

  /** When BullMQ will start a job's next attempt (its delayed-set score), if it will. */
  private async retryTime(id: string): Promise<number | undefined> {
    const client = await this.bull.client;
    const score = await this.redis(() => client.zscore(this.bull.toKey('delayed'), id));
    if (score !== null) return Math.floor(Number(score) / 0x1000);
    const bullJob = await this.redis(() => this.bull.getJob(id));
    return bullJob ? Date.now() : undefined; // waiting again at once, or failed for good
  }

  /** Puts a job back in BullMQ (an orphan recovered from SQLite). */
  private async requeue(id: string, at: number): Promise<void> {
    const existing = await this.redis(() => this.bull.getJob(id));
    if (existing) {
      await existing.remove().catch(() => undefined);
      if ((await this.redis(() => this.bull.getJob(id))) !== undefined) return; // still held
    }
    await this.enqueue((await this.get(id)) as Job, at);
  }

  private async forget(id: string): Promise<void> {
    this.held.delete(id);
    const bullJob = await this.redis(() => this.bull.getJob(id)).catch(() => undefined);
    await bullJob?.remove().catch(() => undefined);
  }

  /** A Redis call that fails as QUEUE_UNAVAILABLE when Redis does not answer in time. */
  private async redis<T>(call: () => Promise<T>, timeoutMs = this.timeoutMs): Promise<T> {
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_resolve, reject) => {
      timer = setTimeout(
        () =>
          reject(
            new KeepsakeError(
              'QUEUE_UNAVAILABLE',
              `Redis at ${this.redisUrl} did not answer in ${timeoutMs} ms`,
            ),
          ),
        timeoutMs,
      );
    });
    try {
      return await Promise.race([call(), timeout]);
    } finally {
      clearTimeout(timer);
    }
  }
}
