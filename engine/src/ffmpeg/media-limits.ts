// How big a picture FFmpeg and FFprobe may decode. A PNG of a few MB can state
// 16000 × 16000 pixels at 16 bits per channel: 2 GB once decoded, which FFprobe allocates
// just to probe it. FFmpeg's own limit (about 268 million pixels) lets that through.
//
// 200 megapixels is above every camera (the largest phone sensors give 16320 × 12240,
// 199.8 MP) and keeps one decoded frame under 1.6 GB even at 16 bits RGBA, inside the
// address-space cap of tool-process.ts.

import { KeepsakeError } from '../core/errors';

export const MAX_PIXELS = 200_000_000;

/** Decoder options for every input FFmpeg or FFprobe opens: refuse larger frames. */
export function decodeLimitArgs(): string[] {
  return ['-max_pixels', String(MAX_PIXELS)];
}

function megapixels(pixels: number): string {
  return `${Math.round(pixels / 1e6)} megapixels`;
}

/** INPUT_TOO_LARGE for a picture of width × height. */
export function tooLarge(width: number, height: number, file?: string): KeepsakeError {
  return new KeepsakeError(
    'INPUT_TOO_LARGE',
    `the picture is ${width} × ${height} pixels (${megapixels(width * height)}); Keepsake decodes pictures up to ${megapixels(MAX_PIXELS)}`,
    { file },
  );
}

/** Throws INPUT_TOO_LARGE when width × height is over the limit. */
export function checkPixels(width: number, height: number, file?: string): void {
  if (width * height > MAX_PIXELS) throw tooLarge(width, height, file);
}

/**
 * INPUT_TOO_LARGE when FFmpeg's or FFprobe's messages say a frame was refused for its
 * size or memory ran out under the cap, else undefined.
 */
export function tooLargeFromStderr(stderr: string, file?: string): KeepsakeError | undefined {
  const size = /Picture size (\d+)x(\d+) (?:is invalid|exceeds)/.exec(stderr);
  if (size) return tooLarge(Number(size[1]), Number(size[2]), file);
  if (/Cannot allocate memory|Out of memory|out of memory/.test(stderr)) {
    return new KeepsakeError(
      'INPUT_TOO_LARGE',
      'decoding this file needs more memory than Keepsake allows FFmpeg',
      { file },
    );
  }
  return undefined;
}
