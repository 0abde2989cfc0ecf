import { KeepsakeError } from '../core/errors';
import {
  definePreset,
  inputArgs,
  keepMetadataParam,
  sourceMetadataArgs,
  outPath,
  requireEncoder,
} from './preset';

export const photoWeb = definePreset({
  name: 'photo-web',
  description: 'A still image for the web: WebP or AVIF, no larger than a size cap.',
  scopes: ['jobs:run'],
  accepts: 'image',
  params: {
    format: {
      type: 'enum',
      values: ['webp', 'avif'],
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
      '-vf',
      scale,
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
    if (!ctx.muxers.has('avif')) {
      throw new KeepsakeError(
        'FEATURE_UNAVAILABLE',
        'this FFmpeg build cannot write AVIF (needs FFmpeg 6 or newer); choose webp',
      );
    }
    const encoder = requireEncoder(ctx, 'photo-web', 'libsvtav1', 'libaom-av1');
    // Map quality 1..100 onto AV1's crf 63..0.
    const crf = Math.round(63 - (p.quality * 63) / 100);
    return {
      notes: [`AVIF encoder: ${encoder}`],
      steps: [
        {
          outputs: ['photo.avif'],
          args: [
            ...head,
            '-c:v',
            encoder,
            ...(encoder === 'libaom-av1' ? ['-strict', 'experimental'] : []),
            '-crf',
            String(crf),
            '-still-picture',
            '1',
            '-f',
            'avif',
            outPath(ctx, 'photo.avif'),
          ],
        },
      ],
    };
  },
});
