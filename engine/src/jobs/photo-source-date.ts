// A photo's own capture date (EXIF DateTimeOriginal and its offset), read from the first
// bytes of the job's input, for the photo outputs FFmpeg writes without any metadata
// (WebP): with "keep metadata" on, a photo converted outside the library keeps its date.
// Only JPEG and TIFF are read: their EXIF is near the start and plain TIFF, while exifr's
// container parsers can loop on some damaged HEIF headers (library/photo-info.ts).

import exifr from 'exifr';

/** Bytes of the input read for it: a JPEG's EXIF (APP1) is at most 64 KiB, near the start. */
export const PHOTO_HEAD_BYTES = 256 * 1024;

const EXIF_DATE = /^(\d{4}):(\d{2}):(\d{2}) (\d{2}):(\d{2}):(\d{2})$/;
const OFFSET = /^[+-]\d{2}:\d{2}$/;

function isJpegOrTiff(head: Buffer): boolean {
  if (head.length < 4) return false;
  if (head[0] === 0xff && head[1] === 0xd8) return true;
  const magic = head.toString('latin1', 0, 4);
  return magic === 'II*\0' || magic === 'MM\0*';
}

/**
 * The capture date as the library writes dates (`2019-08-12T14:30:00`, with `+02:00`
 * when the camera wrote its offset), or undefined: no EXIF, no date, or a blank one.
 */
export async function photoSourceDate(head: Buffer): Promise<string | undefined> {
  if (!isJpegOrTiff(head)) return undefined;
  const tags = (await exifr
    .parse(head, { pick: ['DateTimeOriginal', 'OffsetTimeOriginal'], reviveValues: false })
    .catch(() => undefined)) as
    { DateTimeOriginal?: unknown; OffsetTimeOriginal?: unknown } | undefined;
  const text = typeof tags?.DateTimeOriginal === 'string' ? tags.DateTimeOriginal.trim() : '';
  const m = EXIF_DATE.exec(text);
  if (!m) return undefined;
  const [, y, mo, d, h, mi, s] = m;
  if (+y! < 1826 || +mo! < 1 || +mo! > 12 || +d! < 1 || +d! > 31) return undefined;
  const offset =
    typeof tags?.OffsetTimeOriginal === 'string' && OFFSET.test(tags.OffsetTimeOriginal.trim())
      ? tags.OffsetTimeOriginal.trim()
      : '';
  return `${y}-${mo}-${d}T${h}:${mi}:${s}${offset}`;
}
