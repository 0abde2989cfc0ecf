import {
  definePreset,
  keepMetadataParam,
  metadataArgs,
  requireEncoder,
  singleOutput,
  streamedMatroskaArgs,
} from './preset';
import { invalid, type CropBox } from './params';

/** hqdn3d strengths (luma spatial : chroma spatial : luma temporal : chroma temporal). */
export const DENOISE: Record<string, string | undefined> = {
  off: undefined,
  light: 'hqdn3d=2:1.5:3:2.25',
  medium: 'hqdn3d=4:3:6:4.5',
  strong: 'hqdn3d=8:6:12:9',
};

export const DEINTERLACE: Record<string, string | undefined> = {
  /** Only the pictures the source marks interlaced (for web-h264; a tape is all of them). */
  auto: 'bwdif=mode=send_frame:parity=auto:deint=interlaced',
  bwdif: 'bwdif=mode=send_frame:parity=auto:deint=all',
  yadif: 'yadif=mode=send_frame:parity=auto:deint=all',
  none: undefined,
};

export const vhsRestore = definePreset({
  name: 'vhs-restore',
  description:
    'Restores digitised tapes: deinterlace, optional denoise, overscan crop, aspect fix and loudness normalisation.',
  scopes: ['jobs:run'],
  accepts: 'video',
  params: {
    deinterlace: {
      type: 'enum',
      values: ['bwdif', 'yadif', 'none'],
      default: 'bwdif',
      description: 'Deinterlacer',
    },
    denoise: {
      type: 'enum',
      values: ['off', 'light', 'medium', 'strong'],
      default: 'light',
      description: 'Noise reduction (hqdn3d)',
    },
    crop: {
      type: 'crop',
      default: null,
      description: 'Overscan crop box W:H:X:Y (after deinterlacing), or none',
    },
    aspect: {
      type: 'enum',
      values: ['keep', '4:3', '16:9'],
      default: '4:3',
      description: 'Display aspect ratio',
    },
    loudnorm: { type: 'boolean', default: true, description: 'Normalise loudness (EBU R128)' },
    crf: {
      type: 'integer',
      min: 10,
      max: 30,
      default: 18,
      description: 'Quality (lower is better and larger)',
    },
    keepMetadata: keepMetadataParam,
  },
  build(ctx, p) {
    if (p.crop) checkCropFits(p.crop, ctx.media.width, ctx.media.height);
    // Every piece of this filter chain comes from a table or from validated integers.
    const filters = [
      DEINTERLACE[p.deinterlace],
      p.crop ? `crop=${p.crop.width}:${p.crop.height}:${p.crop.x}:${p.crop.y}` : undefined,
      DENOISE[p.denoise],
      p.aspect === 'keep' ? undefined : `setdar=${p.aspect.replace(':', '/')}`,
      'format=yuv420p',
    ].filter((f): f is string => f !== undefined);
    const output = 'restored.mkv';
    const metadata = metadataArgs(ctx, p.keepMetadata, 'matroska');
    return singleOutput(
      ctx,
      output,
      [
        '-map',
        '0:v:0',
        '-map',
        '0:a:0?',
        ...metadata.map,
        '-vf',
        filters.join(','),
        '-c:v',
        requireEncoder(ctx, 'vhs-restore', 'libx264'),
        '-preset',
        'slow',
        '-crf',
        String(p.crf),
        ...(ctx.media.hasAudio
          ? [
              ...(p.loudnorm ? ['-af', 'loudnorm=I=-16:TP=-1.5:LRA=11'] : []),
              '-c:a',
              'aac',
              '-b:a',
              '192k',
            ]
          : []),
        ...streamedMatroskaArgs(ctx),
        '-f',
        'matroska',
      ],
      { inputs: metadata.inputs },
    );
  },
});

/** The picture size is known only once the source is probed, so this is checked then. */
function checkCropFits(crop: CropBox, width?: number, height?: number): void {
  if (width === undefined || height === undefined) return;
  if (crop.x + crop.width > width || crop.y + crop.height > height) {
    throw invalid(
      'crop',
      `the box ${crop.width}×${crop.height} at ${crop.x},${crop.y} does not fit the ${width}×${height} picture`,
    );
  }
}
