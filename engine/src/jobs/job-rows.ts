// How a row of the `jobs` table (migration 1) becomes a Job: JSON columns parsed, NULLs
// made absent, paths made absolute again (job-paths.ts). The queue's reads and writes
// (sqlite-queue.ts, job-reads.ts) share it.

import type { JobPaths } from './job-paths';
import type { Job, JobError, JobOutput, JobSnapshot, JobState } from './queue';

export interface Row {
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

export const opt = <T>(value: T | null): T | undefined => (value === null ? undefined : value);

/** Paths come out absolute, from data-folder-relative storage (job-paths.ts). */
export function toJob(row: Row, paths: JobPaths): Job {
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
export function freezeJob(job: Job): JobSnapshot {
  const freeze = (value: unknown): void => {
    if (typeof value !== 'object' || value === null) return;
    Object.freeze(value);
    for (const inner of Object.values(value)) freeze(inner);
  };
  freeze(job);
  return job;
}
