// An AVIF photo, which FFmpeg cannot write into the vault: its AVIF muxer must seek back
// to finish a file, and every output streams into the encrypting sink, which cannot seek
// (ffmpeg/output-sink.ts). So photo-web has FFmpeg decode and scale the photo in its box,
// as for every format, and write the picture as a PNG; the engine then encodes that PNG
// as AVIF with libvips (sharp, whose build carries libaom), in memory, before the output
// is sealed. No picture of it is ever written to disk in the clear.
//
// The item's title and date go in as EXIF and XMP, as in a WebP or a JPEG. The EXIF block
// reaches libvips inside the PNG (an eXIf chunk), because libvips keeps a block it read
// as it is, while one given field by field is rewritten by libexif, which turns a title's
// "ö" into "o".

import { crc32 } from 'node:zlib';
import sharp from 'sharp';
import type { BodyRewrite } from '../ffmpeg/output-sink';

export interface AvifEncoding {
  /** sharp's AVIF quality, 1..100. */
  quality: number;
}

const PNG_SIGNATURE = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
/** photo-web's largest picture (its size cap, 8192, squared): FFmpeg never writes more. */
const MAX_PIXELS = 8192 * 8192;
/** The signature and the IHDR chunk, which every PNG starts with: 8 + 4 + 4 + 13 + 4. */
const PNG_HEAD = 33;

/** `png` with an eXIf chunk holding `exif` (a TIFF-structured block) after its IHDR. */
export function withPngExif(png: Buffer, exif: Buffer): Buffer {
  if (!png.subarray(0, 8).equals(PNG_SIGNATURE) || png.toString('latin1', 12, 16) !== 'IHDR') {
    throw new Error('FFmpeg did not write a PNG');
  }
  const chunk = Buffer.alloc(12 + exif.length);
  chunk.writeUInt32BE(exif.length, 0);
  chunk.write('eXIf', 4, 'latin1');
  exif.copy(chunk, 8);
  chunk.writeUInt32BE(crc32(chunk.subarray(4, 8 + exif.length)), 8 + exif.length);
  return Buffer.concat([png.subarray(0, PNG_HEAD), chunk, png.subarray(PNG_HEAD)]);
}

/** The AVIF of a PNG, carrying `metadata` and nothing else of the PNG's. */
export async function encodeAvif(
  png: Buffer,
  metadata: { exif?: Buffer | undefined; xmp?: Buffer | undefined },
  encoding: AvifEncoding,
): Promise<Buffer> {
  const source = metadata.exif ? withPngExif(png, metadata.exif) : png;
  let image = sharp(source, { failOn: 'error', limitInputPixels: MAX_PIXELS }).avif({
    quality: encoding.quality,
    // A photo's colour at half resolution, as a JPEG's: smaller, and faster to make.
    chromaSubsampling: '4:2:0',
    // libaom's effort: 3 made a 2048 × 1536 picture in 0.95 s here, 6 % larger than the
    // default 4, which took 3.7 s (2 was 0.52 s and 15 % larger).
    effort: 3,
  });
  if (metadata.exif) image = image.keepExif();
  if (metadata.xmp) image = image.withXmp(metadata.xmp.toString('utf8'));
  return image.toBuffer();
}

/**
 * The sink's rewrite of the PNG FFmpeg wrote into the AVIF it stands for. The PNG is held
 * in memory until it is whole (at most the preset's size cap squared, 4 bytes a pixel).
 */
export function avifRewrite(
  metadata: { exif?: Buffer | undefined; xmp?: Buffer | undefined },
  encoding: AvifEncoding,
): BodyRewrite {
  const parts: Buffer[] = [];
  let encoded: Buffer | undefined;
  return {
    see: (part) => {
      parts.push(part);
    },
    async size() {
      const png = Buffer.concat(parts);
      parts.length = 0;
      try {
        encoded = await encodeAvif(png, metadata, encoding);
      } finally {
        png.fill(0);
      }
      return encoded.length;
    },
    async *rewrite(body) {
      // The PNG is read again (from the sink's spool, when it was large): read to its end,
      // so the spool's file is closed, and dropped.
      for await (const part of body) void part;
      if (!encoded) throw new Error('the AVIF was not made');
      yield encoded;
    },
  };
}
