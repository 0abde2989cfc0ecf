import {
  definePreset,
  inputArgs,
  keepMetadataParam,
  sourceMetadataArgs,
  outPath,
  requireEncoder,
} from './preset';

/**
 * A quality of 1..100 as mjpeg's quantiser scale, 2..31, so that it means what it means
 * in libjpeg (and so in every photo tool): libjpeg scales its base tables by 5000/q %
 * below 50 and by (200 - 2q) % above, and FFmpeg's mjpeg scales its own base tables
 * (MPEG's default intra matrix, close to libjpeg's at 50) by qscale / 8, as the tables it
 * writes show. So 50 is qscale 8, 75 is 4, the default 80 is 3, and 85 and up are 2, the
 * finest FFmpeg allows without strict mode; 13 and below are the coarsest, 31.
 */
function mjpegQscale(quality: number): number {
  const percent = quality < 50 ? 5000 / quality : 200 - 2 * quality;
  return Math.min(31, Math.max(2, Math.round((8 * percent) / 100)));
}

/**
 * A quality of 1..100, as for JPEG and WebP, on sharp's AVIF scale, which reaches the same
 * look at lower numbers (its own default is 50): up to the default 80 (52) about two
 * thirds of it, and from there straight up to 100, the finest, at 100.
 */
function avifQuality(quality: number): number {
  if (quality <= 80) return Math.max(1, Math.round(quality * 0.65));
  return Math.round(52 + (quality - 80) * 2.4);
}

export const photoWeb = definePreset({
  name: 'photo-web',
  description: 'A still image for the web: WebP, JPEG or AVIF, no larger than a size cap.',
  scopes: ['jobs:run'],
  accepts: 'image',
  params: {
    format: {
      type: 'enum',
      values: ['webp', 'jpeg', 'avif'],
      default: 'webp',
      description: 'Output format',
    },
    maxDimension: {
      type: 'integer',
      min: 64,
      max: 8192,
      default: 2048,
      description: 'Longest side in pixels (never upscales)',
    },
    quality: {
      type: 'integer',
      min: 1,
      max: 100,
      default: 80,
      description: 'Quality (higher is better and larger)',
    },
    keepMetadata: keepMetadataParam,
  },
  build(ctx, p) {
    const m = p.maxDimension;
    const scale = `scale=w='min(iw,${m})':h='min(ih,${m})':force_original_aspect_ratio=decrease`;
    const head = [
      ...inputArgs(ctx),
      '-map',
      '0:v:0',
      '-frames:v',
      '1',
      ...sourceMetadataArgs(p.keepMetadata),
    ];
    if (p.format === 'webp') {
      return {
        notes: [],
        steps: [
          {
            outputs: ['photo.webp'],
            // FFmpeg's WebP muxer writes no metadata at all: the engine adds the item's
            // title and date (EXIF, XMP) itself, or else the photo's own capture date.
            ...(p.keepMetadata ? { labelled: ['photo.webp'] } : {}),
            args: [
              ...head,
              '-vf',
              scale,
              '-c:v',
              requireEncoder(ctx, 'photo-web', 'libwebp'),
              '-quality',
              String(p.quality),
              '-f',
              'webp',
              outPath(ctx, 'photo.webp'),
            ],
          },
        ],
      };
    }
    if (p.format === 'jpeg') {
      return {
        notes: [],
        steps: [
          {
            outputs: ['photo.jpg'],
            // FFmpeg writes no EXIF or XMP into a JPEG either: the engine adds them, as
            // for WebP (ffmpeg/jpeg-metadata.ts).
            ...(p.keepMetadata ? { labelled: ['photo.jpg'] } : {}),
            args: [
              ...head,
              // A JPEG has no transparency: what a PNG leaves see-through is laid on
              // white, as photo viewers show it, not left to the colour hidden under it
              // (often black).
              '-vf',
              `${scale},format=rgba,split[bg][fg];[bg]drawbox=c=white:t=fill[white];[white][fg]overlay=format=rgb`,
              '-c:v',
              requireEncoder(ctx, 'photo-web', 'mjpeg'),
              // Full-range YUV, as every JPEG viewer expects (JFIF); FFmpeg 5.1's mjpeg
              // spells it as the yuvj formats.
              '-pix_fmt',
              'yuvj420p',
              '-q:v',
              String(mjpegQscale(p.quality)),
              '-f',
              'mjpeg',
              outPath(ctx, 'photo.jpg'),
            ],
          },
        ],
      };
    }
    // FFmpeg's AVIF muxer (FFmpeg 5.1 has one) must seek back to finish the file, and
    // every output streams into the encrypting sink, which cannot seek (the job hung on
    // "muxer does not support non seekable output"). So FFmpeg writes the scaled picture
    // as a PNG (quickly: it is only carried to the engine) and the engine encodes it as
    // AVIF in memory, with the title and date, before it is sealed (jobs/photo-avif.ts).
    return {
      notes: [],
      steps: [
        {
          outputs: ['photo.avif'],
          ...(p.keepMetadata ? { labelled: ['photo.avif'] } : {}),
          avif: { 'photo.avif': { quality: avifQuality(p.quality) } },
          args: [
            ...head,
            '-vf',
            scale,
            '-c:v',
            requireEncoder(ctx, 'photo-web', 'png'),
            '-compression_level',
            '1',
            '-f',
            'image2pipe',
            outPath(ctx, 'photo.avif'),
          ],
        },
      ],
    };
  },
});
