import { KeepsakeError } from '../core/errors';
import {
  definePreset,
  keepMetadataParam,
  metadataArgs,
  qualityCheck,
  requireEncoder,
  singleOutput,
  streamedMatroskaArgs,
  type BuildContext,
} from './preset';
import { invalid, type CropBox } from './params';

/** hqdn3d strengths (luma spatial : chroma spatial : luma temporal : chroma temporal). */
export const DENOISE: Record<string, string | undefined> = {
  off: undefined,
  light: 'hqdn3d=2:1.5:3:2.25',
  medium: 'hqdn3d=4:3:6:4.5',
  strong: 'hqdn3d=8:6:12:9',
};

/**
 * The other denoisers, by strength: non-local means (slower, keeps edges better) and
 * BM3D (slowest and best; only in FFmpeg builds that have it).
 */
const BETTER_DENOISE: Record<string, Record<string, string | undefined>> = {
  nlmeans: {
    off: undefined,
    light: 'nlmeans=s=1.5:p=7:r=9',
    medium: 'nlmeans=s=3:p=7:r=9',
    strong: 'nlmeans=s=5:p=7:r=9',
  },
  bm3d: { off: undefined, light: 'bm3d=sigma=3', medium: 'bm3d=sigma=6', strong: 'bm3d=sigma=10' },
};

export const DEINTERLACE: Record<string, string | undefined> = {
  /** Only the pictures the source marks interlaced (for web-h264; a tape is all of them). */
  auto: 'bwdif=mode=send_frame:parity=auto:deint=interlaced',
  bwdif: 'bwdif=mode=send_frame:parity=auto:deint=all',
  yadif: 'yadif=mode=send_frame:parity=auto:deint=all',
  none: undefined,
};

/** One picture per field: 50 a second from a PAL tape, 60 from NTSC; motion stays fluid. */
const DEINTERLACE_FIELDS: Record<string, string | undefined> = {
  bwdif: 'bwdif=mode=send_field:parity=auto:deint=all',
  yadif: 'yadif=mode=send_field:parity=auto:deint=all',
  none: undefined,
};

/**
 * The quality gate (jobs/verify-source.ts) compares the encode with the source put
 * through the same deinterlacer, crop and denoiser, so it measures what the encoding lost,
 * not the restoration's taste. PSNR separates a sound encode (above 31 dB even at the
 * lowest quality offered, on noisy test tapes) from a broken one (below 20 dB); SSIM falls
 * on noise a denoiser leaves to the encoder, so its floor only catches a ruined picture.
 */
const MIN_SSIM = 0.6;
const MIN_PSNR = 28;
/**
 * VMAF (0..100) where this FFmpeg measures it. Not measured on the machines these floors
 * were set on (Debian's FFmpeg has no libvmaf, and the npm-packaged FFmpeg's libvmaf has no
 * model file), so the floor is set low, from the scale's meaning: under 40 is a picture
 * people call bad; a sound encode of a denoised picture stays far above it.
 */
const MIN_VMAF = 40;

export const vhsRestore = definePreset({
  name: 'vhs-restore',
  description:
    'Restores digitised tapes: deinterlace, optional denoise, overscan crop, aspect fix and loudness normalisation; the result is checked against the tape.',
  scopes: ['jobs:run'],
  accepts: 'video',
  params: {
    deinterlace: {
      type: 'enum',
      values: ['bwdif', 'yadif', 'none'],
      default: 'bwdif',
      description: 'Deinterlacer',
    },
    fieldOrder: {
      type: 'enum',
      values: ['auto', 'tff', 'bff'],
      default: 'auto',
      description:
        'Which half of each picture the tape holds first: as the file says (auto), top first (tff) or bottom first (bff); a tape analysis finds it',
    },
    motion: {
      type: 'enum',
      values: ['frame', 'field'],
      default: 'frame',
      description:
        'Pictures per second: one per frame (25 or 30, smaller), or one per field (50 or 60, smoother motion)',
    },
    denoise: {
      type: 'enum',
      values: ['off', 'light', 'medium', 'strong'],
      default: 'light',
      description: 'Noise reduction strength',
    },
    denoiser: {
      type: 'enum',
      values: ['hqdn3d', 'nlmeans', 'bm3d'],
      default: 'hqdn3d',
      description:
        'Noise reduction method: hqdn3d (fast), nlmeans (slower, sharper), bm3d (slowest, best; not in every FFmpeg)',
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
    hiss: { type: 'boolean', default: false, description: 'Reduce tape hiss in the sound' },
    crf: {
      type: 'integer',
      min: 10,
      max: 30,
      default: 18,
      description: 'Quality (lower is better and larger)',
    },
    codec: {
      type: 'enum',
      values: ['h264', 'hevc'],
      default: 'h264',
      description: 'Video format: H.264 (plays everywhere) or HEVC (smaller)',
    },
    tenBit: { type: 'boolean', default: false, description: 'Encode in 10-bit colour' },
    keepMetadata: keepMetadataParam,
  },
  build(ctx, p) {
    if (p.crop) checkCrop(p.crop, ctx.media.width, ctx.media.height);
    // Every piece of this filter chain comes from a table or from validated integers.
    // The field order the tape was found to have, when the file's flags cannot be trusted
    // (captures often say "progressive" or nothing): the value is one of the enum's.
    const deinterlacer = (p.motion === 'field' ? DEINTERLACE_FIELDS : DEINTERLACE)[
      p.deinterlace
    ]?.replace('parity=auto', `parity=${p.fieldOrder}`);
    const reference = [
      deinterlacer,
      p.crop ? `crop=${p.crop.width}:${p.crop.height}:${p.crop.x}:${p.crop.y}` : undefined,
      denoiseFilter(ctx, p.denoiser, p.denoise),
    ].filter((f): f is string => f !== undefined);
    const filters = [
      ...reference,
      p.aspect === 'keep' ? undefined : `setdar=${p.aspect.replace(':', '/')}`,
      p.tenBit ? 'format=yuv420p10le' : 'format=yuv420p',
    ].filter((f): f is string => f !== undefined);
    const audioFilters = [
      p.hiss ? 'afftdn=nr=12:nf=-40' : undefined,
      p.loudnorm ? 'loudnorm=I=-16:TP=-1.5:LRA=11' : undefined,
    ].filter((f): f is string => f !== undefined);
    const output = 'restored.mkv';
    const metadata = metadataArgs(ctx, p.keepMetadata, 'matroska');
    const built = singleOutput(
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
        ...videoCodecArgs(ctx, p.codec, p.tenBit),
        '-crf',
        String(p.crf),
        ...(ctx.media.hasAudio
          ? [
              ...(audioFilters.length > 0 ? ['-af', audioFilters.join(',')] : []),
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
    built.steps[0]!.checks = [
      qualityCheck(ctx, {
        output,
        reference,
        minSsim: MIN_SSIM,
        minPsnr: MIN_PSNR,
        minVmaf: MIN_VMAF,
      }),
    ];
    return built;
  },
});

function denoiseFilter(ctx: BuildContext, denoiser: string, strength: string): string | undefined {
  if (denoiser === 'hqdn3d') return DENOISE[strength];
  const filter = BETTER_DENOISE[denoiser]?.[strength];
  // Absent from the listing only when it was read and lacks it; unknown builds are tried.
  if (filter && ctx.filters && !ctx.filters.has(denoiser)) {
    throw new KeepsakeError(
      'FEATURE_UNAVAILABLE',
      `this FFmpeg has no ${denoiser} noise reduction; choose hqdn3d or nlmeans`,
    );
  }
  return filter;
}

/** x264 or x265; 10-bit asks for the profile that holds it (High 10, Main 10). */
function videoCodecArgs(ctx: BuildContext, codec: string, tenBit: boolean): string[] {
  const hevc = codec === 'hevc';
  return [
    '-c:v',
    requireEncoder(ctx, 'vhs-restore', hevc ? 'libx265' : 'libx264'),
    '-preset',
    'slow',
    ...(tenBit ? ['-profile:v', hevc ? 'main10' : 'high10'] : []),
  ];
}

/**
 * The picture size is known only once the source is probed, so this is checked then. The
 * box's width and height must be even: the encoders store colour at half resolution.
 */
function checkCrop(crop: CropBox, width?: number, height?: number): void {
  if (crop.width % 2 !== 0 || crop.height % 2 !== 0) {
    throw invalid(
      'crop',
      `the box ${crop.width}×${crop.height} must have an even width and height`,
    );
  }
  if (width === undefined || height === undefined) return;
  if (crop.x + crop.width > width || crop.y + crop.height > height) {
    throw invalid(
      'crop',
      `the box ${crop.width}×${crop.height} at ${crop.x},${crop.y} does not fit the ${width}×${height} picture`,
    );
  }
}
