import {
  definePreset,
  audioArgs,
  keepMetadataParam,
  metadataArgs,
  qualityCheck,
  requireEncoder,
  singleOutput,
  streamedMatroskaArgs,
} from './preset';

export const X265_SPEEDS = [
  'ultrafast',
  'superfast',
  'veryfast',
  'faster',
  'fast',
  'medium',
  'slow',
  'slower',
  'veryslow',
] as const;

/**
 * The quality gate (jobs/verify-quality.ts): the copy against the source, unfiltered.
 * Measured on 6 s of 720×576 lavfi testsrc2 (x265 medium, 8-bit), PSNR dB / SSIM:
 *   clean: CRF 22 45.7/0.996, 35 35.1/0.973, 45 31.1/0.943, 51 (the worst offered) 28.6/0.907;
 *   noisy (noise=alls=25:allf=t+u): CRF 22 33.0/0.795, 35 29.3/0.571, 45 27.2/0.539,
 *     51 25.4/0.511;
 *   crushed (8 kb/s): clean 22.6/0.892, noisy 21.9/0.509.
 * PSNR separates every quality offered from a crushed encode; SSIM falls on grain that
 * any encoder drops, so its floor only catches a ruined picture. VMAF was not measured on
 * those machines (see vhs-restore.ts); its floor is set from the scale's meaning.
 */
const GATE = { minSsim: 0.45, minPsnr: 26, minVmaf: 40 };

export const archiveHevc = definePreset({
  name: 'archive-hevc',
  description: 'Archive copy in HEVC (x265) in Matroska: small files at high quality.',
  scopes: ['jobs:run'],
  accepts: 'video',
  params: {
    crf: {
      type: 'integer',
      min: 0,
      max: 51,
      default: 22,
      description: 'Quality (lower is better and larger)',
    },
    speed: {
      type: 'enum',
      values: X265_SPEEDS,
      default: 'slow',
      description: 'Encoder speed preset',
    },
    tenBit: { type: 'boolean', default: false, description: 'Encode in 10-bit colour' },
    audio: {
      type: 'enum',
      values: ['copy', 'aac', 'opus'],
      default: 'copy',
      description: 'Audio: copy as is, or re-encode',
    },
    keepMetadata: keepMetadataParam,
  },
  build(ctx, p) {
    const output = 'archive.mkv';
    const metadata = metadataArgs(ctx, p.keepMetadata, 'matroska');
    const built = singleOutput(
      ctx,
      output,
      [
        '-map',
        '0:v:0',
        '-map',
        '0:a?',
        ...metadata.map,
        '-c:v',
        requireEncoder(ctx, 'archive-hevc', 'libx265'),
        '-preset',
        p.speed,
        '-crf',
        String(p.crf),
        '-pix_fmt',
        p.tenBit ? 'yuv420p10le' : 'yuv420p',
        ...audioArgs(ctx, p.audio),
        ...streamedMatroskaArgs(ctx),
        '-f',
        'matroska',
      ],
      { inputs: metadata.inputs },
    );
    built.steps[0]!.checks = [qualityCheck(ctx, { output, reference: [], ...GATE })];
    return built;
  },
});
