// One job on a worker of the pool, from the coordinator's ciphertext to its accepted
// outputs:
//
//   coordinator input.ksv ─ranged signed GETs─▶ <data>/jobs/<id>/input.ksv (ciphertext)
//   keys ─signed lease─▶ memory only ─▶ executeJob (probe, FFmpeg, verify, encrypt)
//   <data>/jobs/<id>/out/*.ksv ─resumable signed PUTs─▶ coordinator, which verifies them
//
// The worker never writes a key or plaintext: the input stays ciphertext on its disk and
// executeJob keeps plaintext in memory, as on the coordinator. The job's folder is
// removed however the job ends, and the keys' bytes are overwritten.

import { mkdir, open, rm, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { KeepsakeError } from '../core/errors';
import type { FfmpegLocation } from '../ffmpeg/locate';
import type { HardwareEncoder } from '../ffmpeg/hw-encoders';
import type { Progress } from '../ffmpeg/runner';
import type { Scratch } from '../ffmpeg/scratch';
import { executeJob, type JobKeys } from '../jobs/execute';
import type { Job } from '../jobs/queue';
import type { JobKeysBody } from '../net/contract';
import type { RemoteClient } from '../net/client';
import { WORKER_PATHS, type WorkerCapabilities, type WorkerJob } from '../net/worker-contract';

/** Bytes per ranged read of the input, and per output chunk sent. */
const INPUT_RANGE_BYTES = 8 * 1024 * 1024;
const OUTPUT_CHUNK_BYTES = 8 * 1024 * 1024;

export interface LeasedJobEnv {
  client: RemoteClient;
  /** The worker's data folder: jobs in flight live in `<dataDir>/jobs/<id>/`. */
  dataDir: string;
  ffmpeg: FfmpegLocation;
  capabilities: WorkerCapabilities;
  scratch: Scratch;
  /** Graphics-chip encoders that passed their test encode here (hw-detect.ts). */
  hardware?: readonly HardwareEncoder[];
  /** Sizes of the ranged reads and output chunks (tests lower them). */
  rangeBytes?: number;
  chunkBytes?: number;
}

/**
 * Runs the job `jobId`, which the queue holds for this worker: what a queue consumer calls
 * per job. Resolves once the coordinator accepted the outputs (with how many); throws
 * otherwise, for the caller to report.
 */
export type RunLeasedJob = (
  jobId: string,
  progress: (p: Progress) => void,
  signal: AbortSignal,
) => Promise<{ outputs: number }>;

/** Where the worker keeps jobs in flight (ciphertext only). */
export const jobsFolder = (dataDir: string) => join(dataDir, 'jobs');

/** The keys the lease sent, as executeJob takes them: in memory only. */
export function keysFromLease(body: JobKeysBody): JobKeys {
  const { title, date, chapters } = body.labels ?? {};
  return {
    input: { fileKey: Buffer.from(body.input, 'base64') },
    output: {
      dir: '',
      vaultId: body.output.vaultId,
      masterKeyId: body.output.keyId,
      masterKey: Buffer.from(body.output.key, 'base64'),
    },
    ...(title || date || chapters?.length
      ? {
          labels: {
            ...(title ? { title } : {}),
            ...(date ? { date } : {}),
            ...(chapters?.length ? { chapters: chapters.map((c) => ({ ...c })) } : {}),
          },
        }
      : {}),
  };
}

function wipe(keys: JobKeys | undefined): void {
  if (!keys) return;
  if ('fileKey' in keys.input) keys.input.fileKey.fill(0);
  keys.output.masterKey.fill(0);
}

/** The job's input ciphertext, read by signed ranged GETs into `dest` (resuming what is there). */
export async function fetchInput(
  env: Pick<LeasedJobEnv, 'client' | 'rangeBytes'>,
  job: WorkerJob,
  dest: string,
  signal: AbortSignal,
): Promise<void> {
  const handle = await open(dest, 'a', 0o600);
  try {
    let at = (await handle.stat()).size;
    const step = env.rangeBytes ?? INPUT_RANGE_BYTES;
    while (at < job.inputSize) {
      signal.throwIfAborted();
      const end = Math.min(at + step, job.inputSize) - 1;
      const res = await env.client.bytes('GET', WORKER_PATHS.input(job.id), {
        range: `bytes=${at}-${end}`,
      });
      if (res.status !== 206 || res.body.length !== end - at + 1) {
        throw new KeepsakeError(
          'TRUNCATED',
          `the coordinator sent a wrong range of job ${job.id}'s input`,
        );
      }
      await handle.write(res.body);
      at += res.body.length;
    }
    await handle.sync();
  } finally {
    await handle.close();
  }
}

/** Sends one output from wherever the coordinator says it stands, in signed chunks. */
export async function sendOutput(
  env: Pick<LeasedJobEnv, 'client' | 'chunkBytes'>,
  jobId: string,
  name: string,
  path: string,
  signal: AbortSignal,
): Promise<number> {
  const handle = await open(path, 'r');
  try {
    const { size } = await handle.stat();
    const state = await env.client.call<{ offset: number }>(
      'GET',
      WORKER_PATHS.output(jobId, name),
    );
    let at = state.body.offset;
    const step = env.chunkBytes ?? OUTPUT_CHUNK_BYTES;
    const buffer = Buffer.alloc(Math.min(step, Math.max(1, size)));
    while (at < size) {
      signal.throwIfAborted();
      const { bytesRead } = await handle.read(buffer, 0, Math.min(step, size - at), at);
      const res = await env.client.call<undefined>('PUT', WORKER_PATHS.output(jobId, name), {
        body: Buffer.from(buffer.subarray(0, bytesRead)),
        headers: { 'content-type': 'application/offset+octet-stream', 'upload-offset': String(at) },
      });
      at = Number(res.headers['upload-offset']);
    }
    return size;
  } finally {
    await handle.close();
  }
}

/** The `runLeasedJob` of a worker: the pool loop's, or a BullMQ processor's. */
export function leasedJobRunner(env: LeasedJobEnv): RunLeasedJob {
  return async (jobId, progress, signal) => {
    const job = (await env.client.call<WorkerJob>('GET', WORKER_PATHS.job(jobId))).body;
    const folder = join(jobsFolder(env.dataDir), job.id);
    await rm(folder, { recursive: true, force: true });
    await mkdir(folder, { recursive: true, mode: 0o700 });
    let keys: JobKeys | undefined;
    try {
      const input = join(folder, 'input.ksv');
      await fetchInput(env, job, input, signal);
      keys = keysFromLease(
        (await env.client.call<JobKeysBody>('POST', WORKER_PATHS.lease(job.id))).body,
      );
      const leased = keys;
      const spec: Job = {
        id: job.id,
        preset: job.preset,
        params: job.params,
        input: { kind: 'vault', path: input },
        outputDir: join(folder, 'out'),
        options: {
          thorough: job.thorough,
          ...(job.timeoutSeconds ? { timeoutSeconds: job.timeoutSeconds } : {}),
        },
        state: 'running',
        priority: 0,
        createdAt: Date.now(),
        attempts: job.attempt,
        maxAttempts: job.attempt,
        notBefore: 0,
        cancelRequested: false,
        notes: [],
        outputs: [],
      };
      const result = await executeJob(
        spec,
        {
          ffmpeg: env.ffmpeg,
          encoders: new Set(env.capabilities.encoders),
          muxers: new Set(env.capabilities.muxers),
          filters: new Set(env.capabilities.filters),
          scratch: env.scratch,
          threads: env.capabilities.threads,
          ...(env.hardware ? { hardware: () => Promise.resolve(env.hardware ?? []) } : {}),
          keys: () => leased,
        },
        { signal, onProgress: progress },
      );
      const outputs: { name: string; size: number }[] = [];
      for (const output of result.outputs) {
        const size = await sendOutput(env, job.id, output.name, output.path, signal);
        outputs.push({ name: output.name, size });
      }
      signal.throwIfAborted();
      await env.client.call('POST', WORKER_PATHS.finish(job.id), {
        json: { outputs, notes: result.notes },
      });
      return { outputs: outputs.length };
    } finally {
      wipe(keys);
      await rm(folder, { recursive: true, force: true });
    }
  };
}

/** Removes jobs a killed worker left (ciphertext only): the coordinator starts them afresh. */
export async function clearLeftovers(dataDir: string): Promise<void> {
  const folder = jobsFolder(dataDir);
  if (
    await stat(folder).then(
      () => true,
      () => false,
    )
  ) {
    await rm(folder, { recursive: true, force: true });
  }
}
