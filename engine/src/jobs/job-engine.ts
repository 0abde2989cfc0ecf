// Assembles the job engine the CLI, the desktop engine and the server share: the queue
// in the data directory, FFmpeg and its capabilities, FFmpeg's scratch folder, and a worker.

import { availableParallelism } from 'node:os';
import { join } from 'node:path';
import { readConfig } from '../core/config';
import { readCapabilities } from '../ffmpeg/capabilities';
import { detectEncoders } from '../ffmpeg/hw-detect';
import { ToolCache } from '../ffmpeg/tool-cache';
import { mkdir } from 'node:fs/promises';
import { locateFfmpeg, type FfmpegLocation } from '../ffmpeg/locate';
import { openScratch, type ScratchOptions } from '../ffmpeg/scratch';
import { reapStrays, trackChildrenIn } from '../ffmpeg/strays';
import type { Vault } from '../vault/keyring';
import { databasePath, type Db } from './db';
import { KeepsakeError } from '../core/errors';
import { cleanupAttempt, executeJob, type ExecuteEnv, type JobKeys } from './execute';
import type { Job } from './queue';
import { sweepRemoteLeftovers } from './remote-leftovers';
import { SqliteJobQueue } from './sqlite-queue';
import { BullmqJobQueue, type BullmqQueueOptions } from './bullmq-queue';
import { executeTapeAnalysis, isTapeAnalysis } from './tape-job';
import { JobWorker, type ExecuteFn, type WorkerOptions } from './worker';

export interface JobEngineOptions {
  dataDir: string;
  /**
   * The caller's connection to the data directory's database, shared rather than a
   * second one opened: the queue's and the caller's memos then need one data_version
   * read per event-loop turn between them (the server's hot path), not one each.
   */
  db?: Db;
  /**
   * Whose keys jobs run with: the local engine's vault (or its unlocking, under way beside
   * FFmpeg's discovery), or a server's per-job keys held in memory.
   */
  keys:
    | { vault: Vault | Promise<Vault> }
    | { perJob: (job: Job) => JobKeys; canRun: (job: Job) => boolean };
  /** Jobs at once; by default half the cores (FFmpeg itself uses several threads). */
  concurrency?: number;
  /** Overrides the settings file's scratch choice (tests). */
  scratch?: ScratchOptions;
  ffmpeg?: FfmpegLocation;
  /** Kill and retry a job whose FFmpeg makes no progress for this long. */
  stallMs?: number;
  graceMs?: number;
  worker?: Partial<Omit<WorkerOptions, 'concurrency' | 'cleanup'>>;
  /**
   * Runs a job on a paired server (remote/remote-runner.ts). Passed in, not imported: remote
   * execution sits in a higher layer than the job engine. Without it, jobs that name a
   * server are refused.
   */
  runRemote?: RemoteRunner;
  /** The clock requests to paired servers are signed with (tests put it off). */
  remoteClock?: () => number;
  /** Size of each signed upload chunk sent to a paired server (tests use small ones). */
  remoteChunkBytes?: number;
  /**
   * Schedule jobs on BullMQ with this Redis (a server at the front of a pool) rather than
   * in SQLite alone; job records stay in SQLite either way (bullmq-queue.ts).
   */
  bullmq?: BullmqQueueOptions;
}

/** What a paired server's job needs from this engine (see remote/remote-execute.ts). */
export interface RemoteRunEnv {
  dataDir: string;
  vault: Vault;
  chunkBytes?: number;
  /** The clock requests are signed with (tests put it off; default Date.now). */
  now?: () => number;
}

export type RemoteRunner = (
  job: Job,
  env: RemoteRunEnv,
  control: Parameters<ExecuteFn>[1],
) => ReturnType<ExecuteFn>;

export interface JobEngine {
  queue: SqliteJobQueue;
  /** The local vault, when jobs run with one. */
  vault: Vault | undefined;
  worker: JobWorker;
  env: ExecuteEnv;
  /** Where jobs' encrypted outputs go: a folder per job inside. */
  outputRoot: string;
  /** How many jobs the worker runs at once (goal estimates count on it). */
  concurrency: number;
  close(): Promise<void>;
}

export function defaultConcurrency(cores = availableParallelism()): number {
  return Math.max(1, Math.floor(cores / 2));
}

export function jobOutputRoot(dataDir: string): string {
  return join(dataDir, 'outputs');
}

export async function openJobEngine(options: JobEngineOptions): Promise<JobEngine> {
  // Independent start-up work runs at once: it is paid again by every `job submit`.
  const config = await readConfig(options.dataDir);
  const tools = (async () => {
    const cache = new ToolCache(join(options.dataDir, 'cache', 'ffmpeg.json'));
    const ffmpeg =
      options.ffmpeg ??
      (await locateFfmpeg({
        ffmpegPath: config.ffmpegPath,
        ffprobePath: config.ffprobePath,
        cache,
      }));
    const capabilities = await readCapabilities(ffmpeg.ffmpegPath, cache);
    await mkdir(join(options.dataDir, 'cache'), { recursive: true, mode: 0o700 });
    await cache.save();
    return { ffmpeg, ...capabilities };
  })();
  const [{ ffmpeg, encoders, muxers, filters }, scratch, vault] = await Promise.all([
    tools,
    openScratch(options.scratch ?? { configured: config.scratch }),
    'vault' in options.keys ? options.keys.vault : undefined,
  ]);
  // FFmpeg that a killed engine left running (where it could not die with it) is killed
  // now, before this engine starts children of its own.
  const children = join(options.dataDir, 'cache', 'children');
  await reapStrays(children, scratch.root);
  await trackChildrenIn(children);
  const keys = options.keys;
  const keysFor = (job: Job): JobKeys => {
    if (vault) return { input: { vault }, output: vault };
    if ('perJob' in keys) return keys.perJob(job);
    throw new KeepsakeError('INTERNAL', 'no keys for jobs');
  };
  const concurrency = options.concurrency ?? config.concurrency ?? defaultConcurrency();
  const env: ExecuteEnv = {
    ffmpeg,
    encoders,
    muxers,
    filters,
    // Tried at the first job that may use a graphics chip, then kept (hw-detect.ts).
    hardware: async () => (await detectEncoders(ffmpeg.ffmpegPath, { listed: encoders })).hardware,
    scratch,
    keys: keysFor,
    // x264 and x265 default to 1.5 threads per core (one thread often waits on another);
    // the cap keeps that share per job, so concurrent jobs split the machine fairly.
    threads: Math.max(1, Math.round((availableParallelism() * 1.5) / Math.max(1, concurrency))),
    stallMs: options.stallMs ?? (config.stallSeconds ?? 120) * 1000,
    graceMs: options.graceMs,
  };
  const db = options.db ?? databasePath(options.dataDir);
  const queue = options.bullmq
    ? await BullmqJobQueue.open(db, {
        retryBaseMs: options.worker?.retryBaseMs,
        ...options.bullmq,
      })
    : new SqliteJobQueue(db);
  // What remote jobs kept for a resume that will not come (cancelled while waiting for
  // their server, deleted, or ended by a crash) goes before the worker starts.
  if ('vault' in options.keys) await sweepRemoteLeftovers(jobOutputRoot(options.dataDir), queue);
  // A job names a paired server to run there; the vault's keys stay on this machine.
  const execute: ExecuteFn = (job, control) => {
    if (!job.options.remote) {
      return isTapeAnalysis(job)
        ? executeTapeAnalysis(job, env, control)
        : executeJob(job, env, control);
    }
    if (!vault) {
      throw new KeepsakeError(
        'FEATURE_UNAVAILABLE',
        'a server does not forward jobs to other servers',
      );
    }
    if (!options.runRemote) {
      throw new KeepsakeError('FEATURE_UNAVAILABLE', 'this engine does not run jobs on servers');
    }
    return options.runRemote(
      job,
      {
        dataDir: options.dataDir,
        vault,
        chunkBytes:
          options.remoteChunkBytes ??
          (config.uploadChunkMiB ? config.uploadChunkMiB * 1024 * 1024 : undefined),
        now: options.remoteClock,
      },
      control,
    );
  };
  const worker = new JobWorker(queue, execute, {
    ...options.worker,
    concurrency,
    cleanup: (job) => cleanupAttempt(job, scratch),
    canRun: 'canRun' in keys ? keys.canRun : undefined,
  });
  return {
    queue,
    vault,
    worker,
    env,
    outputRoot: jobOutputRoot(options.dataDir),
    concurrency,
    async close() {
      await worker.stop();
      await queue.close();
    },
  };
}
