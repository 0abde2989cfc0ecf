// What a preset is: a name, a description, the scopes needed to run it, typed parameters,
// and a builder that turns validated values into FFmpeg argv arrays (never a shell line).
// The runner supplies the context: where the input comes from, which demuxer is forced,
// where the outputs go, the probed media, and what the FFmpeg build can do.
//
// Outputs go to the engine's loopback sink (ffmpeg/output-sink.ts), which encrypts them
// as they arrive: FFmpeg cannot seek back in them, so every muxer here must write in one
// pass (fragmented MP4, Matroska without an index, HLS, single images).

import { KeepsakeError } from '../core/errors';
import type { HardwareEncoder } from '../ffmpeg/hw-encoders';
import type { LabelFlavour } from './output-labels';
import type { ParamSpecs, ParamValues } from './params';

export interface MediaInfo {
  durationSeconds: number;
  width: number;
  height: number;
  hasAudio: boolean;
  /**
   * How the main picture's fields are stored, as FFprobe names it (`tt`: top field first),
   * when the stream states it. A lossless master writes it again, as the source said it.
   */
  fieldOrder?: FieldOrder;
  /** The main picture's codec, as FFprobe names it (`ffv1`, `mpeg2video`), when probed. */
  videoCodec?: string;
  /** Each sound stream's codec, as FFprobe names it (`flac`, `pcm_s16le`), when probed. */
  audioCodecs?: readonly string[];
}

export const FIELD_ORDERS = ['progressive', 'tt', 'bb', 'tb', 'bt'] as const;
export type FieldOrder = (typeof FIELD_ORDERS)[number];

export interface BuildContext {
  /** Where FFmpeg reads the input (the engine's loopback URL, a path or `pipe:0`). */
  input: string;
  /** The protocols FFmpeg may use for it: only what the engine itself feeds. */
  inputProtocols: string;
  /** The demuxer forced for the input, from the runner's allowlist. */
  inputFormat: string;
  /** Where outputs go: each is written to `<outputBase>/<name>` (the sink's URL). */
  outputBase: string;
  media: MediaInfo;
  /**
   * Where FFmpeg reads the item's title and date (output-labels.ts): an FFmetadata document
   * at `<labels>/<flavour>`, over the same protocols as the input. Absent when the job
   * carries none.
   */
  labels?: string;
  /** The labels' document holds chapters (a tape's clips): outputs take those. */
  labelChapters?: boolean;
  /** Encoder and muxer names this FFmpeg build has (`ffmpeg -encoders`, `-muxers`). */
  encoders: ReadonlySet<string>;
  muxers: ReadonlySet<string>;
  /** Filter names this build has (`ffmpeg -filters`); absent means only the common ones. */
  filters?: ReadonlySet<string>;
  /**
   * Graphics-chip encoders that passed their test encode (ffmpeg/hw-detect.ts), best
   * first; absent or empty means the processor makes every picture.
   */
  hardware?: readonly HardwareEncoder[];
}

/**
 * A check of one output against the job's source, beyond the usual ones (jobs/verify.ts):
 * - `lossless`: the output decodes to exactly the source's frames and samples;
 * - `quality`: its picture scores at least these SSIM and PSNR (and VMAF, where `vmaf`
 *   says the build has libvmaf) against the source passed through `reference` (a filter
 *   chain the preset built from its own tables, e.g. the same deinterlacer and crop), so
 *   a broken encode cannot pass as a restoration or an archive copy.
 */
export type OutputCheck = { kind: 'lossless'; output: string } | QualityCheck;

export interface QualityCheck {
  kind: 'quality';
  output: string;
  reference: string[];
  minSsim: number;
  minPsnr: number;
  /** VMAF floor (0..100), applied only where VMAF is measured. */
  minVmaf: number;
  /** Whether to measure VMAF: this FFmpeg's filter listing has libvmaf. */
  vmaf: boolean;
  /** How the output is read back from a pipe: Matroska, or MP4 written for streaming. */
  demuxer?: 'mov';
}

/** A preset's quality gate: its floors, with VMAF asked for where the build has it. */
export function qualityCheck(
  ctx: BuildContext,
  gate: Omit<QualityCheck, 'kind' | 'vmaf'>,
): QualityCheck {
  return { kind: 'quality', ...gate, vmaf: ctx.filters?.has('libvmaf') ?? false };
}

export interface Step {
  args: string[];
  /** Output files, relative to the output base. */
  outputs: string[];
  /**
   * Outputs FFmpeg writes without the item's title and date although they can hold them
   * (WebP): the engine adds them before sealing (ffmpeg/webp-metadata.ts).
   */
  labelled?: string[];
  /**
   * Outputs FFmpeg writes as a PNG for the engine to encode as AVIF before sealing, with
   * sharp's AVIF quality (FFmpeg cannot stream an AVIF into the sink: jobs/photo-avif.ts).
   */
  avif?: Record<string, { quality: number }>;
  checks?: OutputCheck[];
  /** How long the outputs last when not as long as the input: a clip of it. */
  lengthSeconds?: number;
  /**
   * The graphics chip's encoder this step uses, if any: when FFmpeg fails, the job is
   * made again by the processor, once (jobs/hw-fallback.ts).
   */
  hardware?: string;
}

export interface BuildResult {
  steps: Step[];
  /** Choices made at run time, for the job log (e.g. which AV1 encoder). */
  notes: string[];
}

export interface Preset<P extends ParamSpecs = ParamSpecs> {
  name: string;
  description: string;
  /** Scopes a credential needs to run this preset. */
  scopes: readonly string[];
  /** What the preset takes as input. */
  accepts: 'video' | 'image';
  params: P;
  build(ctx: BuildContext, values: ParamValues<P>): BuildResult;
}

export function definePreset<P extends ParamSpecs>(preset: Preset<P>): Preset<P> {
  return preset;
}

/**
 * The common head of every command: only the protocols we feed, and one forced demuxer
 * that is also the only one allowed (so no playlist or list demuxer can ever be reached).
 */
export function inputArgs(ctx: BuildContext, seekSeconds?: number): string[] {
  return [
    '-hide_banner',
    '-nostdin',
    '-protocol_whitelist',
    ctx.inputProtocols,
    '-format_whitelist',
    ctx.inputFormat,
    ...(seekSeconds !== undefined ? ['-ss', seekSeconds.toFixed(3)] : []),
    '-f',
    ctx.inputFormat,
    '-i',
    ctx.input,
  ];
}

/** What a command needs to write an output's metadata: extra inputs, and the mapping. */
export interface MetadataArgs {
  /** Inputs after the media (the item's labels as input 1), or none. */
  inputs: string[];
  /** Output options saying which tags the output gets. */
  map: string[];
}

/**
 * Families care about dates: capture time and tags are copied unless asked not to, and
 * the title and date the family gave the item (when the job carries them) are read from
 * an FFmetadata input and win over the source's own (`-map_metadata` keeps the first
 * value of a key). Nothing is copied when asked not to, not even those.
 */
export function metadataArgs(
  ctx: BuildContext,
  keep: boolean,
  flavour: LabelFlavour,
): MetadataArgs {
  if (!keep) return { inputs: [], map: ['-map_metadata', '-1'] };
  if (ctx.labels === undefined) return { inputs: [], map: ['-map_metadata', '0'] };
  return {
    inputs: [
      '-protocol_whitelist',
      ctx.inputProtocols,
      '-format_whitelist',
      'ffmetadata',
      '-f',
      'ffmetadata',
      '-i',
      `${ctx.labels}/${flavour}`,
    ],
    map: [
      '-map_metadata',
      '1',
      '-map_metadata',
      '0',
      // Chapters come from one input only: the tape's clips, when there are any.
      ...(ctx.labelChapters ? ['-map_chapters', '1'] : []),
    ],
  };
}

/**
 * The source's tags only, for outputs that cannot carry a title (HLS's MPEG-TS segments)
 * or that FFmpeg writes without any (its WebP muxer).
 */
export function sourceMetadataArgs(keep: boolean): string[] {
  return keep ? ['-map_metadata', '0'] : ['-map_metadata', '-1'];
}

export const keepMetadataParam = {
  type: 'boolean',
  default: true,
  description: 'Keep the capture date and other metadata of the source',
} as const;

export function outPath(ctx: BuildContext, name: string): string {
  return `${ctx.outputBase}/${name}`;
}

/**
 * MP4 written in one pass: the index comes first and each keyframe starts a fragment, so
 * it needs no seeking back (a classic MP4 rewrites its index at the end; `+faststart`
 * even rewrites the whole file). It still starts playing at once, as fast start would.
 */
export function streamedMp4Flags(keepMetadata: boolean): string {
  return `+frag_keyframe+empty_moov+default_base_moof${keepMetadata ? '+use_metadata_tags' : ''}`;
}

/**
 * Matroska written in one pass cannot go back to fill in its duration, so it is stated
 * up front from the probed input (verification then measures the real one from the
 * packets). Players show the length at once rather than scanning the whole file.
 */
export function streamedMatroskaArgs(ctx: BuildContext): string[] {
  const seconds = ctx.media.durationSeconds;
  return seconds > 0 ? ['-metadata', `DURATION=${seconds.toFixed(3)}`] : [];
}

/**
 * The usual shape: one FFmpeg command, the common input head (and `inputs` after it, such
 * as MetadataArgs.inputs), one output file.
 */
export function singleOutput(
  ctx: BuildContext,
  output: string,
  args: string[],
  { notes = [], inputs = [] }: { notes?: string[]; inputs?: string[] } = {},
): BuildResult {
  return {
    notes,
    steps: [
      {
        outputs: [output],
        args: [...inputArgs(ctx), ...inputs, ...args, outPath(ctx, output)],
      },
    ],
  };
}

export function requireEncoder(ctx: BuildContext, preset: string, ...names: string[]): string {
  const found = names.find((n) => ctx.encoders.has(n));
  if (!found) {
    throw new KeepsakeError(
      'FEATURE_UNAVAILABLE',
      `preset ${preset} needs one of the encoders ${names.join(', ')}, which this FFmpeg build lacks`,
    );
  }
  return found;
}

/** Audio of the source, as chosen: copied, or encoded to AAC or Opus. */
export function audioArgs(ctx: BuildContext, choice: string): string[] {
  if (!ctx.media.hasAudio) return [];
  switch (choice) {
    case 'copy':
      return ['-c:a', 'copy'];
    case 'opus':
      return ['-c:a', requireEncoder(ctx, 'audio', 'libopus'), '-b:a', '160k'];
    default:
      return ['-c:a', 'aac', '-b:a', '192k'];
  }
}
