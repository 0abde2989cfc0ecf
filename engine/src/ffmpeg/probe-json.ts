// FFprobe's JSON (`-print_format json -show_format -show_streams`) read into what the
// engine uses: a ProbeResult for an input, streams for an output. Values FFprobe omits or
// prints as "N/A" are left out, never guessed.

import { KeepsakeError } from '../core/errors';
import { FIELD_ORDERS, type MediaInfo } from '../presets/preset';
import { IMAGE_DEMUXERS, INPUT_DEMUXERS, refused } from './probe-formats';

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
  /** Frames per second (`avg_frame_rate`, e.g. 25 or 29.97), when the stream states one. */
  frameRate?: number;
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
  const fields = raw ? str(raw.field_order) : undefined;
  const fieldOrder = FIELD_ORDERS.find((f) => f === fields);

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
      ...(fieldOrder ? { fieldOrder } : {}),
      ...(video ? { videoCodec: video.codec } : {}),
      audioCodecs: streams.filter((s) => s.type === 'audio').map((s) => s.codec),
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

type Json = Record<string, unknown>;

export function parseJson(stdout: string): unknown {
  try {
    return JSON.parse(stdout);
  } catch (err) {
    throw new KeepsakeError('FFMPEG_FAILED', 'ffprobe printed output that is not JSON', {
      cause: err,
    });
  }
}

export function shape(json: unknown): { format: Json; streams: Json[] } {
  const root = isObject(json) ? json : {};
  if (!isObject(root.format)) {
    throw new KeepsakeError('FFMPEG_FAILED', 'ffprobe printed no format section');
  }
  const streams = Array.isArray(root.streams) ? root.streams.filter(isObject) : [];
  return { format: root.format, streams };
}

const STREAM_TYPES = new Set<StreamType>(['video', 'audio', 'subtitle', 'data', 'attachment']);

export function toStream(raw: Json): ProbedStream {
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
  const rate = frameRate(raw.avg_frame_rate) ?? frameRate(raw.r_frame_rate);
  if (stream.type === 'video' && rate !== undefined) stream.frameRate = rate;
  return stream;
}

/** "30000/1001" → 29.97; "0/0" (unknown) and anything outside 1–240 → undefined. */
function frameRate(value: unknown): number | undefined {
  const m = typeof value === 'string' ? /^(\d+)\/(\d+)$/.exec(value) : null;
  if (!m || Number(m[2]) === 0) return undefined;
  const fps = Number(m[1]) / Number(m[2]);
  return fps >= 1 && fps <= 240 ? fps : undefined;
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
export function tagDuration(raw: Json): number | undefined {
  const tags = isObject(raw.tags) ? raw.tags : {};
  const key = Object.keys(tags).find((k) => /^duration(-\w+)?$/i.test(k));
  const match = key ? /^(\d+):(\d{2}):(\d{2}(?:\.\d+)?)$/.exec(String(tags[key])) : null;
  if (!match) return undefined;
  return Number(match[1]) * 3600 + Number(match[2]) * 60 + Number(match[3]);
}

function isObject(value: unknown): value is Json {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

export function str(value: unknown): string | undefined {
  return typeof value === 'string' && value !== '' ? value : undefined;
}

/** FFprobe prints most numbers as strings ("2.000000") and some as "N/A". */
export function num(value: unknown): number | undefined {
  const n =
    typeof value === 'number'
      ? value
      : typeof value === 'string' && value.trim()
        ? Number(value)
        : NaN;
  return Number.isFinite(n) ? n : undefined;
}
