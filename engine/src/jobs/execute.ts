// One attempt of one job, from encrypted input to encrypted, verified output:
//
//   vault file ──decrypt──▶ loopback HTTP (Range) ──▶ FFprobe, then FFmpeg
//   FFmpeg ──HTTP PUT──▶ loopback sink ──encrypt──▶ <outputDir>/.<job id>.partial/*.ksv
//   sealed outputs ──decrypt──▶ loopback HTTP ──▶ verification
//
// Plaintext exists only in memory, on every OS: FFmpeg's outputs are encrypted as they
// arrive (ffmpeg/output-sink.ts), so no folder ever holds decrypted media. FFmpeg runs in
// a private scratch folder that holds nothing (no preset writes beside its outputs), wiped
// however the attempt ends. Outputs are staged in a hidden folder and renamed into place
// only when every one is verified, so a job's output folder is complete or absent.

import { mkdir, rename, rm } from 'node:fs/promises';
import { join, relative } from 'node:path';
import { KeepsakeError, isKeepsakeError } from '../core/errors';
import type { HardwareEncoder } from '../ffmpeg/hw-encoders';
import type { FfmpegLocation } from '../ffmpeg/locate';
import {
  plainByteSource,
  serveLoopback,
  vaultByteSource,
  type ByteSource,
} from '../ffmpeg/input-source';
import {
  SPOOL_DIR,
  serveOutputSink,
  sinkFailure,
  type OutputSink,
  type SealedOutput,
} from '../ffmpeg/output-sink';
import { probeInput, sniffRefused } from '../ffmpeg/probe';
import { runFfmpeg, type Progress } from '../ffmpeg/runner';
import { jobScratch, wipeJobScratch, type Scratch } from '../ffmpeg/scratch';
import { buildJob, getPreset } from '../presets';
import type { Preset } from '../presets/preset';
import {
  LABEL_FLAVOURS,
  ffmetadataDocument,
  type LabelKind,
  type OutputLabels,
} from '../presets/output-labels';
import type { Vault } from '../vault/keyring';
import { VaultFile, type FileKeySource } from '../vault/vault-file';
import { HardwareEncodeFailed, withSoftwareFallback } from './hw-fallback';
import { openJobLabels } from './job-labels';
import { readCarriedLabels } from './output-labels-read';
import { PHOTO_HEAD_BYTES, photoSourceDate } from './photo-source-date';
import type { AvifEncoding } from './photo-avif';
import { photoRewrite } from './photo-rewrite';
import type { Job, JobOutput } from './queue';
import { sealedReader } from './sealed-reader';
import { verifyOutputs } from './verify';
import { scoresNote, storedScores, type QualityScores } from './verify-quality';

export interface ExecuteEnv {
  ffmpeg: FfmpegLocation;
  /** Encoder and muxer names of that FFmpeg build. */
  encoders: ReadonlySet<string>;
  muxers: ReadonlySet<string>;
  /** Filter names of that build, when known (presets then offer the optional ones). */
  filters?: ReadonlySet<string>;
  /**
   * Graphics-chip encoders that passed their test encode (ffmpeg/hw-detect.ts). Asked
   * only when a job may use one: the tests take a moment, which a command that runs no
   * such job (`keepsake job submit`) should not pay.
   */
  hardware?: () => Promise<readonly HardwareEncoder[]>;
  scratch: Scratch;
  /**
   * The keys of one job: the local engine uses its unlocked vault for every job; a server
   * holds each job's keys in memory only, as its client sent them.
   */
  keys: (job: Job) => JobKeys | Promise<JobKeys>;
  /** Default FFmpeg thread cap. */
  threads?: number;
  stallMs?: number;
  graceMs?: number;
  /** Output bodies up to this size are held in memory, larger ones spooled encrypted (tests lower it). */
  sinkMemoryLimit?: number;
}

export interface JobKeys {
  /** Opens a vault input (the vault, or just that file's key). */
  input: FileKeySource;
  /** Wraps the outputs' file keys. */
  output: Vault;
  /**
   * The item's title and date, as a server's client sent them with the keys (held in
   * memory like them). Absent: those sealed in the job's options, if any (job-labels.ts).
   */
  labels?: OutputLabels;
}

export interface ExecuteResult {
  outputs: JobOutput[];
  notes: string[];
}

/**
 * FFmpeg failed of itself: not killed (cancel, stall, time limit, memory), which another
 * encoder would not put right.
 */
function chipFailed(err: unknown): boolean {
  return isKeepsakeError(err, 'FFMPEG_FAILED') && !/was killed by SIG/.test(err.message);
}

/** Whether the job's preset offers a graphics chip and the job did not turn it down. */
function mayUseChip(preset: Preset, job: Job): boolean {
  return 'encoder' in preset.params && job.params.encoder !== 'software';
}

/** The folder holding a finished job's encrypted outputs. */
export function jobOutputDir(job: Pick<Job, 'id' | 'outputDir'>): string {
  return join(job.outputDir, job.id);
}

/** Where outputs are staged until the job has verified and encrypted all of them. */
function stagingDir(job: Pick<Job, 'id' | 'outputDir'>): string {
  return join(job.outputDir, `.${job.id}.partial`);
}

/** Removes what an interrupted attempt may have left: scratch and staged outputs. */
export async function cleanupAttempt(job: Job, scratch: Scratch): Promise<void> {
  await wipeJobScratch(scratch, job.id);
  await rm(stagingDir(job), { recursive: true, force: true });
  // Only called for a job the queue does not record as succeeded: outputs renamed into
  // place just before a crash (or a lost lease) were never reported, and would block the
  // next attempt's rename.
  await rm(jobOutputDir(job), { recursive: true, force: true });
}

/**
 * The wall-clock cap of one attempt: the job's own, else generous enough for the slowest
 * preset (AV1 at its best quality runs far below real time on a small machine) while
 * still ending a job that would otherwise run for days.
 */
export function wallClockSeconds(job: Pick<Job, 'options'>, durationSeconds: number): number {
  return job.options.timeoutSeconds ?? Math.max(3600, 100 * durationSeconds);
}

async function openInput(job: Job, keys: FileKeySource): Promise<ByteSource> {
  if (job.input.kind === 'vault') {
    return vaultByteSource(await VaultFile.open(job.input.path, keys));
  }
  return plainByteSource(job.input.path);
}

/** The FFmetadata document of each kind of output, for labels that say anything. */
function labelDocuments(labels: OutputLabels | undefined): Record<string, string> | undefined {
  if (!labels) return undefined;
  const documents: Record<string, string> = {};
  for (const flavour of LABEL_FLAVOURS) {
    const text = ffmetadataDocument(labels, flavour);
    if (text !== undefined) documents[`labels/${flavour}`] = text;
  }
  return Object.keys(documents).length > 0 ? documents : undefined;
}

/** The photo's own capture date as labels, when the input has one in its EXIF. */
async function sourceDateLabels(source: ByteSource): Promise<OutputLabels | undefined> {
  const date = await photoSourceDate(await readHead(source, PHOTO_HEAD_BYTES));
  return date ? { date } : undefined;
}

async function readHead(source: ByteSource, length: number): Promise<Buffer> {
  const parts: Buffer[] = [];
  for await (const part of source.stream(0, Math.min(length, source.size))) {
    parts.push(part as Buffer);
  }
  return Buffer.concat(parts);
}

/**
 * Runs one attempt of a job. A step made by a graphics chip that fails is made again by
 * the processor, once (hw-fallback.ts).
 */
export function executeJob(
  job: Job,
  env: ExecuteEnv,
  control: { signal?: AbortSignal; onProgress?: (progress: Progress) => void } = {},
): Promise<ExecuteResult> {
  return withSoftwareFallback(job, (attempt) => executeOnce(attempt, env, control));
}

async function executeOnce(
  job: Job,
  env: ExecuteEnv,
  control: { signal?: AbortSignal; onProgress?: (progress: Progress) => void },
): Promise<ExecuteResult> {
  const preset = getPreset(job.preset);
  await cleanupAttempt(job, env.scratch);
  const keys = await env.keys(job);
  const source = await openInput(job, keys.input);
  let loopback: Awaited<ReturnType<typeof serveLoopback>> | undefined;
  let sink: OutputSink | undefined;
  try {
    const refused = sniffRefused(await readHead(source, 512));
    if (refused) {
      throw new KeepsakeError('UNSUPPORTED_INPUT', refused, { file: job.input.path });
    }
    // The item's title and date reach FFmpeg through the loopback, not its argv.
    const labels = keys.labels ?? openJobLabels(keys.output, job.options);
    const documents = labelDocuments(labels);
    loopback = await serveLoopback(source, { documents });
    const served = loopback;
    const input = await probeInput(env.ffmpeg.ffprobePath, served, {
      file: job.input.path,
    }).catch((err: unknown) => {
      // A corrupt chunk reaches FFprobe as a dropped connection; report the real cause.
      throw served.error ?? err;
    });
    if (preset.accepts === 'image' ? !input.isImage : !input.media.width || input.isImage) {
      throw new KeepsakeError(
        'UNSUPPORTED_INPUT',
        `preset ${preset.name} takes ${preset.accepts === 'image' ? 'a still image' : 'a video'}, and this is ${input.isImage ? 'an image' : `a ${input.formatName} file without video`}`,
        { file: job.input.path },
      );
    }
    // FFmpeg's working folder: it must stay empty (outputs go to the sink).
    const dir = await jobScratch(env.scratch, job.id);
    const staging = stagingDir(job);
    await mkdir(staging, { recursive: true, mode: 0o700 });
    // Outputs whose labels the engine writes itself (Step.labelled), known once built, and
    // what it writes there: the item's labels, else the photo's own capture date.
    const labelled = new Set<string>();
    let photoLabels: OutputLabels | undefined;
    /** Outputs FFmpeg writes as a PNG that the engine makes an AVIF (Step.avif). */
    const avif = new Map<string, AvifEncoding>();
    /** Per output, which labels it carries (JobOutput.labels). */
    const carried = new Map<string, LabelKind[]>();
    sink = await serveOutputSink({
      dir: staging,
      vault: keys.output,
      memoryLimit: env.sinkMemoryLimit,
      // Photos get the item's labels (or their own date) as EXIF and XMP (photo-rewrite.ts).
      finish: (name) =>
        photoRewrite(
          name,
          labelled.has(name) ? photoLabels : undefined,
          (kinds) => carried.set(name, kinds),
          avif.get(name),
        ),
    });
    const built = buildJob(job.preset, job.params, {
      input: loopback.url,
      inputProtocols: 'http,tcp',
      inputFormat: input.demuxer,
      outputBase: sink.url,
      media: input.media,
      ...(documents ? { labels: `${loopback.docsUrl}/labels` } : {}),
      ...(labels?.chapters?.length ? { labelChapters: true } : {}),
      encoders: env.encoders,
      muxers: env.muxers,
      ...(env.filters ? { filters: env.filters } : {}),
      ...(env.hardware && mayUseChip(preset, job) ? { hardware: await env.hardware() } : {}),
    });

    for (const step of built.steps) {
      for (const name of step.labelled ?? []) labelled.add(name);
      for (const [name, encoding] of Object.entries(step.avif ?? {})) avif.set(name, encoding);
    }
    if (labelled.size > 0) photoLabels = labels ?? (await sourceDateLabels(source));

    const deadline = Date.now() + wallClockSeconds(job, input.media.durationSeconds) * 1000;
    const steps = built.steps.length;
    let sealed: ReadonlyMap<string, SealedOutput> = new Map();
    const scores = new Map<string, QualityScores>();
    for (const [index, step] of built.steps.entries()) {
      try {
        await runFfmpeg(step.args, {
          ffmpegPath: env.ffmpeg.ffmpegPath,
          cwd: dir,
          env: loopback.env,
          // Progress is measured against what this step makes: a clip, or the whole input.
          durationSeconds: step.lengthSeconds ?? input.media.durationSeconds,
          threads: job.options.threads ?? env.threads,
          timeoutMs: Math.max(1, deadline - Date.now()),
          stallMs: env.stallMs,
          graceMs: env.graceMs,
          signal: control.signal,
          onProgress: (p) =>
            control.onProgress?.({
              ...p,
              percent: Math.min(99.9, ((index + p.percent / 100) / steps) * 100),
              etaSeconds: p.etaSeconds,
            }),
        });
      } catch (err) {
        // FFmpeg only saw a dropped connection; the source or the sink knows the cause.
        const cause = loopback.error ?? (sink.error ? sinkFailure(sink.error) : err);
        if (step.hardware && chipFailed(cause))
          throw new HardwareEncodeFailed(step.hardware, cause);
        throw cause;
      }
      if (loopback.error) throw loopback.error;
      // FFmpeg does not wait for the sink to seal its last writes: wait here.
      sealed = await sink.settle();
      if (sink.error) throw sinkFailure(sink.error);
      const reader = sealedReader(sealed, keys.output);
      // The checks keep the job's thread cap: a worker told "one thread" keeps to one.
      const tools = { ...env.ffmpeg, threads: job.options.threads ?? env.threads };
      const measured = await verifyOutputs(tools, reader, step.outputs, input, {
        thorough: job.options.thorough,
        checks: step.checks,
        lengthSeconds: step.lengthSeconds,
        source: {
          input: { url: loopback.url, env: loopback.env },
          demuxer: input.demuxer,
          durationSeconds: input.media.durationSeconds,
        },
      });
      for (const [name, score] of measured) {
        scores.set(name, score);
        built.notes.push(scoresNote(name, score));
      }
      const unread = step.outputs.filter((name) => !carried.has(name));
      const found = await readCarriedLabels(env.ffmpeg, reader, unread, labels);
      for (const [name, kinds] of found) carried.set(name, kinds);
    }
    await sink.close();
    await rm(join(staging, SPOOL_DIR), { recursive: true, force: true });

    const final = jobOutputDir(job);
    await rename(staging, final);
    const outputs: JobOutput[] = [...sealed.values()]
      .map((o) => ({
        name: o.name,
        path: join(final, relative(staging, o.path)),
        size: o.storedSize,
        labels: carried.get(o.name) ?? [],
        ...(scores.has(o.name) ? { quality: storedScores(scores.get(o.name)!) } : {}),
      }))
      .sort((a, b) => a.name.localeCompare(b.name));
    return { outputs, notes: built.notes };
  } catch (err) {
    // No upload may still be writing into the staging folder as it is removed.
    await sink?.close();
    await sink?.settle().catch(() => undefined);
    await rm(stagingDir(job), { recursive: true, force: true });
    throw err;
  } finally {
    await sink?.close();
    await loopback?.close();
    await source.close();
    await wipeJobScratch(env.scratch, job.id);
  }
}
