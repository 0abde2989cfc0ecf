// Which containers Keepsake reads (see probe.ts for why the list is short), and the
// refusal of the rest: by name after FFprobe reports the container, and by a first look at
// the bytes before FFprobe sees them.

import { KeepsakeError } from '../core/errors';

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

export const IMAGE_DEMUXERS = new Set([
  'png_pipe',
  'jpeg_pipe',
  'webp_pipe',
  'tiff_pipe',
  'bmp_pipe',
]);

/**
 * For `-format_whitelist`. FFmpeg matches each entry against every alias of a demuxer's
 * name, so `mov` admits `mov,mp4,m4a,3gp,3g2,mj2`.
 */
export const FORMAT_WHITELIST: string = [...new Set(Object.values(INPUT_DEMUXERS))].join(',');

export function refused(format: string | undefined, file?: string): KeepsakeError {
  const accepted =
    'MP4/MOV, MKV/WebM, MPEG-TS, AVI, MPEG-PS, DV, ASF, FLV, PNG, JPEG, WebP, TIFF or BMP';
  const message = format
    ? `"${format}" inputs are refused: Keepsake reads only video and photo containers (${accepted})`
    : `the input is not a video or photo container Keepsake reads (${accepted})`;
  return new KeepsakeError('UNSUPPORTED_INPUT', message, { file });
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
