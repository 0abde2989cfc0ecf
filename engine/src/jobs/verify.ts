// Output verification: nothing is reported succeeded that was not checked. Every output
// is read back from its sealed (encrypted) form, decrypted on loopback as FFmpeg's input
// is: the streams the input had are present; each stream lasts as long as the input's,
// measured from its packets (an output written in one pass may state no duration, or
// one copied from the input); playlists are complete and list exactly the segments
// written; in thorough mode the whole output is decoded; and the checks a preset asks
// for against the source (verify-source.ts) hold: a lossless master decodes to the
// source's frames, a restoration or a lossy archive copy scores its SSIM, PSNR and VMAF.

import { posix } from 'node:path';
import type { Readable } from 'node:stream';
import sharp from 'sharp';
import { KeepsakeError } from '../core/errors';
import type { ToolInput } from '../ffmpeg/input-source';
import { probeOutputUrl, type ProbeResult, type ProbedStream } from '../ffmpeg/probe';
import { threadCapped } from '../ffmpeg/runner';
import { spawnTool } from '../ffmpeg/tool-process';
import type { OutputCheck } from '../presets/preset';
import { checkScores, measureQuality, type QualityScores } from './verify-quality';
import { checkLossless, type SourceInput } from './verify-source';

export interface VerifyTools {
  ffmpegPath: string;
  ffprobePath: string;
  /** The job's thread cap (a worker's), which the checks' FFmpeg runs keep too. */
  threads?: number | undefined;
}

/** How verification reads the outputs a job wrote (sealed vault files, in practice). */
export interface OutputReader {
  /** Every output written, by name (relative, `/`-separated). */
  names(): string[];
  /** A small output (a playlist) as text. */
  text(name: string): Promise<string>;
  /** Runs `use` with a loopback input (URL and environment) that serves the output's plaintext. */
  withUrl<T>(name: string, use: (input: ToolInput) => Promise<T>): Promise<T>;
  /** Runs `use` with the output's plaintext as a stream, read once from the start. */
  withStream<T>(name: string, use: (body: Readable) => Promise<T>): Promise<T>;
}

const IMAGE_EXTENSIONS = new Set(['.jpg', '.jpeg', '.png', '.webp']);
const SEGMENT = /\.(ts|m4s)$/;

/** Allowed difference between an output stream's duration and the input's. */
export function durationTolerance(seconds: number): number {
  return Math.max(0.5, seconds * 0.02);
}

function fail(name: string, why: string): never {
  throw new KeepsakeError('OUTPUT_CHECK_FAILED', `${name}: ${why}`);
}

function extensionOf(name: string): string {
  return posix.extname(name).toLowerCase();
}

/**
 * An AVIF holds an AV1 picture that decodes (only its header, unless thorough). Read by
 * libvips, which made it: FFmpeg before 6 reads no AVIF still (ffprobe 5.1 finds an AV1
 * stream of size 0x0).
 */
async function checkAvif(name: string, body: Readable, thorough: boolean): Promise<void> {
  const parts: Buffer[] = [];
  for await (const part of body) parts.push(part as Buffer);
  const avif = Buffer.concat(parts);
  try {
    const info = await sharp(avif, { failOn: 'error' }).metadata();
    if (info.format !== 'heif' || info.compression !== 'av1' || !info.width || !info.height) {
      fail(name, 'holds no AVIF picture');
    }
    if (thorough) await sharp(avif, { failOn: 'error' }).raw().toBuffer();
  } catch (err) {
    if (err instanceof KeepsakeError) throw err;
    fail(name, `cannot be read back (${err instanceof Error ? err.message : String(err)})`);
  } finally {
    avif.fill(0);
  }
}

/** The segment URIs of a media playlist (none for a master playlist). */
export function playlistSegments(text: string): string[] {
  if (text.includes('#EXT-X-STREAM-INF')) return [];
  return text
    .split(/\r?\n/)
    .map((line) => line.trim())
    .filter((line) => line !== '' && !line.startsWith('#'));
}

/** The input's duration for streams of one kind: its longest such stream, else the file's. */
function inputDuration(input: ProbeResult, type: 'video' | 'audio'): number {
  const own = input.streams
    .filter((s) => s.type === type && s.durationSeconds !== undefined)
    .map((s) => s.durationSeconds!);
  return own.length ? Math.max(...own) : input.durationSeconds;
}

function wantedTypes(input: ProbeResult): ('video' | 'audio')[] {
  return input.media.hasAudio ? ['video', 'audio'] : ['video'];
}

/**
 * Each stream's duration from its packets: from the first packet's time to the end of
 * the last. Demuxing only (no decoding), over the whole output.
 */
export function measureDurations(
  tools: VerifyTools,
  input: ToolInput,
): Promise<Map<number, number>> {
  return new Promise((resolve, reject) => {
    const child = spawnTool(
      tools.ffprobePath,
      [
        '-v',
        'error',
        '-protocol_whitelist',
        'http,tcp',
        '-show_entries',
        'packet=stream_index,pts_time,dts_time,duration_time',
        '-of',
        'csv=p=0',
        input.url,
      ],
      // Only the loopback input's own environment, as for every probe.
      { env: input.env, stdio: ['ignore', 'pipe', 'pipe'] },
    );
    const first = new Map<number, number>();
    const end = new Map<number, number>();
    let pending = '';
    let stderr = '';
    const take = (line: string) => {
      const [index, pts, dts, duration] = line.split(',');
      const stream = Number(index);
      const at = Number(pts !== 'N/A' && pts !== '' ? pts : dts);
      if (!Number.isInteger(stream) || !Number.isFinite(at)) return;
      const length = Number(duration);
      const until = at + (Number.isFinite(length) ? length : 0);
      if (!first.has(stream) || at < first.get(stream)!) first.set(stream, at);
      if (!end.has(stream) || until > end.get(stream)!) end.set(stream, until);
    };
    child.stdout!.setEncoding('utf8');
    child.stdout!.on('data', (text: string) => {
      pending += text;
      const lines = pending.split('\n');
      pending = lines.pop() ?? '';
      for (const line of lines) take(line.trim());
    });
    child.stderr!.setEncoding('utf8');
    child.stderr!.on('data', (text: string) => (stderr = (stderr + text).slice(-2048)));
    child.on('error', reject);
    child.on('close', (code) => {
      take(pending.trim());
      if (code !== 0) {
        reject(new Error(`ffprobe exited with status ${code}: ${stderr.trim().split('\n')[0]}`));
        return;
      }
      resolve(new Map([...first].map(([stream, start]) => [stream, end.get(stream)! - start])));
    });
  });
}

function checkStreams(
  name: string,
  streams: ProbedStream[],
  measured: ReadonlyMap<number, number>,
  input: ProbeResult,
  lengthSeconds: number | undefined,
): void {
  for (const type of wantedTypes(input)) {
    const found = streams.filter((s) => s.type === type);
    if (found.length === 0) fail(name, `has no ${type} stream, but the input has one`);
    const expected = lengthSeconds ?? inputDuration(input, type);
    for (const stream of found) {
      const actual = measured.get(stream.index);
      if (actual === undefined) fail(name, `${type} stream ${stream.index} has no packets`);
      if (Math.abs(actual - expected) > durationTolerance(expected)) {
        fail(
          name,
          `${type} stream ${stream.index} lasts ${actual.toFixed(2)} s, the input ${expected.toFixed(2)} s`,
        );
      }
    }
  }
}

/** A master playlist names every variant with RESOLUTION and CODECS, and each exists. */
function checkMasterPlaylist(name: string, text: string, outputs: string[]): void {
  const lines = text.split(/\r?\n/);
  const variants = lines.flatMap((line, i) =>
    line.startsWith('#EXT-X-STREAM-INF:') ? [{ tag: line, uri: lines[i + 1] ?? '' }] : [],
  );
  if (variants.length === 0) fail(name, 'the master playlist lists no variants');
  for (const { tag, uri } of variants) {
    if (!/RESOLUTION=\d+x\d+/.test(tag) || !/CODECS="[^"]+"/.test(tag)) {
      fail(name, `variant ${uri} lacks RESOLUTION or CODECS`);
    }
    const variant = posix.normalize(posix.join(posix.dirname(name), uri));
    if (!outputs.includes(variant)) fail(name, `variant ${uri} was not produced`);
  }
}

/**
 * A media playlist: complete, listing exactly the segments written beside it, lasting as
 * long as the input, its first segment carrying the input's streams; in thorough mode
 * every segment decodes.
 */
async function checkMediaPlaylist(
  tools: VerifyTools,
  reader: OutputReader,
  name: string,
  text: string,
  input: ProbeResult,
  thorough: boolean,
): Promise<void> {
  if (!text.includes('#EXT-X-ENDLIST')) fail(name, 'the playlist is not complete');
  const folder = posix.dirname(name);
  const listed = playlistSegments(text).map((uri) => posix.normalize(posix.join(folder, uri)));
  if (listed.length === 0) fail(name, 'lists no segments');
  const written = reader
    .names()
    .filter((n) => posix.dirname(n) === folder && SEGMENT.test(n))
    .sort();
  if (JSON.stringify([...listed].sort()) !== JSON.stringify(written)) {
    fail(name, `lists ${listed.length} segments, ${written.length} were written`);
  }
  const total = [...text.matchAll(/^#EXTINF:([\d.]+)/gm)].reduce((n, m) => n + Number(m[1]), 0);
  const expected = inputDuration(input, 'video');
  if (Math.abs(total - expected) > durationTolerance(expected)) {
    fail(name, `its segments last ${total.toFixed(2)} s, the input ${expected.toFixed(2)} s`);
  }
  const firstStreams = await reader.withUrl(listed[0]!, (url) =>
    probeOutputUrl(tools.ffprobePath, url, { file: listed[0]! }),
  );
  for (const type of wantedTypes(input)) {
    if (!firstStreams.streams.some((s) => s.type === type)) {
      fail(name, `its segments have no ${type} stream, but the input has one`);
    }
  }
  if (thorough) {
    for (const segment of listed) {
      await reader.withUrl(segment, (url) => decodeAll(tools, url, segment));
    }
  }
}

export async function decodeAll(tools: VerifyTools, input: ToolInput, name: string): Promise<void> {
  await new Promise<void>((resolve, reject) => {
    const child = spawnTool(
      tools.ffmpegPath,
      threadCapped(
        [
          ...['-v', 'error', '-xerror', '-nostdin', '-protocol_whitelist', 'http,tcp'],
          ...['-i', input.url, '-map', '0', '-f', 'null', '-'],
        ],
        tools.threads,
      ),
      { env: { ...input.env, LC_ALL: 'C' }, stdio: ['ignore', 'ignore', 'pipe'] },
    );
    let stderr = '';
    child.stderr!.setEncoding('utf8');
    child.stderr!.on('data', (text: string) => (stderr = (stderr + text).slice(-4096)));
    const timer = setTimeout(() => child.kill('SIGKILL'), 30 * 60_000);
    child.on('error', (err) => {
      clearTimeout(timer);
      reject(err);
    });
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      if (code === 0 && !stderr.trim()) return resolve();
      const why = stderr.trim().split('\n')[0] || `exit ${code ?? signal}`;
      reject(new KeepsakeError('OUTPUT_CHECK_FAILED', `${name}: does not decode cleanly: ${why}`));
    });
  });
}

/**
 * Checks the outputs a step promised against the probed input, reading them through
 * `reader`, then the step's checks against the source. Throws OUTPUT_CHECK_FAILED naming
 * the output and the reason; returns the picture scores measured, by output.
 */
export async function verifyOutputs(
  tools: VerifyTools,
  reader: OutputReader,
  outputs: string[],
  input: ProbeResult,
  options: {
    thorough?: boolean;
    checks?: readonly OutputCheck[];
    source?: SourceInput;
    /** The outputs' length when not the input's (Step.lengthSeconds). */
    lengthSeconds?: number;
  } = {},
): Promise<Map<string, QualityScores>> {
  const written = new Set(reader.names());
  for (const name of outputs) {
    if (!written.has(name)) fail(name, 'was not produced');
    const extension = extensionOf(name);
    if (extension === '.m3u8') {
      const text = await reader.text(name);
      if (!text.startsWith('#EXTM3U')) fail(name, 'is not a playlist');
      if (text.includes('#EXT-X-STREAM-INF')) checkMasterPlaylist(name, text, outputs);
      else await checkMediaPlaylist(tools, reader, name, text, input, !!options.thorough);
      continue;
    }
    if (extension === '.avif') {
      await reader.withStream(name, (body) => checkAvif(name, body, !!options.thorough));
      continue;
    }
    await reader.withUrl(name, async (url) => {
      const probed = await probeOutputUrl(tools.ffprobePath, url, { file: name }).catch(
        (err: unknown) =>
          fail(name, `cannot be read back (${err instanceof Error ? err.message : String(err)})`),
      );
      if (IMAGE_EXTENSIONS.has(extension)) {
        const picture = probed.streams.find((s) => s.type === 'video');
        if (!picture?.width || !picture.height) fail(name, 'holds no picture');
      } else {
        const measured = await measureDurations(tools, url).catch((err: unknown) =>
          fail(name, `cannot be read back (${err instanceof Error ? err.message : String(err)})`),
        );
        checkStreams(name, probed.streams, measured, input, options.lengthSeconds);
      }
      if (options.thorough) await decodeAll(tools, url, name);
    });
  }
  const scores = new Map<string, QualityScores>();
  for (const check of options.checks ?? []) {
    const source = options.source;
    if (!source) fail(check.output, 'cannot be compared with the original here');
    if (check.kind === 'lossless') {
      await reader.withUrl(check.output, (url) => checkLossless(tools, source, check.output, url));
    } else {
      const measured = await reader.withStream(check.output, (body) =>
        measureQuality(tools, source, check, body),
      );
      scores.set(check.output, measured);
      checkScores(check, measured);
    }
  }
  return scores;
}
