// A video's pictures for the library: a poster (a representative frame, not black, not a
// blank stretch of tape; see preview-luma.ts) and a sprite (frames from end to end side
// by side, for hover-scrubbing in the grid).
//
// FFmpeg reads the vault copy over the engine's loopback source (input-source.ts) and
// hands the frames back on its stdout, as uncompressed PPM images: nothing decrypted
// touches a disk. One FFmpeg run samples the whole video: it opens the input once per
// point in time, seeks there (to the keyframe before, then decodes up to the point), and
// takes one frame from each, scaled to poster size; sharp then scores the frames, encodes
// the chosen one as the poster and the small copies of all of them as the sprite.

import sharp from 'sharp';
import { isKeepsakeError } from '../core/errors';
import { serveLoopback, vaultByteSource, type ToolInput } from '../ffmpeg/input-source';
import { decodeLimitArgs, tooLargeFromStderr } from '../ffmpeg/media-limits';
import { FORMAT_WHITELIST, probeInput } from '../ffmpeg/probe';
import { spawnTool } from '../ffmpeg/tool-process';
import type { VaultFile } from '../vault/vault-file';
import { damagedWords, EMPTY_WORDS, technicalOf } from './attention-words';
import type { InfoTools } from './item-info';
import { choosePoster, lumaStats } from './preview-luma';
import type { MadePicture, PictureFailure } from './preview-types';

/** Frames sampled across the video: the sprite's frames and the poster's candidates. */
export const SPRITE_FRAMES = 10;
/** Width of each frame in the sprite. */
export const SPRITE_FRAME_WIDTH = 160;
/** Long side of the poster. */
export const POSTER_SIZE = 1280;

const POSTER_QUALITY = 80;
const SPRITE_QUALITY = 70;
const FRAMES_TIMEOUT_MS = 180_000;
/** The loopback's slice: FFmpeg seeks to each point and reads a little there (input-source.ts). */
export const SLICE_BYTES = 1024 * 1024;

/** Where to sample a video of `duration` seconds: the middle of each of `count` equal parts. */
export function samplePoints(duration: number, count = SPRITE_FRAMES): number[] {
  if (!(duration > 0)) return [0];
  return Array.from({ length: count }, (_, i) => ((i + 0.5) * duration) / count);
}

export interface Frame {
  width: number;
  height: number;
  /** Packed RGB, 3 bytes a pixel. */
  rgb: Buffer;
}

/** What the library already read of the video (item-info.ts): no need to probe it again. */
export interface KnownVideo {
  /** 0 when unknown. */
  durationSeconds: number;
}

export async function makeVideoPictures(
  file: VaultFile,
  tools: InfoTools,
  name: string,
  known?: KnownVideo,
): Promise<MadePicture[] | PictureFailure> {
  if (file.size === 0) return { reason: 'damaged', detail: EMPTY_WORDS };
  // In slices: FFmpeg seeks to ten points and reads a little at each (input-source.ts).
  const source = await serveLoopback(vaultByteSource(file), { sliceBytes: SLICE_BYTES });
  try {
    if (known) {
      const result = await sampleFrames(
        tools,
        source,
        (await isIsoMedia(file)) ? 'mov' : undefined,
        samplePoints(known.durationSeconds),
      );
      if (source.error) throw source.error;
      return 'reason' in result ? result : await posterAndSprite(result);
    }
    let probed;
    try {
      probed = await probeInput(tools.ffprobePath, source, { file: name });
    } catch (err) {
      // A verdict on the file is kept; anything else (FFprobe missing, crashed, the vault
      // copy unreadable) is thrown, and the item is tried again at the next run.
      if (isKeepsakeError(err, 'INPUT_TOO_LARGE')) {
        return { reason: 'too-large', detail: `${err.message}.` };
      }
      if (isKeepsakeError(err, 'UNSUPPORTED_INPUT')) {
        return {
          reason: 'damaged',
          detail: damagedWords('video', 'read its start'),
          technical: technicalOf(err),
        };
      }
      throw err;
    }
    if (!probed.streams.some((s) => s.type === 'video' && !s.attachedPic)) {
      return { reason: 'no-picture', detail: 'This video has sound but no picture.' };
    }
    const points = samplePoints(probed.durationSeconds);
    const result = await sampleFrames(tools, source, probed.demuxer, points);
    // The vault copy failed to decrypt under FFmpeg: not the file's fault, not a verdict.
    if (source.error) throw source.error;
    if ('reason' in result) return result;
    return await posterAndSprite(result);
  } finally {
    await source.close();
  }
}

/** An MP4 or QuickTime file of today's kind: it opens with an `ftyp` box. */
async function isIsoMedia(file: VaultFile): Promise<boolean> {
  if (file.size < 8) return false;
  return (await file.read(4, 8)).toString('latin1') === 'ftyp';
}

/** The poster (the chosen frame) and the sprite (every frame, small, left to right). */
export async function posterAndSprite(frames: Frame[]): Promise<MadePicture[]> {
  const chosen = frames[choosePoster(frames.map((f) => lumaStats(f.rgb, f.width, f.height)))]!;
  const raw = (f: Frame) => ({ raw: { width: f.width, height: f.height, channels: 3 as const } });
  const poster = await sharp(chosen.rgb, raw(chosen))
    .jpeg({ quality: POSTER_QUALITY })
    .toBuffer({ resolveWithObject: true });

  const first = frames[0]!;
  const frameWidth = Math.min(SPRITE_FRAME_WIDTH, first.width);
  const frameHeight = Math.max(2, 2 * Math.round((frameWidth * first.height) / first.width / 2));
  const small = await Promise.all(
    frames.map((f) =>
      sharp(f.rgb, raw(f)).resize(frameWidth, frameHeight, { fit: 'fill' }).raw().toBuffer(),
    ),
  );
  const sprite = await sharp({
    create: {
      width: frameWidth * frames.length,
      height: frameHeight,
      channels: 3,
      background: '#000000',
    },
  })
    .composite(
      small.map((input, i) => ({
        input,
        raw: { width: frameWidth, height: frameHeight, channels: 3 as const },
        left: i * frameWidth,
        top: 0,
      })),
    )
    .jpeg({ quality: SPRITE_QUALITY })
    .toBuffer({ resolveWithObject: true });
  return [
    { kind: 'poster', data: poster.data, width: poster.info.width, height: poster.info.height },
    {
      kind: 'sprite',
      data: sprite.data,
      width: sprite.info.width,
      height: sprite.info.height,
      frames: frames.length,
    },
  ];
}

/**
 * Square pixels first (a DV or DVD frame is stored narrower or wider than it is shown),
 * then no larger than the poster (never enlarged); every frame comes out the same size,
 * as concat needs.
 */
const POSTER_FIT =
  `scale=w='trunc(iw*sar/2)*2':h=ih,setsar=1,` +
  `scale=w='if(gte(iw,ih),min(${POSTER_SIZE},iw),-2)':h='if(gte(iw,ih),-2,min(${POSTER_SIZE},ih))'`;

/**
 * FFmpeg's arguments: one input per point, one frame from each, scaled alike, as PPM on
 * stdout. The input is read by the demuxer its probe named, or, when it was not probed
 * now, by any of those the probe accepts (the same allowlist). `fit` is the filter each
 * frame goes through; it must make every frame the same size (concat needs that).
 */
export function frameArgs(
  input: ToolInput,
  demuxer: string | undefined,
  points: readonly number[],
  fit: string = POSTER_FIT,
): string[] {
  const format = demuxer ? ['-f', demuxer] : ['-format_whitelist', FORMAT_WHITELIST];
  // An MP4 or QuickTime header describes its streams in full: each input then reads first
  // where it seeks to, instead of going back to the first pictures to look at them. That
  // is a connection to the loopback less per input, a quarter of them (the frames are
  // the same, checked for H.264, HEVC, MPEG-4, MJPEG, DV and ProRes).
  const look = demuxer === 'mov' ? ['-nofind_stream_info'] : [];
  // One decoding thread per input. Each input decodes a few pictures after its seek and
  // stops, and the default (threads for every core, for each of the ten inputs) spent
  // more starting and waking them than they saved, most of all with two videos at once,
  // as the library makes them (item-passes.ts): bench:library's 100 clips took 86 s of
  // CPU and 46 s against 96 s and 52 s (one 1280x720 clip alone: 0.64 s against 0.74 s).
  // The frames are the same.
  const inputs = points.flatMap((at) => [
    ...['-ss', at.toFixed(3), ...format, ...look, '-threads', '1'],
    ...['-protocol_whitelist', 'http,tcp'],
    ...(input.readArgs ?? []),
    ...decodeLimitArgs(),
    ...['-i', input.url],
  ]);
  const chains = points.map((_, i) => `[${i}:v:0]trim=end_frame=1,${fit},setpts=N[f${i}]`);
  const graph = `${chains.join(';')};${points.map((_, i) => `[f${i}]`).join('')}concat=n=${points.length}:v=1:a=0,format=rgb24[out]`;
  return [
    ...['-v', 'error', '-nostdin', '-nostats'],
    ...inputs,
    ...['-filter_complex', graph, '-map', '[out]', '-vsync', 'passthrough'],
    ...['-f', 'image2pipe', '-c:v', 'ppm', 'pipe:1'],
  ];
}

/** The frames FFmpeg decodes at `points` (in one run), or why it could not. */
export function sampleFrames(
  tools: InfoTools,
  input: ToolInput,
  demuxer: string | undefined,
  points: readonly number[],
  fit?: string,
): Promise<Frame[] | PictureFailure> {
  return new Promise((resolve, reject) => {
    const child = spawnTool(tools.ffmpegPath, frameArgs(input, demuxer, points, fit), {
      env: { ...input.env, LC_ALL: 'C' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const reader = new PpmReader(points.length);
    let stderr = '';
    let overflow = false;
    child.stdout!.on('data', (chunk: Buffer) => {
      if (!reader.push(chunk)) {
        overflow = true;
        child.kill('SIGKILL');
      }
    });
    child
      .stderr!.setEncoding('utf8')
      .on('data', (t: string) => (stderr = (stderr + t).slice(-4096)));
    const timer = setTimeout(() => child.kill('SIGKILL'), FRAMES_TIMEOUT_MS);
    child.on('error', (err) => {
      clearTimeout(timer);
      reject(err); // FFmpeg did not start: not the file's fault
    });
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      if (overflow) {
        return reject(new Error('FFmpeg sent more picture data than was asked for'));
      }
      if (signal !== null) return reject(new Error(`FFmpeg stopped by ${signal}`));
      const tooLarge = tooLargeFromStderr(stderr);
      if (tooLarge) return resolve({ reason: 'too-large', detail: `${tooLarge.message}.` });
      const firstError = stderr.trim().split('\n')[0];
      const frames = reader.frames;
      if (code !== 0 || frames.length === 0) {
        const why = firstError || (code !== 0 ? `FFmpeg stopped with exit ${code}` : 'no frame');
        return resolve({
          reason: 'damaged',
          detail: damagedWords('video', 'take a picture from it'),
          technical: why,
        });
      }
      resolve(frames);
    });
  });
}

/** A PPM header (`P6 <w> <h> 255` and one whitespace byte) is never longer than this. */
const PPM_HEADER_MAX = 40;
const PPM_HEADER = /^P6\s+(\d+)\s+(\d+)\s+255\s/;

/**
 * Splits FFmpeg's stream of binary PPM images (`P6 <w> <h> 255`) into frames, holding no
 * more than `maxFrames` of them. Each frame's pixels are copied once, from the pipe's
 * chunks straight into a buffer of the frame's size: ten 1280×720 frames a video are
 * 28 MB, and joining the chunks first doubled the copying and the garbage.
 */
export class PpmReader {
  readonly frames: Frame[] = [];
  /** The next header, while only part of it has come. */
  private head = Buffer.alloc(0);
  /** The frame being filled, and how much of it is. */
  private frame: Frame | undefined;
  private filled = 0;

  constructor(private readonly maxFrames: number) {}

  /** Takes more bytes; false once they hold more than `maxFrames` frames or are no PPM. */
  push(chunk: Buffer): boolean {
    let at = 0;
    while (at < chunk.length) {
      if (this.frame) {
        const rgb = this.frame.rgb;
        const n = Math.min(rgb.length - this.filled, chunk.length - at);
        chunk.copy(rgb, this.filled, at, at + n);
        this.filled += n;
        at += n;
        if (this.filled === rgb.length) this.finishFrame();
        continue;
      }
      const before = this.head.length;
      const take = Math.min(chunk.length - at, PPM_HEADER_MAX - before);
      const head = Buffer.concat([this.head, chunk.subarray(at, at + take)]);
      const text = head.toString('latin1');
      const header = PPM_HEADER.exec(text);
      if (!header) {
        const mayStill =
          head.length < PPM_HEADER_MAX && (text.startsWith('P6') || 'P6'.startsWith(text));
        if (!mayStill) return false;
        this.head = head;
        at += take;
        continue;
      }
      const width = Number(header[1]);
      const height = Number(header[2]);
      if (this.frames.length >= this.maxFrames || width * height > POSTER_SIZE * POSTER_SIZE) {
        return false;
      }
      this.frame = { width, height, rgb: Buffer.allocUnsafe(width * height * 3) };
      this.filled = 0;
      this.head = Buffer.alloc(0);
      at += header[0].length - before;
      if (this.frame.rgb.length === 0) this.finishFrame();
    }
    return true;
  }

  private finishFrame(): void {
    this.frames.push(this.frame!);
    this.frame = undefined;
  }
}
