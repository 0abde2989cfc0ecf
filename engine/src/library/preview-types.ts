// The pictures the library makes of its items (preview-photo.ts, preview-video.ts) and
// why an item may have none, in words the store, the CLI and the UI share.

/**
 * thumb: a photo's grid picture (320 px long side); preview: a photo at screen size;
 * poster: a video's representative frame; sprite: a strip of a video's frames, left to
 * right in time, for hover-scrubbing.
 */
export type PreviewKind = 'thumb' | 'preview' | 'poster' | 'sprite';

export const PREVIEW_KINDS: readonly PreviewKind[] = ['thumb', 'preview', 'poster', 'sprite'];

/** A picture made in memory (JPEG), not yet sealed into the vault. */
export interface MadePicture {
  kind: PreviewKind;
  data: Buffer;
  width: number;
  height: number;
  /** Frames side by side in a sprite (each width / frames wide); 1 otherwise. */
  frames?: number;
}

/**
 * Why an item has no pictures: a verdict on the file, kept (the item is not tried again
 * until its vault copy or this code changes). `no-picture`: a video without a picture
 * stream (sound only).
 */
export type PictureFailureReason = 'damaged' | 'unsupported' | 'too-large' | 'no-picture';

export interface PictureFailure {
  reason: PictureFailureReason;
  /** Plain words for the family. */
  detail: string;
  /** What the tool said, for whoever helps them (attention-words.ts). */
  technical?: string;
}

export function isFailure(made: MadePicture[] | PictureFailure): made is PictureFailure {
  return !Array.isArray(made);
}
