// FFprobe over the loopback source: which container the input is, its streams, and the
// MediaInfo the presets need. Only real media containers are accepted. Playlists (HLS,
// DASH), concat lists, image sequences and subtitle or text formats are refused, because
// those demuxers open further URLs or files named inside the input, which would let a
// crafted file make FFmpeg read other local data into an output.
//
// Refusal happens twice: FFprobe runs with `-format_whitelist`, so a refused demuxer never
// reads past the probe buffer, and the container it reports must be in INPUT_DEMUXERS.

import { KeepsakeError, namingFile } from '../core/errors';
import type { MediaInfo } from '../presets/preset';
import type { ToolInput } from './input-source';
import { checkPixels, decodeLimitArgs, tooLargeFromStderr } from './media-limits';
import { spawnTool } from './tool-process';

/**
 * FFprobe's `format.format_name` → the demuxer the encode forces with `-f`. Names checked
 * with `-demuxers` on the npm builds (FFmpeg N-47683, FFprobe N-66595) and Debian's 5.1.
 * Camera and camcorder containers (MP4/MOV/3GP, MTS/M2TS, AVI, VOB, DV, WMV, FLV,
 * MKV/WebM) and single still images. `image2` is left out on purpose: it reads numbered
 * file sequences, which is the kind of side door the allowlist exists to close.
 */
export const INPUT_DEMUXERS: Readonly<Record<string, string>> = {
  'mov,mp4,m4a,3gp,3g2,mj2': 'mov',
  'matroska,webm': 'matroska',
  mpegts: 'mpegts',
  avi: 'avi',
  mpeg: 'mpeg',
  dv: 'dv',
  asf: 'asf',
  flv: 'flv',
  png_pipe: 'png_pipe',
  jpeg_pipe: 'jpeg_pipe',
  webp_pipe: 'webp_pipe',
  tiff_pipe: 'tiff_pipe',
  bmp_pipe: 'bmp_pipe',
};

const IMAGE_DEMUXERS = new Set(['png_pipe', 'jpeg_pipe', 'webp_pipe', 'tiff_pipe', 'bmp_pipe']);

/**
 * For `-format_whitelist`. FFmpeg matches each entry against every alias of a demuxer's
 * name, so `mov` admits `mov,mp4,m4a,3gp,3g2,mj2`.
 */
export const FORMAT_WHITELIST: string = [...new Set(Object.values(INPUT_DEMUXERS))].join(',');

export type StreamType = 'video' | 'audio' | 'subtitle' | 'data' | 'attachment';

export interface ProbedStream {
  index: number;
  type: StreamType;
  codec: string;
  durationSeconds?: number;
  width?: number;
  height?: number;
  /** Cover art stored as a one-frame video stream (not the picture to encode). */
  attachedPic?: boolean;
}

export interface ProbeResult {
  /** The demuxer to force with `-f`. */
  demuxer: string;
  formatName: string;
  durationSeconds: number;
  streams: ProbedStream[];
  media: MediaInfo;
  isImage: boolean;
  /** Degrees clockwise the main picture is turned when shown (0, 90, 180, 270). */
  rotation: number;
  /** The main picture's display aspect (`4:3`, `16:9`), when the stream states one. */
  displayAspect?: string;
  /** Dates the container states, for the library's capture date. */
  dates: {
    /** `creation_time` of the container or the main stream (UTC). */
    creationTime?: string;
    /** `com.apple.quicktime.creationdate`: local time with its offset. */
    quicktime?: string;
  };
}

export interface ProbeOptions {
  timeoutMs?: number;
  /** Named in error messages (the user's file, not the loopback URL). */
  file?: string;
}

const DEFAULT_TIMEOUT_MS = 30_000;

export async function probeInput(
  ffprobePath: string,
  input: ToolInput,
  options: ProbeOptions = {},
): Promise<ProbeResult> {
  const { url } = input;
  const args = [
    '-protocol_whitelist',
    'http,tcp',
    '-format_whitelist',
    FORMAT_WHITELIST,
    '-print_format',
    'json',
    '-show_format',
    '-show_streams',
    // FFprobe decodes a picture to learn its format: not one too large to hold.
    ...decodeLimitArgs(),
    url,
  ];
  const run = await runProbe(ffprobePath, ['-v', 'error', ...args], input.env, options);
  // A picture over the limit is refused by the decoder; FFprobe may still exit with 0.
  const tooLarge = tooLargeFromStderr(run.stderr, options.file);
  if (tooLarge) throw tooLarge;
  if (run.failure) {
    // FFprobe 5+ reports a demuxer refused by the whitelist only as "Invalid argument", and
    // names it only at debug level. Asking again costs one process on this rare path, and
    // the whitelists still stop the demuxer before it reads past the probe buffer.
    const refusal = /not on whitelist|Invalid data found when processing input/.test(run.stderr);
    if (!refusal && !/Invalid argument\s*$/m.test(run.stderr)) {
      throw failed(run, url, options.file);
    }
    const again = await runProbe(ffprobePath, ['-v', 'debug', ...args], input.env, options);
    const format = refusedFormat(again.stderr);
    if (format !== undefined && Object.hasOwn(INPUT_DEMUXERS, format)) {
      // An accepted container that is damaged or cut short (an MP4 without its index).
      throw new KeepsakeError(
        'UNSUPPORTED_INPUT',
        `looks like ${format} but cannot be read: ${stderrLines(run.stderr, url) || 'no detail'}`,
        { file: options.file },
      );
    }
    if (refusal || /not on whitelist/.test(again.stderr)) throw refused(format, options.file);
    throw failed(run, url, options.file);
  }
  const probed = withFile(options.file, () => parseProbe(parseJson(run.stdout)));
  for (const stream of probed.streams) {
    if (stream.type === 'video') checkPixels(stream.width ?? 0, stream.height ?? 0, options.file);
  }
  return probed;
}

/** Turns FFprobe's `-print_format json -show_format -show_streams` output into a ProbeResult. */
export function parseProbe(json: unknown): ProbeResult {
  const { format, streams: rawStreams } = shape(json);
  const formatName = str(format.format_name);
  if (!formatName) throw new KeepsakeError('FFMPEG_FAILED', 'ffprobe named no container format');
  if (!Object.hasOwn(INPUT_DEMUXERS, formatName)) throw refused(formatName);
  const demuxer = INPUT_DEMUXERS[formatName]!;

  const streams = rawStreams.map(toStream);
  // The picture to encode: the first video stream that is not cover art.
  let at = streams.findIndex((s) => s.type === 'video' && !s.attachedPic);
  if (at < 0) at = streams.findIndex((s) => s.type === 'video');
  const video = streams[at];
  let width = video?.width ?? 0;
  let height = video?.height ?? 0;
  // Phones record portrait video as landscape frames plus a rotation: presets scale the
  // picture as displayed.
  const raw = rawStreams[at];
  const turned = raw ? rotation(raw) : 0;
  if (Math.abs(turned) % 180 === 90) [width, height] = [height, width];
  const dar = raw ? str(raw.display_aspect_ratio) : undefined;

  const durationSeconds =
    num(format.duration) ?? Math.max(0, ...streams.map((s) => s.durationSeconds ?? 0));
  return {
    demuxer,
    formatName,
    durationSeconds,
    streams,
    media: {
      durationSeconds,
      width,
      height,
      hasAudio: streams.some((s) => s.type === 'audio'),
    },
    isImage: IMAGE_DEMUXERS.has(demuxer),
    rotation: ((turned % 360) + 360) % 360,
    ...(dar && /^[1-9]\d*:[1-9]\d*$/.test(dar) ? { displayAspect: dar } : {}),
    dates: containerDates(format, raw),
  };
}

function containerDates(format: Json, video: Json | undefined): ProbeResult['dates'] {
  const tagsOf = (j: Json | undefined): Json => (j && isObject(j.tags) ? j.tags : {});
  const find = (tags: Json, name: string): string | undefined => {
    const key = Object.keys(tags).find((k) => k.toLowerCase() === name);
    return key === undefined ? undefined : str(tags[key]);
  };
  const creationTime =
    find(tagsOf(format), 'creation_time') ?? find(tagsOf(video), 'creation_time');
  const quicktime = find(tagsOf(format), 'com.apple.quicktime.creationdate');
  return {
    ...(creationTime !== undefined ? { creationTime } : {}),
    ...(quicktime !== undefined ? { quicktime } : {}),
  };
}

export interface ProbedOutput {
  formatName: string;
  durationSeconds: number;
  streams: ProbedStream[];
}

/**
 * Reads back an output FFmpeg wrote, to verify it: a sealed output, served decrypted on
 * loopback (the job's outputs are never plain files). Any container is allowed (the
 * output is our own). Stream durations come from the stream, then from Matroska's
 * per-stream DURATION tag, then from the container; they are what the file states (the
 * verifier measures the real ones from the packets).
 */
export async function probeOutputUrl(
  ffprobePath: string,
  input: ToolInput,
  options: ProbeOptions & { file: string },
): Promise<ProbedOutput> {
  const { url } = input;
  const run = await runProbe(
    ffprobePath,
    [
      '-v',
      'error',
      '-protocol_whitelist',
      'http,tcp',
      '-print_format',
      'json',
      '-show_format',
      '-show_streams',
      url,
    ],
    input.env,
    options,
  );
  if (run.failure) throw failed(run, url, options.file);
  return withFile(options.file, () => {
    const { format, streams: rawStreams } = shape(parseJson(run.stdout));
    const durationSeconds = num(format.duration) ?? 0;
    const streams = rawStreams.map((raw) => {
      const stream = toStream(raw);
      stream.durationSeconds ??= tagDuration(raw) ?? durationSeconds;
      return stream;
    });
    return { formatName: str(format.format_name) ?? '', durationSeconds, streams };
  });
}

/**
 * A reason to refuse when the first bytes are a playlist or list rather than media, or
 * undefined. A cheap check before FFprobe sees the input at all.
 */
export function sniffRefused(head: Buffer): string | undefined {
  let text = head.subarray(0, 512).toString('latin1');
  if (text.startsWith('\xef\xbb\xbf')) text = text.slice(3);
  text = text.trimStart().toLowerCase();
  for (const [prefix, what] of SNIFFED) {
    if (text.startsWith(prefix)) return `the input is ${what}, not media`;
  }
  return undefined;
}

const SNIFFED: [string, string][] = [
  ['#extm3u', 'an M3U/HLS playlist'],
  ['#extinf', 'an M3U playlist'],
  ['ffconcat', 'an FFmpeg concat list'],
  ["file '", 'an FFmpeg concat list'],
  ['<?xml', 'an XML document (a DASH manifest or a playlist)'],
  ['[playlist]', 'a PLS playlist'],
];

// --- running FFprobe ---

interface ProbeRun {
  stdout: string;
  stderr: string;
  /** Why the process failed, or undefined when it exited with 0. */
  failure: { code?: number | string; signal?: string; timedOut: boolean } | undefined;
}

const MAX_OUTPUT = 16 * 1024 * 1024;

function runProbe(
  ffprobePath: string,
  args: string[],
  env: Readonly<Record<string, string>>,
  options: ProbeOptions,
): Promise<ProbeRun> {
  const timeout = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  return new Promise((resolve, reject) => {
    // Only what the loopback input needs: nothing else of the engine's environment
    // (another proxy, tokens) reaches FFprobe.
    const child = spawnTool(ffprobePath, args, { env, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    let timedOut = false;
    let overflow = false;
    const timer = setTimeout(() => {
      timedOut = true;
      child.kill('SIGKILL');
    }, timeout);
    child.stdout!.setEncoding('utf8');
    child.stdout!.on('data', (text: string) => {
      stdout += text;
      if (stdout.length > MAX_OUTPUT && !overflow) {
        overflow = true;
        child.kill('SIGKILL');
      }
    });
    child.stderr!.setEncoding('utf8');
    child.stderr!.on('data', (text: string) => {
      if (stderr.length < MAX_OUTPUT) stderr += text;
    });
    child.on('error', (err: NodeJS.ErrnoException) => {
      clearTimeout(timer);
      if (err.code === 'ENOENT' || err.code === 'EACCES') {
        reject(
          new KeepsakeError('FFMPEG_NOT_FOUND', `cannot run ffprobe at ${ffprobePath}`, {
            cause: err,
          }),
        );
      } else reject(err);
    });
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      if (code === 0 && !overflow) return resolve({ stdout, stderr, failure: undefined });
      resolve({
        stdout,
        stderr,
        failure: { code: code ?? undefined, signal: signal ?? undefined, timedOut },
      });
    });
  });
}

function refusedFormat(debugStderr: string): string | undefined {
  const probed = /Format (\S+) probed with size=/.exec(debugStderr);
  if (probed) return probed[1];
  // Newer FFmpeg skips HLS without an .m3u8 name or type, and says so.
  if (/detecting m3u8\/hls/i.test(debugStderr)) return 'hls';
  return undefined;
}

function refused(format: string | undefined, file?: string): KeepsakeError {
  const accepted =
    'MP4/MOV, MKV/WebM, MPEG-TS, AVI, MPEG-PS, DV, ASF, FLV, PNG, JPEG, WebP, TIFF or BMP';
  const message = format
    ? `"${format}" inputs are refused: Keepsake reads only video and photo containers (${accepted})`
    : `the input is not a video or photo container Keepsake reads (${accepted})`;
  return new KeepsakeError('UNSUPPORTED_INPUT', message, { file });
}

/** FFMPEG_FAILED saying how FFprobe ended, in its own words. */
function failed(run: ProbeRun, target: string, file?: string): KeepsakeError {
  const { failure } = run;
  const lines = stderrLines(run.stderr, target);
  let message: string;
  if (failure?.timedOut) message = 'ffprobe timed out';
  else if (failure?.signal) message = `ffprobe crashed (${failure.signal})`;
  else message = `ffprobe failed (exit ${failure?.code ?? '?'})`;
  return new KeepsakeError('FFMPEG_FAILED', lines ? `${message}: ${lines}` : message, { file });
}

/** FFprobe's first lines, with the URL or path shortened to <input>. */
function stderrLines(stderr: string, target: string): string {
  return stderr
    .split(/\r?\n/)
    .map((line) => line.split(target).join('<input>').trim())
    .filter((line) => line !== '')
    .slice(0, 5)
    .join('; ');
}

function withFile<T>(file: string | undefined, fn: () => T): T {
  try {
    return fn();
  } catch (err) {
    throw namingFile(err, file);
  }
}

// --- reading FFprobe's JSON ---

type Json = Record<string, unknown>;

function parseJson(stdout: string): unknown {
  try {
    return JSON.parse(stdout);
  } catch (err) {
    throw new KeepsakeError('FFMPEG_FAILED', 'ffprobe printed output that is not JSON', {
      cause: err,
    });
  }
}

function shape(json: unknown): { format: Json; streams: Json[] } {
  const root = isObject(json) ? json : {};
  if (!isObject(root.format)) {
    throw new KeepsakeError('FFMPEG_FAILED', 'ffprobe printed no format section');
  }
  const streams = Array.isArray(root.streams) ? root.streams.filter(isObject) : [];
  return { format: root.format, streams };
}

const STREAM_TYPES = new Set<StreamType>(['video', 'audio', 'subtitle', 'data', 'attachment']);

function toStream(raw: Json): ProbedStream {
  const type = str(raw.codec_type) as StreamType | undefined;
  const stream: ProbedStream = {
    index: num(raw.index) ?? 0,
    type: type && STREAM_TYPES.has(type) ? type : 'data',
    codec: str(raw.codec_name) ?? 'unknown',
  };
  const duration = num(raw.duration);
  if (duration !== undefined) stream.durationSeconds = duration;
  const width = num(raw.width);
  const height = num(raw.height);
  if (width !== undefined) stream.width = width;
  if (height !== undefined) stream.height = height;
  const disposition = isObject(raw.disposition) ? raw.disposition : {};
  if (disposition.attached_pic === 1) stream.attachedPic = true;
  return stream;
}

/**
 * Degrees clockwise, from the display matrix (FFprobe 5+, which counts counterclockwise:
 * a phone's portrait video says -90) or the legacy `rotate` tag (clockwise: 90).
 */
function rotation(raw: Json): number {
  const sideData = Array.isArray(raw.side_data_list) ? raw.side_data_list.filter(isObject) : [];
  for (const entry of sideData) {
    const degrees = num(entry.rotation);
    if (degrees !== undefined) return -Math.round(degrees);
  }
  const tags = isObject(raw.tags) ? raw.tags : {};
  return Math.round(num(tags.rotate) ?? 0);
}

/** Matroska's per-stream `DURATION` tag ("00:00:02.000000000"), in seconds. */
function tagDuration(raw: Json): number | undefined {
  const tags = isObject(raw.tags) ? raw.tags : {};
  const key = Object.keys(tags).find((k) => /^duration(-\w+)?$/i.test(k));
  const match = key ? /^(\d+):(\d{2}):(\d{2}(?:\.\d+)?)$/.exec(String(tags[key])) : null;
  if (!match) return undefined;
  return Number(match[1]) * 3600 + Number(match[2]) * 60 + Number(match[3]);
}

function isObject(value: unknown): value is Json {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function str(value: unknown): string | undefined {
  return typeof value === 'string' && value !== '' ? value : undefined;
}

/** FFprobe prints most numbers as strings ("2.000000") and some as "N/A". */
function num(value: unknown): number | undefined {
  const n =
    typeof value === 'number'
      ? value
      : typeof value === 'string' && value.trim()
        ? Number(value)
        : NaN;
  return Number.isFinite(n) ? n : undefined;
}
