// What a job is, and the queue interface every caller (CLI, desktop, server) uses.
//
// The interface is asynchronous and small on purpose: the SQLite queue answers at once,
// but a distributed backend (BullMQ on Redis, say) can implement the same methods
// without any caller changing.

import type { ErrorCode } from '../core/errors';
import type { LabelKind } from '../presets/output-labels';

export type JobState = 'queued' | 'running' | 'succeeded' | 'failed' | 'cancelled';

export const FINISHED_STATES: readonly JobState[] = ['succeeded', 'failed', 'cancelled'];

export interface JobInput {
  /** A `.ksv` vault file, or a plain file that is read but never modified. */
  kind: 'vault' | 'plain';
  path: string;
}

export interface JobOptions {
  /** Decode the whole output before accepting it, not only probe it. */
  thorough?: boolean;
  /** FFmpeg's thread cap. */
  threads?: number;
  /** Wall-clock cap for one attempt, in seconds. */
  timeoutSeconds?: number;
  /** Server jobs: automated (client decrypts results) or manual (client keeps .ksv). */
  mode?: 'automated' | 'manual';
  /** Server jobs: the client id that submitted it (who may see it). */
  submittedBy?: string;
  /** Server jobs: the upload holding the input (deleted with the job). */
  upload?: string;
  /** Desktop jobs: run on this paired server instead of here. */
  remote?: string;
  /** Desktop jobs: the library file the input is the vault copy of. */
  libraryFile?: string;
  /** Desktop jobs in automated mode: decrypt the results into this folder when done. */
  deliverTo?: string;
  /** The source's file name, for naming delivered results (the input is a vault path). */
  sourceName?: string;
  /**
   * Desktop jobs: the item's title and date for the outputs' metadata, sealed with the vault
   * (job-labels.ts), never in the clear: the row is plain JSON in engine.db.
   */
  labels?: string;
}

export interface JobSpec {
  preset: string;
  params: Record<string, unknown>;
  input: JobInput;
  /** Where the encrypted outputs (`.ksv`) are written. */
  outputDir: string;
  /** Higher runs first; ties run in submission order. */
  priority?: number;
  maxAttempts?: number;
  options?: JobOptions;
}

export interface JobProgress {
  /** 0..100, from FFmpeg's out_time against the probed duration. */
  percent: number;
  fps?: number;
  /** Encoding speed as a multiple of real time. */
  speed?: number;
  etaSeconds?: number;
  /** When this was reported (ms since the epoch). */
  at: number;
}

export interface JobOutput {
  /** The name FFmpeg wrote, relative to the job's outputs (e.g. `v0/index.m3u8`). */
  name: string;
  /** The encrypted file holding it. */
  path: string;
  size: number;
  /**
   * Which of the job's labels (title, date) this output carries, as read back from it;
   * empty when it carries none. Absent for jobs finished before this was recorded.
   */
  labels?: LabelKind[];
  /**
   * A restoration's or lossy archive copy's picture scores against its source, measured
   * after the encode (mean SSIM 0..1, mean PSNR in dB, mean VMAF 0..100), when its preset
   * asks for the quality check. VMAF is null when asked for and not measured (an FFmpeg
   * without it), absent when not asked for.
   */
  quality?: { ssim: number; psnr: number; vmaf?: number | null };
}

export interface JobError {
  code: ErrorCode;
  message: string;
}

export interface Job {
  id: string;
  preset: string;
  params: Record<string, unknown>;
  input: JobInput;
  outputDir: string;
  options: JobOptions;
  state: JobState;
  priority: number;
  createdAt: number;
  startedAt?: number;
  finishedAt?: number;
  attempts: number;
  maxAttempts: number;
  /** A retry waits until this time (ms since the epoch). */
  notBefore: number;
  lastError?: JobError;
  progress?: JobProgress;
  cancelRequested: boolean;
  /** The worker running the job, while it runs. */
  owner?: string;
  leaseUntil?: number;
  /** Choices made at run time (e.g. which AV1 encoder). */
  notes: string[];
  outputs: JobOutput[];
}

/** Deeply read-only: a value shared between callers, which none may change. */
export type Frozen<T> = T extends (infer U)[]
  ? readonly Frozen<U>[]
  : T extends object
    ? { readonly [K in keyof T]: Frozen<T[K]> }
    : T;

/** A job as `get` hands it out: one frozen object per stored state, shared by callers. */
export type JobSnapshot = Frozen<Job>;

export interface JobEvent {
  at: number;
  kind: string;
  detail?: string;
}

/** A job as the library lists it beside the file it reads (JobOptions.libraryFile). */
export interface FileJob {
  id: string;
  preset: string;
  state: JobState;
}

export interface ListFilter {
  states?: JobState[];
  /** Server jobs fed by this upload. */
  upload?: string;
  limit?: number;
}

export interface JobQueue {
  submit(spec: JobSpec): Promise<Job>;
  /** Throws JOB_NOT_FOUND for an unknown id. */
  get(id: string): Promise<JobSnapshot>;
  /** Newest first. */
  list(filter?: ListFilter): Promise<Job[]>;
  /** How many jobs are in each state. */
  counts(): Promise<Record<JobState, number>>;
  events(id: string): Promise<JobEvent[]>;
  /**
   * The jobs that read each of these library files, newest first, by file (files without
   * a job are absent): what the library shows beside its files, without loading jobs.
   */
  jobsForFiles(fileIds: readonly string[]): Promise<Map<string, FileJob[]>>;
  /** The library files at least one succeeded job has read, each once. */
  encodedFiles(): Promise<string[]>;

  /**
   * The next runnable job for `owner`, now running under a lease; none while paused.
   * `canRun` skips jobs this worker cannot start yet (a server lacking a job's keys).
   */
  claim(owner: string, leaseMs: number, canRun?: (job: Job) => boolean): Promise<Job | undefined>;
  /** Renews the lease and records progress; says whether a cancel was asked for. */
  heartbeat(
    id: string,
    owner: string,
    leaseMs: number,
    progress?: JobProgress,
  ): Promise<{ owned: boolean; cancelRequested: boolean }>;
  succeed(
    id: string,
    owner: string,
    result: { outputs: JobOutput[]; notes: string[] },
  ): Promise<Job>;
  /**
   * Back to the queue at `retryAt`, or failed for good when no retry is given. A retry
   * with `countAttempt: false` gives the attempt back (the job never got to run).
   */
  fail(
    id: string,
    owner: string,
    error: JobError,
    retryAt?: number,
    options?: { countAttempt?: boolean },
  ): Promise<Job>;
  /** Records that a running job stopped because it was cancelled. */
  cancelled(id: string, owner: string): Promise<Job>;
  /**
   * A running job stopped by this engine (the vault locked, the engine shutting down), not
   * by a fault of its own: back to the queue at once, its attempt given back, its last
   * error untouched.
   */
  interrupted(id: string, owner: string, reason: string): Promise<Job>;

  /** Removes a finished job and its history (its files are the caller's to remove). */
  delete(id: string): Promise<void>;
  /** A queued job is cancelled at once; a running one is asked to stop. */
  cancel(id: string): Promise<Job>;
  pause(): Promise<void>;
  resume(): Promise<void>;
  isPaused(): Promise<boolean>;
  /** Running jobs whose worker is gone (`isAlive` says no, or the lease ran out). */
  orphans(isAlive: (owner: string) => boolean): Promise<Job[]>;
  close(): Promise<void>;
}
