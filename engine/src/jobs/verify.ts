// Output verification: nothing is reported succeeded that was not checked. Every output
// is probed; the streams the input had are present; each stream lasts as long as the
// input's (stream durations, not only the container's); playlists are complete; and in
// thorough mode the whole output is decoded.

import { execFile } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { dirname, extname, join } from 'node:path';
import { KeepsakeError } from '../errors';
import { probeOutput, type ProbeResult, type ProbedStream } from '../ffmpeg/probe';

export interface VerifyTools {
  ffmpegPath: string;
  ffprobePath: string;
}

const IMAGE_EXTENSIONS = new Set(['.jpg', '.jpeg', '.png', '.webp', '.avif']);

/** Allowed difference between an output stream's duration and the input's. */
export function durationTolerance(seconds: number): number {
  return Math.max(0.5, seconds * 0.02);
}

function fail(name: string, why: string): never {
  throw new KeepsakeError('OUTPUT_CHECK_FAILED', `${name}: ${why}`);
}

/** The input's duration for streams of one kind: its longest such stream, else the file's. */
function inputDuration(input: ProbeResult, type: 'video' | 'audio'): number {
  const own = input.streams
    .filter((s) => s.type === type && s.durationSeconds !== undefined)
    .map((s) => s.durationSeconds!);
  return own.length ? Math.max(...own) : input.durationSeconds;
}

function checkStreams(name: string, streams: ProbedStream[], input: ProbeResult): void {
  const wanted: ('video' | 'audio')[] = ['video'];
  if (input.media.hasAudio) wanted.push('audio');
  for (const type of wanted) {
    const found = streams.filter((s) => s.type === type);
    if (found.length === 0) fail(name, `has no ${type} stream, but the input has one`);
    const expected = inputDuration(input, type);
    for (const stream of found) {
      const actual = stream.durationSeconds;
      if (actual === undefined) fail(name, `${type} stream ${stream.index} has no duration`);
      if (Math.abs(actual - expected) > durationTolerance(expected)) {
        fail(
          name,
          `${type} stream ${stream.index} lasts ${actual.toFixed(2)} s, the input ${expected.toFixed(2)} s`,
        );
      }
    }
  }
}

/**
 * A media playlist whose segments are already sealed: its entries must add up to the
 * input's duration, and its first segment must carry the streams the input has.
 */
function checkSealedPlaylist(
  name: string,
  text: string,
  firstSegment: ProbedStream[],
  input: ProbeResult,
): void {
  const total = [...text.matchAll(/^#EXTINF:([\d.]+)/gm)].reduce((n, m) => n + Number(m[1]), 0);
  const expected = inputDuration(input, 'video');
  if (Math.abs(total - expected) > durationTolerance(expected)) {
    fail(name, `its segments last ${total.toFixed(2)} s, the input ${expected.toFixed(2)} s`);
  }
  const wanted: ('video' | 'audio')[] = input.media.hasAudio ? ['video', 'audio'] : ['video'];
  for (const type of wanted) {
    if (!firstSegment.some((s) => s.type === type)) {
      fail(name, `its segments have no ${type} stream, but the input has one`);
    }
  }
}

/** A master playlist names every variant with RESOLUTION and CODECS, and each exists. */
async function checkMasterPlaylist(name: string, path: string, outputs: string[]): Promise<void> {
  const lines = (await readFile(path, 'utf8')).split(/\r?\n/);
  const variants = lines.flatMap((line, i) =>
    line.startsWith('#EXT-X-STREAM-INF:') ? [{ tag: line, uri: lines[i + 1] ?? '' }] : [],
  );
  if (variants.length === 0) fail(name, 'the master playlist lists no variants');
  for (const { tag, uri } of variants) {
    if (!/RESOLUTION=\d+x\d+/.test(tag) || !/CODECS="[^"]+"/.test(tag)) {
      fail(name, `variant ${uri} lacks RESOLUTION or CODECS`);
    }
    const variant = join(dirname(name), uri);
    if (!outputs.includes(variant)) fail(name, `variant ${uri} was not produced`);
  }
}

export async function decodeAll(tools: VerifyTools, path: string, name: string): Promise<void> {
  await new Promise<void>((resolve, reject) => {
    execFile(
      tools.ffmpegPath,
      [
        '-v',
        'error',
        '-xerror',
        '-protocol_whitelist',
        'file',
        '-i',
        path,
        '-map',
        '0',
        '-f',
        'null',
        '-',
      ],
      { env: { LC_ALL: 'C' }, timeout: 30 * 60_000, maxBuffer: 1 << 20 },
      (err, _out, stderr) => {
        if (err || stderr.trim()) {
          reject(
            new KeepsakeError(
              'OUTPUT_CHECK_FAILED',
              `${name}: does not decode cleanly: ${(stderr.trim() || String(err)).split('\n')[0]}`,
            ),
          );
        } else resolve();
      },
    );
  });
}

/**
 * Checks the outputs a step promised (names relative to `dir`) against the probed input.
 * Throws OUTPUT_CHECK_FAILED naming the output and the reason.
 */
export async function verifyOutputs(
  tools: VerifyTools,
  dir: string,
  outputs: string[],
  input: ProbeResult,
  options: {
    thorough?: boolean;
    /**
     * Streams of each media playlist's first segment, when the segments were sealed while
     * FFmpeg ran (segment-sealer.ts): the playlist is then checked from its own entries.
     */
    firstSegmentStreams?: ReadonlyMap<string, ProbedStream[]>;
  } = {},
): Promise<void> {
  for (const name of outputs) {
    const path = join(dir, name);
    const extension = extname(name).toLowerCase();
    if (extension === '.m3u8') {
      const text = await readFile(path, 'utf8').catch(() => fail(name, 'was not produced'));
      if (!text.startsWith('#EXTM3U')) fail(name, 'is not a playlist');
      if (text.includes('#EXT-X-STREAM-INF')) {
        await checkMasterPlaylist(name, path, outputs);
        continue;
      }
      if (!text.includes('#EXT-X-ENDLIST')) fail(name, 'the playlist is not complete');
      const first = options.firstSegmentStreams?.get(name);
      if (options.firstSegmentStreams) {
        if (!first) fail(name, 'lists no segments');
        checkSealedPlaylist(name, text, first, input);
        continue;
      }
    }
    const probed = await probeOutput(tools.ffprobePath, path).catch((err: unknown) =>
      fail(name, `cannot be read back (${err instanceof Error ? err.message : String(err)})`),
    );
    if (IMAGE_EXTENSIONS.has(extension)) {
      const picture = probed.streams.find((s) => s.type === 'video');
      if (!picture?.width || !picture.height) fail(name, 'holds no picture');
    } else {
      checkStreams(name, probed.streams, input);
    }
    if (options.thorough) await decodeAll(tools, path, name);
  }
}
