// Assembles the job engine the CLI, the desktop engine and the server share: the queue
// in the data directory, FFmpeg and its capabilities, the RAM scratch, and a worker.

import { availableParallelism } from 'node:os';
import { join } from 'node:path';
import { readCapabilities } from '../ffmpeg/capabilities';
import { locateFfmpeg, type FfmpegLocation } from '../ffmpeg/locate';
import { openScratch, type ScratchOptions } from '../ffmpeg/scratch';
import type { Vault } from '../vault/keyring';
import { databasePath } from './db';
import { cleanupAttempt, executeJob, type ExecuteEnv } from './execute';
import { SqliteJobQueue } from './sqlite-queue';
import { JobWorker, type WorkerOptions } from './worker';

export interface JobEngineOptions {
  dataDir: string;
  vault: Vault;
  /** Jobs at once; by default half the cores (FFmpeg itself uses several threads). */
  concurrency?: number;
  scratch?: ScratchOptions;
  ffmpeg?: FfmpegLocation;
  /** Kill and retry a job whose FFmpeg makes no progress for this long. */
  stallMs?: number;
  graceMs?: number;
  worker?: Partial<Omit<WorkerOptions, 'concurrency' | 'cleanup'>>;
}

export interface JobEngine {
  queue: SqliteJobQueue;
  worker: JobWorker;
  env: ExecuteEnv;
  /** Where jobs' encrypted outputs go: a folder per job inside. */
  outputRoot: string;
  close(): Promise<void>;
}

export function defaultConcurrency(cores = availableParallelism()): {
  jobs: number;
  threads: number;
} {
  const jobs = Math.max(1, Math.floor(cores / 2));
  return { jobs, threads: Math.max(1, Math.floor(cores / jobs)) };
}

export function jobOutputRoot(dataDir: string): string {
  return join(dataDir, 'outputs');
}

export async function openJobEngine(options: JobEngineOptions): Promise<JobEngine> {
  const ffmpeg = options.ffmpeg ?? (await locateFfmpeg());
  const [capabilities, scratch] = await Promise.all([
    readCapabilities(ffmpeg.ffmpegPath),
    openScratch(options.scratch),
  ]);
  const defaults = defaultConcurrency();
  const concurrency = options.concurrency ?? defaults.jobs;
  const env: ExecuteEnv = {
    ffmpeg,
    ...capabilities,
    scratch,
    vault: options.vault,
    threads: Math.max(1, Math.floor(availableParallelism() / concurrency)),
    stallMs: options.stallMs ?? 120_000,
    graceMs: options.graceMs,
  };
  const queue = new SqliteJobQueue(databasePath(options.dataDir));
  const worker = new JobWorker(queue, (job, control) => executeJob(job, env, control), {
    ...options.worker,
    concurrency,
    cleanup: (job) => cleanupAttempt(job, scratch),
  });
  return {
    queue,
    worker,
    env,
    outputRoot: jobOutputRoot(options.dataDir),
    async close() {
      await worker.stop();
      await queue.close();
    },
  };
}
