// The tape analysis as a job of its own kind: queued, claimed, heartbeated, cancelled and
// retried like every job, reading its encrypted input over the loopback as executeJob
// does, but with no preset and no media out. Its one output is the analysis as JSON,
// sealed in the vault (`analysis.json.ksv`) beside other jobs' outputs, and tied to the
// library file through the job's `libraryFile`; it is never written in the clear.
//
// It is not a preset because a preset's product is FFmpeg's output files, verified as
// media; this one's product is what the engine reads from FFmpeg's pipes.

import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { KeepsakeError } from '../core/errors';
import { plainByteSource, serveLoopback, vaultByteSource } from '../ffmpeg/input-source';
import { probeInput, sniffRefused } from '../ffmpeg/probe';
import type { Progress } from '../ffmpeg/runner';
import { jobScratch, wipeJobScratch } from '../ffmpeg/scratch';
import { analyseTape, type TapeAnalysis } from '../ffmpeg/tape-analysis';
import type { Vault } from '../vault/keyring';
import { VaultFile, writeVaultFile } from '../vault/vault-file';
import {
  cleanupAttempt,
  jobOutputDir,
  wallClockSeconds,
  type ExecuteEnv,
  type ExecuteResult,
} from './execute';
import type { Job, JobQueue, JobSnapshot, JobSpec } from './queue';

/** The job kind, in the place of a preset name. */
export const TAPE_ANALYSIS = 'tape-analysis';
export const ANALYSIS_OUTPUT = 'analysis.json';

export function isTapeAnalysis(job: Pick<Job, 'preset'>): boolean {
  return job.preset === TAPE_ANALYSIS;
}

/**
 * Queues an analysis of one video (a library file's vault copy, as `input`). With
 * `options.remote` it runs on that paired server like any job (remote/remote-execute.ts):
 * the server reads the uploaded ciphertext with the job's keys, held in its memory, and
 * seals the analysis with the job's output key; this engine downloads it sealed, so
 * readTapeAnalysis opens it the same way either way.
 */
export function submitTapeAnalysis(
  queue: JobQueue,
  spec: Omit<JobSpec, 'preset' | 'params'>,
): Promise<Job> {
  return queue.submit({ ...spec, preset: TAPE_ANALYSIS, params: {} });
}

export async function executeTapeAnalysis(
  job: Job,
  env: ExecuteEnv,
  control: { signal?: AbortSignal; onProgress?: (progress: Progress) => void } = {},
): Promise<ExecuteResult> {
  await cleanupAttempt(job, env.scratch);
  const keys = await env.keys(job);
  const source =
    job.input.kind === 'vault'
      ? vaultByteSource(await VaultFile.open(job.input.path, keys.input))
      : await plainByteSource(job.input.path);
  let loopback: Awaited<ReturnType<typeof serveLoopback>> | undefined;
  try {
    const head: Buffer[] = [];
    for await (const part of source.stream(0, Math.min(512, source.size)))
      head.push(part as Buffer);
    const refused = sniffRefused(Buffer.concat(head));
    if (refused) throw new KeepsakeError('UNSUPPORTED_INPUT', refused, { file: job.input.path });
    loopback = await serveLoopback(source);
    const served = loopback;
    const input = await probeInput(env.ffmpeg.ffprobePath, served, {
      file: job.input.path,
    }).catch((err: unknown) => {
      throw served.error ?? err;
    });
    if (!input.media.width || input.isImage) {
      throw new KeepsakeError(
        'UNSUPPORTED_INPUT',
        `only a video can be analysed as a tape, and this is ${input.isImage ? 'a picture' : 'a file without pictures'}`,
        { file: job.input.path },
      );
    }
    const dir = await jobScratch(env.scratch, job.id);
    const deadline = Date.now() + wallClockSeconds(job, input.media.durationSeconds) * 1000;
    let analysis: TapeAnalysis;
    try {
      analysis = await analyseTape(
        { url: served.url, protocols: 'http,tcp', format: input.demuxer, env: served.env },
        input.media,
        {
          ffmpegPath: env.ffmpeg.ffmpegPath,
          cwd: dir,
          threads: job.options.threads ?? env.threads,
          timeoutMs: Math.max(1, deadline - Date.now()),
          stallMs: env.stallMs,
          graceMs: env.graceMs,
          signal: control.signal,
          onProgress: (p) => control.onProgress?.({ ...p, percent: Math.min(99.9, p.percent) }),
        },
      );
    } catch (err) {
      throw served.error ?? err;
    }
    if (served.error) throw served.error;
    const final = jobOutputDir(job);
    await mkdir(final, { recursive: true, mode: 0o700 });
    const path = join(final, `${ANALYSIS_OUTPUT}.ksv`);
    const body = Buffer.from(JSON.stringify(analysis));
    const sealed = await writeVaultFile(Readable.from([body]), path, keys.output, {
      name: ANALYSIS_OUTPUT,
      size: body.length,
      mtimeMs: Date.now(),
      mediaType: 'application/json',
    });
    const notes = [
      `${analysis.cuts.length} proposed cuts, ${analysis.fieldOrder} fields`,
      ...(analysis.undecodable.length
        ? [`${analysis.undecodable.length} stretches could not be decoded`]
        : []),
    ];
    return { outputs: [{ name: ANALYSIS_OUTPUT, path, size: sealed.storedSize }], notes };
  } finally {
    await loopback?.close();
    await source.close();
    await wipeJobScratch(env.scratch, job.id);
  }
}

/** The analysis a finished job sealed, decrypted in memory. */
export async function readTapeAnalysis(job: JobSnapshot, vault: Vault): Promise<TapeAnalysis> {
  const output = job.outputs.find((o) => o.name === ANALYSIS_OUTPUT);
  if (!isTapeAnalysis(job) || job.state !== 'succeeded' || !output) {
    throw new KeepsakeError('NOT_FOUND', 'this tape has not been analysed yet');
  }
  const file = await VaultFile.open(output.path, { vault });
  try {
    return JSON.parse((await file.read(0, file.size)).toString('utf8')) as TapeAnalysis;
  } finally {
    await file.close();
  }
}

/**
 * The newest analysis of a library file that finished, decrypted in memory; undefined
 * when none did (never analysed, or every try failed or is still running).
 */
export async function newestTapeAnalysis(
  queue: JobQueue,
  fileId: string,
  vault: Vault,
): Promise<TapeAnalysis | undefined> {
  const jobs = (await queue.jobsForFiles([fileId])).get(fileId) ?? [];
  const done = jobs.find((j) => j.preset === TAPE_ANALYSIS && j.state === 'succeeded');
  const job = done && (await queue.get(done.id));
  return job ? readTapeAnalysis(job, vault) : undefined;
}
