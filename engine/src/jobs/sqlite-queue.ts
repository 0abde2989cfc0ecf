// The job queue in the engine's SQLite database. Every state change is one statement or
// one transaction, so several processes (the engine and a CLI beside it) share the queue
// safely, and a killed process leaves rows that `orphans()` finds on the next start.
// This file holds the state changes and the memoised `get`; the reads that change nothing
// are in job-reads.ts, and how a row becomes a Job in job-rows.ts.

import { KeepsakeError } from '../core/errors';
import { newJobId } from '../core/ids';
import { dataVersion, openDatabase, stmt, type Db } from './db';
import { JobPaths, migrateJobPaths } from './job-paths';
import {
  countJobs,
  encodedFiles,
  jobEvents,
  jobsForFiles,
  listJobs,
  orphanJobs,
  waitingSince,
} from './job-reads';
import { freezeJob, toJob, type Row } from './job-rows';
import type {
  FileJob,
  Job,
  JobError,
  JobEvent,
  JobOutput,
  JobProgress,
  JobQueue,
  JobSnapshot,
  JobSpec,
  JobState,
  ListFilter,
} from './queue';

export class SqliteJobQueue implements JobQueue {
  private readonly db: Db;
  /** A connection passed in belongs to the caller, who closes it. */
  private readonly ownsDb: boolean;
  private readonly memo = new Map<string, JobSnapshot>();
  private seenVersion = -1;
  private readonly paths: JobPaths;

  constructor(
    pathOrDb: string | Db,
    /** The clock, replaceable so tests can move time. */
    private readonly now: () => number = Date.now,
  ) {
    this.ownsDb = typeof pathOrDb === 'string';
    this.db = typeof pathOrDb === 'string' ? openDatabase(pathOrDb) : pathOrDb;
    this.paths = JobPaths.forDb(this.db);
    try {
      if (this.paths.root !== undefined) migrateJobPaths(this.db);
    } catch {
      // A busy or damaged database: its old absolute paths still work where they point,
      // the rewrite is tried at the next open, and the damage surfaces where rows are read.
    }
  }

  private row(id: string): Row {
    const row = stmt(this.db, 'SELECT * FROM jobs WHERE id = ?').get(id) as Row | undefined;
    if (!row) throw new KeepsakeError('JOB_NOT_FOUND', `no job "${id}"`);
    return row;
  }

  private event(id: string, kind: string, detail?: string): void {
    stmt(this.db, 'INSERT INTO job_events (job_id, at, kind, detail) VALUES (?, ?, ?, ?)').run(
      id,
      this.now(),
      kind,
      detail ?? null,
    );
  }

  async submit(spec: JobSpec): Promise<Job> {
    this.memo.clear();
    const id = newJobId();
    this.db.transaction(() => {
      stmt(
        this.db,
        `INSERT INTO jobs (id, preset, params, options, input_kind, input_path, output_dir,
                             state, priority, created_at, max_attempts)
           VALUES (?, ?, ?, ?, ?, ?, ?, 'queued', ?, ?, ?)`,
      ).run(
        id,
        spec.preset,
        JSON.stringify(spec.params),
        JSON.stringify(spec.options ?? {}),
        spec.input.kind,
        this.paths.toStored(spec.input.path),
        this.paths.toStored(spec.outputDir),
        spec.priority ?? 0,
        this.now(),
        spec.maxAttempts ?? 3,
      );
      this.event(id, 'submitted', spec.preset);
    })();
    return toJob(this.row(id), this.paths);
  }

  /**
   * Reads are served from memory until the data changes: this connection's own writes
   * clear the memo, and SQLite's data_version moves when another connection commits (the
   * CLI cancelling from another process; seen from the next event-loop turn, see
   * dataVersion). Status polling is the server's busiest path, so what it gets is one
   * frozen job per stored state rather than a fresh parse on every request.
   */
  async get(id: string): Promise<JobSnapshot> {
    const version = dataVersion(this.db);
    if (version !== this.seenVersion) {
      this.memo.clear();
      this.seenVersion = version;
    }
    let job = this.memo.get(id);
    if (!job) {
      job = freezeJob(toJob(this.row(id), this.paths));
      if (this.memo.size >= 10_000) this.memo.clear();
      this.memo.set(id, job);
    }
    return job;
  }

  async list(filter: ListFilter = {}): Promise<Job[]> {
    return listJobs(this.db, this.paths, filter);
  }

  async counts(): Promise<Record<JobState, number>> {
    return countJobs(this.db);
  }

  async events(id: string): Promise<JobEvent[]> {
    this.row(id);
    return jobEvents(this.db, id);
  }

  async jobsForFiles(fileIds: readonly string[]): Promise<Map<string, FileJob[]>> {
    return jobsForFiles(this.db, fileIds);
  }

  async encodedFiles(): Promise<string[]> {
    return encodedFiles(this.db);
  }

  /**
   * For a job that waits for its paired server (tries that end SERVER_UNREACHABLE, which
   * cost no attempt): when the current run of them began; undefined when it is not waiting.
   * Synchronous, as the desktop's job views are built on every stream tick.
   */
  waitingSince(id: string): number | undefined {
    return waitingSince(this.db, id);
  }

  async claim(
    owner: string,
    leaseMs: number,
    canRun?: (job: Job) => boolean,
  ): Promise<Job | undefined> {
    this.memo.clear();
    const claimed = this.db.transaction((): string | undefined => {
      if (this.paused()) return undefined;
      const now = this.now();
      const candidates = stmt(
        this.db,
        `SELECT * FROM jobs WHERE state = 'queued' AND not_before <= ?
           ORDER BY priority DESC, created_at, rowid LIMIT ?`,
      ).all(now, canRun ? 200 : 1) as Row[];
      const next = candidates.find((row) => !canRun || canRun(toJob(row, this.paths)));
      if (!next) return undefined;
      stmt(
        this.db,
        `UPDATE jobs SET state = 'running', owner = ?, lease_until = ?, started_at = ?,
                  attempts = attempts + 1, progress = 0, fps = NULL, speed = NULL,
                  eta_seconds = NULL, progress_at = ?
           WHERE id = ?`,
      ).run(owner, now + leaseMs, now, now, next.id);
      this.event(next.id, 'started', owner);
      return next.id;
    });
    const id = claimed.immediate();
    return id === undefined ? undefined : toJob(this.row(id), this.paths);
  }

  /**
   * Marks one job running under `owner` as its `attempts`-th attempt, when it is queued
   * or (handed on from a holder that died) running: for a scheduler outside SQLite
   * (bullmq-queue.ts) that chose the job itself. Undefined when it has finished.
   */
  protected take(id: string, owner: string, leaseMs: number, attempts: number): Job | undefined {
    this.memo.clear();
    const now = this.now();
    const taken = this.db.transaction((): boolean => {
      const changed = stmt(
        this.db,
        `UPDATE jobs SET state = 'running', owner = ?, lease_until = ?, started_at = ?,
                  attempts = ?, progress = 0, fps = NULL, speed = NULL, eta_seconds = NULL,
                  progress_at = ?
           WHERE id = ? AND state IN ('queued', 'running')`,
      ).run(owner, now + leaseMs, now, attempts, now, id).changes;
      if (changed === 1) this.event(id, 'started', owner);
      return changed === 1;
    });
    return taken.immediate() ? toJob(this.row(id), this.paths) : undefined;
  }

  async heartbeat(
    id: string,
    owner: string,
    leaseMs: number,
    progress?: JobProgress,
  ): Promise<{ owned: boolean; cancelRequested: boolean }> {
    this.memo.clear();
    const now = this.now();
    const result = progress
      ? stmt(
          this.db,
          `UPDATE jobs SET lease_until = ?, progress = ?, fps = ?, speed = ?, eta_seconds = ?,
                    progress_at = ?
             WHERE id = ? AND owner = ? AND state = 'running'`,
        ).run(
          now + leaseMs,
          progress.percent,
          progress.fps ?? null,
          progress.speed ?? null,
          progress.etaSeconds ?? null,
          progress.at,
          id,
          owner,
        )
      : stmt(
          this.db,
          `UPDATE jobs SET lease_until = ? WHERE id = ? AND owner = ? AND state = 'running'`,
        ).run(now + leaseMs, id, owner);
    const row = this.row(id);
    return { owned: result.changes === 1, cancelRequested: row.cancel_requested === 1 };
  }

  /** Ends a running attempt that `owner` holds; anything else means the job moved on. */
  private finishRunning(
    id: string,
    owner: string,
    set: string,
    args: unknown[],
    kind: string,
    detail?: string,
  ): Job {
    this.memo.clear();
    this.db.transaction(() => {
      const changed = stmt(
        this.db,
        `UPDATE jobs SET ${set}, owner = NULL, lease_until = NULL
           WHERE id = ? AND owner = ? AND state = 'running'`,
      ).run(...args, id, owner).changes;
      if (changed !== 1) {
        throw new KeepsakeError(
          'JOB_FINISHED',
          `job ${id} is no longer running under this worker (state ${this.row(id).state})`,
        );
      }
      this.event(id, kind, detail);
    })();
    return toJob(this.row(id), this.paths);
  }

  async succeed(
    id: string,
    owner: string,
    result: { outputs: JobOutput[]; notes: string[] },
  ): Promise<Job> {
    return this.finishRunning(
      id,
      owner,
      `state = 'succeeded', finished_at = ?, progress = 100, eta_seconds = 0, outputs = ?, notes = ?`,
      [
        this.now(),
        JSON.stringify(this.paths.outputsToStored(result.outputs)),
        JSON.stringify(result.notes),
      ],
      'succeeded',
    );
  }

  async fail(
    id: string,
    owner: string,
    error: JobError,
    retryAt?: number,
    { countAttempt = true }: { countAttempt?: boolean } = {},
  ): Promise<Job> {
    // A cancel asked for while this attempt was failing wins over its retry: requeued,
    // the job would wait out its backoff and start FFmpeg again only to stop at once.
    if (retryAt !== undefined && this.row(id).cancel_requested === 1) {
      return this.cancelled(id, owner);
    }
    if (retryAt !== undefined) {
      return this.finishRunning(
        id,
        owner,
        `state = 'queued', not_before = ?, last_error_code = ?, last_error = ?, progress = NULL,
         attempts = attempts - ?`,
        [retryAt, error.code, error.message, countAttempt ? 0 : 1],
        'retry',
        `${error.code}: ${error.message}`,
      );
    }
    return this.finishRunning(
      id,
      owner,
      `state = 'failed', finished_at = ?, last_error_code = ?, last_error = ?`,
      [this.now(), error.code, error.message],
      'failed',
      `${error.code}: ${error.message}`,
    );
  }

  async cancelled(id: string, owner: string): Promise<Job> {
    return this.finishRunning(
      id,
      owner,
      `state = 'cancelled', finished_at = ?, last_error_code = 'JOB_CANCELLED', last_error = ?`,
      [this.now(), 'cancelled while running'],
      'cancelled',
    );
  }

  async interrupted(id: string, owner: string, reason: string): Promise<Job> {
    // A cancel asked for meanwhile wins, as in fail().
    if (this.row(id).cancel_requested === 1) return this.cancelled(id, owner);
    return this.finishRunning(
      id,
      owner,
      `state = 'queued', not_before = ?, progress = NULL, fps = NULL, speed = NULL,
       eta_seconds = NULL, attempts = max(attempts - 1, 0)`,
      [this.now()],
      'interrupted',
      reason,
    );
  }

  async delete(id: string): Promise<void> {
    this.memo.clear();
    const row = this.row(id);
    if (row.state === 'queued' || row.state === 'running') {
      throw new KeepsakeError('USAGE', `job ${id} is ${row.state}; cancel it first`);
    }
    stmt(this.db, 'DELETE FROM jobs WHERE id = ?').run(id);
  }

  async cancel(id: string): Promise<Job> {
    this.memo.clear();
    this.db
      .transaction(() => {
        const row = this.row(id);
        if (row.state === 'queued') {
          stmt(
            this.db,
            `UPDATE jobs SET state = 'cancelled', finished_at = ?, last_error_code = 'JOB_CANCELLED',
                    last_error = 'cancelled before it started' WHERE id = ?`,
          ).run(this.now(), id);
          this.event(id, 'cancelled', 'before it started');
        } else if (row.state === 'running') {
          stmt(this.db, 'UPDATE jobs SET cancel_requested = 1 WHERE id = ?').run(id);
          this.event(id, 'cancel-requested');
        } else {
          throw new KeepsakeError('JOB_FINISHED', `job ${id} has already ${row.state}`);
        }
      })
      .immediate();
    return toJob(this.row(id), this.paths);
  }

  private paused(): boolean {
    const row = stmt(this.db, `SELECT value FROM queue_settings WHERE key = 'paused'`).get() as
      { value: string } | undefined;
    return row?.value === '1';
  }

  private setPaused(paused: boolean): void {
    this.memo.clear();
    stmt(
      this.db,
      `INSERT INTO queue_settings (key, value) VALUES ('paused', ?)
         ON CONFLICT (key) DO UPDATE SET value = excluded.value`,
    ).run(paused ? '1' : '0');
  }

  async pause(): Promise<void> {
    this.setPaused(true);
  }

  async resume(): Promise<void> {
    this.setPaused(false);
  }

  async isPaused(): Promise<boolean> {
    return this.paused();
  }

  async orphans(isAlive: (owner: string) => boolean): Promise<Job[]> {
    return orphanJobs(this.db, this.paths, this.now(), isAlive);
  }

  async close(): Promise<void> {
    if (this.ownsDb) this.db.close();
  }
}
