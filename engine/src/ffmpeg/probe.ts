// FFprobe over the loopback source: which container the input is, its streams, and the
// MediaInfo the presets need. Only real media containers are accepted. Playlists (HLS,
// DASH), concat lists, image sequences and subtitle or text formats are refused, because
// those demuxers open further URLs or files named inside the input, which would let a
// crafted file make FFmpeg read other local data into an output.
//
// Refusal happens twice: FFprobe runs with `-format_whitelist`, so a refused demuxer never
// reads past the probe buffer, and the container it reports must be in INPUT_DEMUXERS.
//
// The accepted containers are in probe-formats.ts, running FFprobe is probe-run.ts, and
// reading its JSON is probe-json.ts.

import { KeepsakeError } from '../core/errors';
import type { ToolInput } from './input-source';
import { checkPixels, decodeLimitArgs, tooLargeFromStderr } from './media-limits';
import { FORMAT_WHITELIST, INPUT_DEMUXERS, refused } from './probe-formats';
import {
  num,
  parseJson,
  parseProbe,
  shape,
  str,
  tagDuration,
  toStream,
  type ProbedStream,
  type ProbeResult,
} from './probe-json';
import {
  failed,
  refusedFormat,
  runProbe,
  stderrLines,
  withFile,
  type ProbeOptions,
} from './probe-run';

export { FORMAT_WHITELIST, INPUT_DEMUXERS, sniffRefused } from './probe-formats';
export { parseProbe, type ProbedStream, type ProbeResult } from './probe-json';
export type { ProbeOptions } from './probe-run';

export async function probeInput(
  ffprobePath: string,
  input: ToolInput,
  options: ProbeOptions = {},
): Promise<ProbeResult> {
  const { url } = input;
  const args = [
    '-protocol_whitelist',
    'http,tcp',
    ...(input.readArgs ?? []),
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

export interface ProbedOutput {
  formatName: string;
  durationSeconds: number;
  streams: ProbedStream[];
  /** The container's tags (title, date, creation_time…), as FFprobe names them. */
  tags: Record<string, string>;
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
    const tags: Record<string, string> = {};
    const raw = format.tags;
    if (raw && typeof raw === 'object' && !Array.isArray(raw)) {
      for (const [key, value] of Object.entries(raw)) {
        if (typeof value === 'string') tags[key] = value;
      }
    }
    return { formatName: str(format.format_name) ?? '', durationSeconds, streams, tags };
  });
}
