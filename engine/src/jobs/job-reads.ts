// The queue's reads that change nothing (sqlite-queue.ts delegates to them): lists,
// counts, a job's history, and what the desktop library asks of the jobs behind its files.
// Each is one statement, so it sees one consistent state of the queue.

import { stmt, type Db } from './db';
import type { JobPaths } from './job-paths';
import { opt, toJob, type Row } from './job-rows';
import type { FileJob, Job, JobEvent, JobState, ListFilter } from './queue';

/**
 * The library file a desktop job reads (JobOptions.libraryFile). Written exactly as the
 * `jobs_by_library_file` index is (migration 11): SQLite uses an index on an expression
 * only for that same expression.
 */
const LIBRARY_FILE = `json_extract(options, '$.libraryFile')`;

/** Each of some files' jobs (a JSON array of file ids), newest first. */
export const FILE_JOBS_SQL = `SELECT ${LIBRARY_FILE} AS file, id, preset, state FROM jobs
  WHERE ${LIBRARY_FILE} IN (SELECT value FROM json_each(?))
  ORDER BY created_at DESC, rowid DESC`;

/**
 * The files a succeeded job has read, each once, answered from the index alone. `+state`
 * keeps SQLite from picking `jobs_runnable` for the state instead: that would read every
 * succeeded job's row and parse its options.
 */
export const ENCODED_FILES_SQL = `SELECT DISTINCT ${LIBRARY_FILE} FROM jobs
  WHERE ${LIBRARY_FILE} IS NOT NULL AND +state = 'succeeded'`;

export function listJobs(db: Db, paths: JobPaths, filter: ListFilter = {}): Job[] {
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
    db,
    `SELECT * FROM jobs ${where} ORDER BY created_at DESC, rowid DESC LIMIT ?`,
  ).all(...args, filter.limit ?? 1000) as Row[];
  return rows.map((row) => toJob(row, paths));
}

export function countJobs(db: Db): Record<JobState, number> {
  const counts = { queued: 0, running: 0, succeeded: 0, failed: 0, cancelled: 0 };
  const rows = stmt(db, 'SELECT state, count(*) AS n FROM jobs GROUP BY state').all() as {
    state: JobState;
    n: number;
  }[];
  for (const row of rows) counts[row.state] = row.n;
  return counts;
}

/** A job's history, oldest first (the caller has checked that the job exists). */
export function jobEvents(db: Db, id: string): JobEvent[] {
  const rows = stmt(db, 'SELECT at, kind, detail FROM job_events WHERE job_id = ? ORDER BY id').all(
    id,
  ) as { at: number; kind: string; detail: string | null }[];
  return rows.map((r) => ({ at: r.at, kind: r.kind, detail: opt(r.detail) }));
}

/** When a job's current run of SERVER_UNREACHABLE retries began (SqliteJobQueue.waitingSince). */
export function waitingSince(db: Db, id: string): number | undefined {
  const at = stmt(
    db,
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

/** Running jobs whose worker is gone: none, its lease ran out, or `isAlive` says so. */
export function orphanJobs(
  db: Db,
  paths: JobPaths,
  now: number,
  isAlive: (owner: string) => boolean,
): Job[] {
  const rows = stmt(db, `SELECT * FROM jobs WHERE state = 'running'`).all() as Row[];
  return rows
    .filter((r) => r.owner === null || (r.lease_until ?? 0) < now || !isAlive(r.owner))
    .map((row) => toJob(row, paths));
}

/**
 * The jobs reading each of `fileIds`, newest first, keyed by file; files without a job are
 * absent. Only the columns a file's job list shows are read, through the index.
 */
export function jobsForFiles(db: Db, fileIds: readonly string[]): Map<string, FileJob[]> {
  const byFile = new Map<string, FileJob[]>();
  if (fileIds.length === 0) return byFile;
  const rows = stmt(db, FILE_JOBS_SQL).all(JSON.stringify(fileIds)) as (FileJob & {
    file: string;
  })[];
  for (const { file, id, preset, state } of rows) {
    let jobs = byFile.get(file);
    if (!jobs) byFile.set(file, (jobs = []));
    jobs.push({ id, preset, state });
  }
  return byFile;
}

/** The library files at least one succeeded job has read (each once). */
export function encodedFiles(db: Db): string[] {
  return stmt(db, ENCODED_FILES_SQL).pluck().all() as string[];
}
