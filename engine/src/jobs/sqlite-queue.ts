// The job queue in the engine's SQLite database. Every state change is one statement or
// one transaction, so several processes (the engine and a CLI beside it) share the queue
// safely, and a killed process leaves rows that `orphans()` finds on the next start.

import { KeepsakeError } from '../core/errors';
import { newJobId } from '../core/ids';
import { dataVersion, openDatabase, stmt, type Db } from './db';
import { JobPaths, migrateJobPaths } from './job-paths';
import {
  type Job,
  type JobError,
  type JobEvent,
  type JobOutput,
  type JobProgress,
  type JobQueue,
  type JobSnapshot,
  type JobSpec,
  type JobState,
  type ListFilter,
} from './queue';

interface Row {
  id: string;
  preset: string;
  params: string;
  options: string;
  input_kind: 'vault' | 'plain';
  input_path: string;
  output_dir: string;
  state: JobState;
  priority: number;
  created_at: number;
  started_at: number | null;
  finished_at: number | null;
  attempts: number;
  max_attempts: number;
  not_before: number;
  last_error_code: string | null;
  last_error: string | null;
  progress: number | null;
  fps: number | null;
  speed: number | null;
  eta_seconds: number | null;
  progress_at: number | null;
  cancel_requested: number;
  owner: string | null;
  lease_until: number | null;
  notes: string;
  outputs: string;
}

const opt = <T>(value: T | null): T | undefined => (value === null ? undefined : value);

/** Paths come out absolute, from data-folder-relative storage (job-paths.ts). */
function toJob(row: Row, paths: JobPaths): Job {
  return {
    id: row.id,
    preset: row.preset,
    params: JSON.parse(row.params) as Record<string, unknown>,
    options: JSON.parse(row.options) as Job['options'],
    input: { kind: row.input_kind, path: paths.fromStored(row.input_path) },
    outputDir: paths.fromStored(row.output_dir),
    state: row.state,
    priority: row.priority,
    createdAt: row.created_at,
    startedAt: opt(row.started_at),
    finishedAt: opt(row.finished_at),
    attempts: row.attempts,
    maxAttempts: row.max_attempts,
    notBefore: row.not_before,
    lastError:
      row.last_error_code === null
        ? undefined
        : { code: row.last_error_code as JobError['code'], message: row.last_error ?? '' },
    progress:
      row.progress === null
        ? undefined
        : {
            percent: row.progress,
            fps: opt(row.fps),
            speed: opt(row.speed),
            etaSeconds: opt(row.eta_seconds),
            at: row.progress_at ?? 0,
          },
    cancelRequested: row.cancel_requested === 1,
    owner: opt(row.owner),
    leaseUntil: opt(row.lease_until),
    notes: JSON.parse(row.notes) as string[],
    outputs: paths.outputsFromStored(JSON.parse(row.outputs) as JobOutput[]),
  };
}

/** Freezes a job built from JSON all the way down (it holds no cycles). */
function freezeJob(job: Job): JobSnapshot {
  const freeze = (value: unknown): void => {
    if (typeof value !== 'object' || value === null) return;
    Object.freeze(value);
    for (const inner of Object.values(value)) freeze(inner);
  };
  freeze(job);
  return job;
}

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
    const states = filter.states ?? [];
    const clauses: string[] = [];
    const args: unknown[] = [];
    if (states.length) {
      clauses.push(`state IN (${states.map(() => '?').join(', ')})`);
      args.push(...states);
    }
    if (filter.upload !== undefined) {
      clauses.push(`json_extract(options, '$.upload') = ?`);
      args.push(filter.upload);
    }
    const where = clauses.length ? `WHERE ${clauses.join(' AND ')}` : '';
    const rows = stmt(
      this.db,
      `SELECT * FROM jobs ${where} ORDER BY created_at DESC, rowid DESC LIMIT ?`,
    ).all(...args, filter.limit ?? 1000) as Row[];
    return rows.map((row) => toJob(row, this.paths));
  }

  async counts(): Promise<Record<JobState, number>> {
    const counts = { queued: 0, running: 0, succeeded: 0, failed: 0, cancelled: 0 };
    const rows = stmt(this.db, 'SELECT state, count(*) AS n FROM jobs GROUP BY state').all() as {
      state: JobState;
      n: number;
    }[];
    for (const row of rows) counts[row.state] = row.n;
    return counts;
  }

  async events(id: string): Promise<JobEvent[]> {
    this.row(id);
    const rows = stmt(
      this.db,
      'SELECT at, kind, detail FROM job_events WHERE job_id = ? ORDER BY id',
    ).all(id) as { at: number; kind: string; detail: string | null }[];
    return rows.map((r) => ({ at: r.at, kind: r.kind, detail: opt(r.detail) }));
  }

  /**
   * For a job that waits for its paired server (tries that end SERVER_UNREACHABLE, which
   * cost no attempt): when the current run of them began; undefined when it is not waiting.
   * Synchronous, as the desktop's job views are built on every stream tick.
   */
  waitingSince(id: string): number | undefined {
    const at = stmt(
      this.db,
      `SELECT min(at) FROM job_events
         WHERE job_id = @id AND kind = 'retry' AND substr(detail, 1, 19) = 'SERVER_UNREACHABLE:'
           AND id > coalesce((SELECT max(id) FROM job_events WHERE job_id = @id
             AND NOT (kind = 'started' OR (kind = 'retry'
               AND substr(detail, 1, 19) = 'SERVER_UNREACHABLE:'))), 0)`,
    )
      .pluck()
      .get({ id }) as number | null;
    return at ?? undefined;
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
    const now = this.now();
    const rows = stmt(this.db, `SELECT * FROM jobs WHERE state = 'running'`).all() as Row[];
    return rows
      .filter((r) => r.owner === null || (r.lease_until ?? 0) < now || !isAlive(r.owner))
      .map((row) => toJob(row, this.paths));
  }

  async close(): Promise<void> {
    if (this.ownsDb) this.db.close();
  }
}
