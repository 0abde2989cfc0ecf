// What the library knows about one item once it is in the vault: when it was taken,
// how long it runs, its picture size, its codecs, the camera, and whether it needs the
// family's attention (damaged, a format this build cannot show, too large to open).
// Everything is read from the vault copy, decrypted in memory (photos) or served to
// FFprobe and FFmpeg over the engine's loopback source (videos, audio): no plaintext
// ever reaches a disk.

import { isKeepsakeError, type KeepsakeError } from '../core/errors';
import { serveLoopback, vaultByteSource, type ToolInput } from '../ffmpeg/input-source';
import { probeInput, type ProbeResult } from '../ffmpeg/probe';
import { spawnTool } from '../ffmpeg/tool-process';
import type { Readable } from 'node:stream';
import type { Vault } from '../vault/keyring';
import { VaultFile } from '../vault/vault-file';
import { DvDateMeter } from '../ffmpeg/dv-dates';
import { captureDate, type CaptureCandidates, type CaptureSource } from './capture-date';
import type { MediaKind } from '../vault/media-kind';
import { readPhotoInfo, type Attention } from './photo-info';
import { damagedWords, EMPTY_WORDS, technicalOf, UNSUPPORTED_WORDS } from './attention-words';

/**
 * Bump when what is read changes: items read by an older version are read again, in the
 * background, keeping what they showed until then. 2: the frame rate, which a tape's cut
 * list snaps to (items read before it snapped to the millisecond). 3: a DV tape's date
 * from the camcorder's clock (videos only: migration 18 keeps photos and sounds read).
 */
export const ITEM_INFO_VERSION = 3;

/** The largest photo decrypted into memory to be read; bigger ones are not opened. */
export const PHOTO_BYTES_LIMIT = 200 * 1024 * 1024;

export interface ItemInfo {
  capturedAt: string;
  capturedFrom: CaptureSource;
  durationSeconds?: number;
  /** Picture size as shown (after the camera's turn). */
  width?: number;
  height?: number;
  /** Degrees clockwise the stored picture is turned when shown. */
  rotation: number;
  displayAspect?: string;
  /** Frames per second of the picture, for frame-accurate clip boundaries. */
  frameRate?: number;
  videoCodec?: string;
  audioCodec?: string;
  hasAudio: boolean;
  make?: string;
  model?: string;
  attention?: Attention;
  /** Plain words for the family when `attention` is set (attention-words.ts). */
  attentionDetail?: string;
  /** What FFprobe, FFmpeg or libvips said of it: shown only on request. */
  attentionTechnical?: string;
}

export interface ItemToRead {
  /** The vault copy. */
  objectPath: string;
  /** The file's name as the family knows it (its path in the folder). */
  rel: string;
  kind: MediaKind;
  /** The source's modification time, the date of last resort. */
  mtimeMs: number;
}

export interface InfoTools {
  ffmpegPath: string;
  ffprobePath: string;
}

/** Seconds decoded from the start of a video to tell whether it plays at all. */
const DECODE_CHECK_SECONDS = 2;
const DECODE_TIMEOUT_MS = 60_000;

export async function readItemInfo(
  item: ItemToRead,
  vault: Vault,
  tools: InfoTools,
): Promise<ItemInfo> {
  const file = await VaultFile.open(item.objectPath, { vault });
  try {
    return item.kind === 'photo' ? await photoInfo(item, file) : await mediaInfo(item, file, tools);
  } finally {
    await file.close();
  }
}

async function photoInfo(item: ItemToRead, file: VaultFile): Promise<ItemInfo> {
  if (file.size > PHOTO_BYTES_LIMIT) {
    return {
      ...captureDate({ fileName: item.rel, mtimeMs: item.mtimeMs }),
      rotation: 0,
      hasAudio: false,
      attention: 'too-large',
      attentionDetail: `This photo file is ${Math.round(file.size / 1024 / 1024)} MB, more than the ${PHOTO_BYTES_LIMIT / 1024 / 1024} MB Keepsake opens, so it is not shown. It is kept safe in the vault as it is.`,
    };
  }
  const chunks: Buffer[] = [];
  for await (const chunk of file.rangeStream(0, file.size)) chunks.push(chunk as Buffer);
  const bytes = Buffer.concat(chunks);
  const photo = await readPhotoInfo(bytes);
  bytes.fill(0); // the decrypted photo does not linger in memory until the next GC
  const { exifDateTime, exifOffset } = photo;
  const info: ItemInfo = {
    ...captureDate({ exifDateTime, exifOffset, fileName: item.rel, mtimeMs: item.mtimeMs }),
    rotation: photo.rotation,
    hasAudio: false,
  };
  const keys = ['width', 'height', 'make', 'model', 'attention', 'attentionDetail'] as const;
  for (const key of [...keys, 'attentionTechnical'] as const) {
    if (photo[key] !== undefined) Object.assign(info, { [key]: photo[key] });
  }
  return info;
}

async function mediaInfo(item: ItemToRead, file: VaultFile, tools: InfoTools): Promise<ItemInfo> {
  if (file.size === 0) {
    // Nothing to probe (FFprobe on no bytes fails in ways that look like a broken tool).
    return {
      ...captureDate({ fileName: item.rel, mtimeMs: item.mtimeMs }),
      rotation: 0,
      hasAudio: false,
      attention: 'damaged',
      attentionDetail: EMPTY_WORDS,
    };
  }
  const source = await serveLoopback(vaultByteSource(file));
  let probed: ProbeResult;
  try {
    try {
      probed = await probeInput(tools.ffprobePath, source, { file: item.rel });
    } catch (err) {
      // A verdict on the file is kept; anything else (FFprobe missing, crashed or timed
      // out, the vault copy unreadable) is thrown, and the item is read again later.
      if (!isKeepsakeError(err, 'UNSUPPORTED_INPUT') && !isKeepsakeError(err, 'INPUT_TOO_LARGE')) {
        throw err;
      }
      const known = {
        ...captureDate({ fileName: item.rel, mtimeMs: item.mtimeMs }),
        rotation: 0,
        hasAudio: false,
      };
      // FFprobe is only allowed video and photo containers: music and voice recordings
      // in other ones are kept, dated, and need nothing from the family.
      if (item.kind === 'audio' && refusedContainer(err)) return known;
      return {
        ...known,
        ...attention(err, item.kind),
      };
    }
    const probedInfo = fromProbe(item, probed);
    if (probedInfo.attention || probedInfo.videoCodec === undefined) return probedInfo;
    const start = await decodeStart(tools, source, probedInfo.videoCodec === 'dvvideo');
    const info = start.camcorderClock
      ? {
          ...probedInfo,
          ...captureDate({ ...candidatesOf(item, probed), camcorderClock: start.camcorderClock }),
        }
      : probedInfo;
    if (start.why === undefined) return info;
    return {
      ...info,
      attention: 'damaged',
      attentionDetail: damagedWords('video', 'play its start'),
      attentionTechnical: start.why,
    };
  } finally {
    await source.close();
  }
}

/** The dates a probe found, and the file's own. */
function candidatesOf(item: ItemToRead, probed: ProbeResult): CaptureCandidates {
  return {
    quicktimeDate: probed.dates.quicktime,
    creationTime: probed.dates.creationTime,
    fileName: item.rel,
    mtimeMs: item.mtimeMs,
  };
}

function fromProbe(item: ItemToRead, probed: ProbeResult): ItemInfo {
  const video = probed.streams.find((s) => s.type === 'video' && !s.attachedPic);
  const audio = probed.streams.find((s) => s.type === 'audio');
  const info: ItemInfo = {
    ...captureDate(candidatesOf(item, probed)),
    rotation: probed.rotation,
    hasAudio: audio !== undefined,
  };
  if (probed.durationSeconds > 0) info.durationSeconds = probed.durationSeconds;
  if (video) {
    info.width = probed.media.width;
    info.height = probed.media.height;
    info.videoCodec = video.codec;
    if (probed.displayAspect !== undefined) info.displayAspect = probed.displayAspect;
    if (video.frameRate !== undefined) info.frameRate = video.frameRate;
  }
  if (audio) info.audioCodec = audio.codec;
  if (item.kind === 'video' && !video) {
    info.attention = 'damaged';
    info.attentionDetail = audio
      ? 'This video has sound but no picture.'
      : 'This video has neither picture nor sound.';
  }
  return info;
}

/** What decoding a video's start found. */
interface StartRead {
  /** Why it does not play; undefined when it does. */
  why?: string;
  /** A DV tape's camcorder clock at its first recording, when its frames carry one. */
  camcorderClock?: string;
}

/**
 * Decodes the first seconds of the picture. Judged by FFmpeg's exit and the frames it
 * decoded, not by error lines: a tape capture or a camcorder clip that begins mid-GOP
 * logs errors and still plays. A DV tape's frames are also copied out undecoded on a
 * pipe of their own (as for the tape analysis, tape-analysis.ts): FFmpeg passes on only
 * their timecode, but every frame carries the camcorder's clock (dv-dates.ts).
 */
function decodeStart(tools: InfoTools, input: ToolInput, dv: boolean): Promise<StartRead> {
  return new Promise((resolve, reject) => {
    const seconds = String(DECODE_CHECK_SECONDS);
    const child = spawnTool(
      tools.ffmpegPath,
      [
        ...['-v', 'error', '-nostdin', '-nostats', '-protocol_whitelist', 'http,tcp'],
        ...['-i', input.url, '-t', seconds, '-map', '0:v:0'],
        ...['-f', 'null', '-', '-progress', 'pipe:1'],
        ...(dv ? ['-map', '0:v:0', '-c:v', 'copy', '-t', seconds, '-f', 'rawvideo', 'pipe:3'] : []),
      ],
      {
        env: { ...input.env, LC_ALL: 'C' },
        stdio: ['ignore', 'pipe', 'pipe', ...(dv ? (['pipe'] as const) : [])],
      },
    );
    let progress = '';
    let stderr = '';
    child
      .stdout!.setEncoding('utf8')
      .on('data', (t: string) => (progress = (progress + t).slice(-2048)));
    child
      .stderr!.setEncoding('utf8')
      .on('data', (t: string) => (stderr = (stderr + t).slice(-4096)));
    const meter = dv ? new DvDateMeter() : undefined;
    if (meter) (child.stdio[3] as Readable).on('data', (chunk: Buffer) => meter.push(chunk));
    const timer = setTimeout(() => child.kill('SIGKILL'), DECODE_TIMEOUT_MS);
    child.on('error', (err) => {
      clearTimeout(timer);
      reject(err); // FFmpeg did not start: not the file's fault
    });
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      if (signal === 'SIGKILL')
        return reject(new Error('FFmpeg took too long to decode the start'));
      const frames = [...progress.matchAll(/^frame=(\d+)$/gm)].pop()?.[1];
      const firstError = stderr.trim().split('\n')[0];
      if (code !== 0) return resolve({ why: firstError || `FFmpeg stopped with exit ${code}` });
      if (Number(frames ?? 0) === 0) {
        return resolve({ why: firstError || 'no picture could be decoded' });
      }
      const clock = meter?.recordings()[0]?.recorded;
      resolve(clock ? { camcorderClock: clock } : {});
    });
  });
}

/** FFprobe named a container Keepsake does not read (not a damaged file of one it does). */
function refusedContainer(err: unknown): err is KeepsakeError {
  return (
    isKeepsakeError(err) &&
    err.code === 'UNSUPPORTED_INPUT' &&
    /inputs are refused/.test(err.message)
  );
}

/** A probe's verdict on the file, in the family's words, and what FFprobe said. */
function attention(
  err: unknown,
  kind: MediaKind,
): Pick<ItemInfo, 'attention' | 'attentionDetail' | 'attentionTechnical'> {
  if (isKeepsakeError(err, 'INPUT_TOO_LARGE')) {
    return { attention: 'too-large', attentionDetail: `${err.message}.` };
  }
  if (refusedContainer(err)) {
    return {
      attention: 'unsupported',
      attentionDetail: UNSUPPORTED_WORDS,
      attentionTechnical: technicalOf(err),
    };
  }
  // FFprobe reads a video's start (its header, and in an MP4 the index a cut-short copy
  // lacks): that is what it could not read.
  return {
    attention: 'damaged',
    attentionDetail:
      kind === 'video' ? damagedWords('video', 'read its start') : damagedWords('file', 'read it'),
    attentionTechnical: technicalOf(err),
  };
}
