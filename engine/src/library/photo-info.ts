// What the library knows about a photo, read from its bytes in memory (decrypted from
// the vault; never written to disk): its size as shown (after the camera's rotation),
// the camera, the EXIF capture date, and whether it can be shown at all. libvips (sharp)
// reads the file and hands over its EXIF block, which exifr decodes. exifr is never given
// the whole file: its own container parsers loop forever on some damaged HEIF headers
// (a box of length 0), which would stall the engine; the EXIF block is plain TIFF.

import exifr from 'exifr';
import sharp, { type Metadata } from 'sharp';
import { damagedWords, EMPTY_WORDS } from './attention-words';

/**
 * The most pixels a photo may have. Above it a file is refused before it is decoded: a
 * tiny PNG can claim 100,000 × 100,000 pixels and take gigabytes to open (a
 * "decompression bomb"). 80 megapixels holds every phone and nearly every camera.
 */
export const PHOTO_PIXEL_LIMIT = 80_000_000;

/** Why a file needs the family's attention, in a word the UI and CLI share. */
export type Attention = 'damaged' | 'unsupported' | 'too-large';

export interface PhotoInfo {
  /** Width and height as shown, after the EXIF orientation is applied. */
  width?: number;
  height?: number;
  /** Degrees clockwise the camera asked for (EXIF orientation), 0 when none. */
  rotation: number;
  format?: string;
  make?: string;
  model?: string;
  /** EXIF DateTimeOriginal as written (`2019:08:12 14:30:00`) and its offset. */
  exifDateTime?: string;
  exifOffset?: string;
  attention?: Attention;
  /** Plain words for the family when `attention` is set. */
  attentionDetail?: string;
  /** What libvips said, for whoever helps them (attention-words.ts). */
  attentionTechnical?: string;
}

const EXIF_TAGS = ['DateTimeOriginal', 'OffsetTimeOriginal', 'CreateDate', 'Make', 'Model'];
/** EXIF orientations 5-8 turn the picture a quarter: width and height swap. */
const ROTATION: Record<number, number> = { 3: 180, 4: 180, 5: 90, 6: 90, 7: 270, 8: 270 };

export async function readPhotoInfo(bytes: Buffer): Promise<PhotoInfo> {
  const info: PhotoInfo = { rotation: 0 };
  let meta: Metadata;
  try {
    meta = await sharp(bytes, { limitInputPixels: false }).metadata();
  } catch (err) {
    if (bytes.length === 0) return { ...info, attention: 'damaged', attentionDetail: EMPTY_WORDS };
    return { ...info, ...cannotOpen(isHeif(bytes), err) };
  }
  if (meta.exif) Object.assign(info, await readExif(meta.exif));
  info.format = meta.format;
  info.rotation = ROTATION[meta.orientation ?? 1] ?? 0;
  const quarter = info.rotation % 180 !== 0;
  if (meta.width !== undefined && meta.height !== undefined) {
    info.width = quarter ? meta.height : meta.width;
    info.height = quarter ? meta.width : meta.height;
  }
  const pixels = (meta.width ?? 0) * (meta.height ?? 0) * Math.max(1, meta.pages ?? 1);
  if (pixels > PHOTO_PIXEL_LIMIT) {
    return {
      ...info,
      attention: 'too-large',
      attentionDetail: `This picture is ${Math.round(pixels / 1e6)} megapixels, more than the ${PHOTO_PIXEL_LIMIT / 1e6} Keepsake opens, so it is not shown. It is kept safe in the vault as it is.`,
    };
  }
  try {
    // Decoding a small copy proves the picture opens; JPEG shrinks while it decodes, so
    // this costs a fraction of a full decode.
    await sharp(bytes, { limitInputPixels: PHOTO_PIXEL_LIMIT, failOn: 'error' })
      .resize(64, 64, { fit: 'inside' })
      .raw()
      .toBuffer();
  } catch (err) {
    // libvips reads HEIF containers, but the prebuilt one decodes only AVIF inside them:
    // an iPhone's HEIC (HEVC) fails here.
    return { ...info, ...cannotOpen(meta.format === 'heif', err) };
  }
  return info;
}

/** The tags the library wants from an EXIF block (`Exif\0\0` and TIFF, as libvips gives it). */
async function readExif(block: Buffer): Promise<Partial<PhotoInfo>> {
  const tiff = block.toString('latin1', 0, 6) === 'Exif\0\0' ? block.subarray(6) : block;
  let tags: Record<string, unknown> | undefined;
  try {
    // Raw values: exifr would turn dates into Date objects in this computer's time zone.
    tags = (await exifr.parse(tiff, { pick: EXIF_TAGS, reviveValues: false })) as
      Record<string, unknown> | undefined;
  } catch {
    return {}; // no EXIF, or EXIF too damaged to read: the date comes from elsewhere
  }
  const text = (key: string): string | undefined => {
    const value = tags?.[key];
    return typeof value === 'string' && value.trim() !== '' ? value.trim() : undefined;
  };
  const found: Partial<PhotoInfo> = {};
  const date = text('DateTimeOriginal') ?? text('CreateDate');
  if (date !== undefined) found.exifDateTime = date;
  const offset = text('OffsetTimeOriginal');
  if (offset !== undefined) found.exifOffset = offset;
  const make = text('Make');
  if (make !== undefined) found.make = make;
  const model = text('Model');
  if (model !== undefined) found.model = model;
  return found;
}

function cannotOpen(
  heif: boolean,
  err: unknown,
): Pick<PhotoInfo, 'attention' | 'attentionDetail' | 'attentionTechnical'> {
  return heif
    ? {
        attention: 'unsupported',
        attentionDetail:
          'This is an HEIC photo (from an iPhone), which this version of Keepsake cannot show yet. It is kept safe in the vault as it is.',
      }
    : {
        attention: 'damaged',
        attentionDetail: damagedWords('photo', 'open it'),
        attentionTechnical: reason(err),
      };
}

/** ISO BMFF with a HEIF brand (`ftypheic`, `ftypmif1`, …). */
function isHeif(bytes: Buffer): boolean {
  return (
    bytes.length >= 12 &&
    bytes.toString('latin1', 4, 8) === 'ftyp' &&
    /^(heic|heix|hevc|hevx|heim|heis|mif1|msf1)$/.test(bytes.toString('latin1', 8, 12))
  );
}

function reason(err: unknown): string {
  const text = err instanceof Error ? err.message : String(err);
  return text
    .split('\n')[0]!
    .replace(/^Input (buffer|file) /, '')
    .slice(0, 120);
}
