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

/**
 * The quality gate (jobs/verify-quality.ts): the copy against the source, unfiltered.
 * Measured on 6 s of 720×576 lavfi testsrc2 (SVT-AV1 preset 8, 10-bit), PSNR dB / SSIM:
 *   clean: CRF 32 46.3/0.996, 45 38.9/0.985, 55 35.6/0.974, 63 (the worst offered) 33.0/0.956;
 *   noisy (noise=alls=25:allf=t+u): CRF 32 31.8/0.692, 45 30.4/0.584, 55 29.7/0.576,
 *     63 28.9/0.566;
 *   a crushed encode (x265 at 8 kb/s): clean 22.6/0.892, noisy 21.9/0.509.
 * PSNR separates every quality offered from a crushed encode; SSIM falls on grain that
 * any encoder drops, so its floor only catches a ruined picture. VMAF was not measured on
 * those machines (see vhs-restore.ts); its floor is set from the scale's meaning.
 */
const GATE = { minSsim: 0.5, minPsnr: 26, minVmaf: 40 };

export const archiveAv1 = definePreset({
  name: 'archive-av1',
  description: 'Archive copy in AV1 in Matroska: SVT-AV1 where this FFmpeg has it, else libaom.',
  scopes: ['jobs:run'],
  accepts: 'video',
  params: {
    crf: {
      type: 'integer',
      min: 0,
      max: 63,
      default: 32,
      description: 'Quality (lower is better and larger)',
    },
    speed: {
      type: 'integer',
      min: 0,
      max: 12,
      default: 6,
      description: 'Encoder speed (higher is faster)',
    },
    tenBit: { type: 'boolean', default: true, description: 'Encode in 10-bit colour' },
    audio: {
      type: 'enum',
      values: ['copy', 'opus'],
      default: 'opus',
      description: 'Audio: copy as is, or Opus',
    },
    keepMetadata: keepMetadataParam,
  },
  build(ctx, p) {
    const encoder = requireEncoder(ctx, 'archive-av1', 'libsvtav1', 'libaom-av1');
    // libaom's cpu-used runs 0..8; SVT-AV1's preset runs 0..12. FFmpeg 4.x still marks
    // libaom as experimental, hence -strict (harmless on newer builds).
    const speed =
      encoder === 'libsvtav1'
        ? ['-preset', String(p.speed)]
        : [
            '-cpu-used',
            String(Math.min(p.speed, 8)),
            '-row-mt',
            '1',
            '-b:v',
            '0',
            '-strict',
            'experimental',
          ];
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
        encoder,
        ...speed,
        '-crf',
        String(p.crf),
        '-pix_fmt',
        p.tenBit ? 'yuv420p10le' : 'yuv420p',
        ...audioArgs(ctx, p.audio),
        ...streamedMatroskaArgs(ctx),
        '-f',
        'matroska',
      ],
      { notes: [`AV1 encoder: ${encoder}`], inputs: metadata.inputs },
    );
    built.steps[0]!.checks = [qualityCheck(ctx, { output, reference: [], ...GATE })];
    return built;
  },
});
