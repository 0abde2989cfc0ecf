// A photo's pictures for the library: a thumbnail for the grid and a screen-size preview
// for the viewer, made by libvips (sharp) from the photo's bytes in memory (decrypted from
// the vault, never written to disk), turned the way the camera asked (EXIF orientation).
//
// One decode serves both: the preview is made from the photo (JPEG shrinks while it
// decodes, so a 12-megapixel photo is decoded at half size), and the thumbnail from the
// preview, which is small and decodes at a quarter of that.

import sharp, { type Metadata, type OutputInfo } from 'sharp';
import { damagedWords, EMPTY_WORDS } from './attention-words';
import { PHOTO_PIXEL_LIMIT } from './photo-info';
import type { PictureFailure, MadePicture } from './preview-types';

/** Long side of the thumbnail the grid shows. */
export const THUMB_SIZE = 320;
/** Long side of the preview the viewer shows before (or instead of) the full photo. */
export const PREVIEW_SIZE = 1600;

// libvips keeps recent operations and their images cached for reuse; every photo here is
// opened once, so the cache only holds memory (tens of MB of decoded pixels) for nothing.
sharp.cache(false);

const PREVIEW_QUALITY = 82;
const THUMB_QUALITY = 75;

export async function makePhotoPictures(bytes: Buffer): Promise<MadePicture[] | PictureFailure> {
  let preview: { data: Buffer; info: OutputInfo };
  try {
    preview = await sharp(bytes, { limitInputPixels: PHOTO_PIXEL_LIMIT, failOn: 'error' })
      .rotate() // by the EXIF orientation; the output carries none, so it is not turned twice
      .resize(PREVIEW_SIZE, PREVIEW_SIZE, { fit: 'inside', withoutEnlargement: true })
      .flatten({ background: '#ffffff' }) // a transparent PNG shows on white, not black
      .jpeg({ quality: PREVIEW_QUALITY })
      .toBuffer({ resolveWithObject: true });
  } catch (err) {
    return await whyNot(bytes, err);
  }
  const thumb = await sharp(preview.data)
    .resize(THUMB_SIZE, THUMB_SIZE, { fit: 'inside', withoutEnlargement: true })
    .jpeg({ quality: THUMB_QUALITY })
    .toBuffer({ resolveWithObject: true });
  return [
    { kind: 'preview', data: preview.data, width: preview.info.width, height: preview.info.height },
    { kind: 'thumb', data: thumb.data, width: thumb.info.width, height: thumb.info.height },
  ];
}

/** Why libvips could not make the pictures, in the family's words. */
async function whyNot(bytes: Buffer, err: unknown): Promise<PictureFailure> {
  if (bytes.length === 0) return { reason: 'damaged', detail: EMPTY_WORDS };
  let meta: Metadata | undefined;
  try {
    meta = await sharp(bytes, { limitInputPixels: false }).metadata();
  } catch {
    meta = undefined;
  }
  const pixels = (meta?.width ?? 0) * (meta?.height ?? 0) * Math.max(1, meta?.pages ?? 1);
  if (pixels > PHOTO_PIXEL_LIMIT) {
    return {
      reason: 'too-large',
      detail: `This picture is ${Math.round(pixels / 1e6)} megapixels, more than the ${PHOTO_PIXEL_LIMIT / 1e6} Keepsake opens, so it has no thumbnail. It is kept safe in the vault as it is.`,
    };
  }
  // libvips reads HEIF containers, but the prebuilt one decodes only AVIF inside them: an
  // iPhone's HEIC (HEVC) lands here.
  if (meta?.format === 'heif' || isHeif(bytes)) {
    return {
      reason: 'unsupported',
      detail:
        'This is an HEIC photo (from an iPhone), which this version of Keepsake cannot show yet. It is kept safe in the vault as it is.',
    };
  }
  const why = (err instanceof Error ? err.message : String(err))
    .split('\n')[0]!
    .replace(/^Input (buffer|file) /, '')
    .slice(0, 120);
  return { reason: 'damaged', detail: damagedWords('photo', 'open it'), technical: why };
}

/** ISO BMFF with a HEIF brand (`ftypheic`, `ftypmif1`, …): sharp may not even name it. */
function isHeif(bytes: Buffer): boolean {
  return (
    bytes.length >= 12 &&
    bytes.toString('latin1', 4, 8) === 'ftyp' &&
    /^(heic|heix|hevc|hevx|heim|heis|mif1|msf1)$/.test(bytes.toString('latin1', 8, 12))
  );
}
