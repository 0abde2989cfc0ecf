import {
  definePreset,
  keepMetadataParam,
  metadataArgs,
  qualityCheck,
  requireEncoder,
  singleOutput,
  streamedMp4Flags,
} from './preset';
import {
  chooseH264Encoder,
  encoderParam,
  hardwareEncoderArgs,
  hardwareNote,
  hardwareQualityArgs,
  profileArgs,
} from './hw-video';
import { DENOISE, DEINTERLACE } from './vhs-restore';

/**
 * The quality gate (jobs/verify-quality.ts): the copy against the source put through the
 * same deinterlacer, denoiser and scaling. Measured on 6 s of 720×576 lavfi testsrc2
 * (x264 medium), PSNR dB / SSIM: clean CRF 23 43.7/0.995, 32 (the worst offered)
 * 36.9/0.977; noisy (noise=alls=25:allf=t+u) CRF 23 33.2/0.828, 32 29.9/0.574; a crushed
 * encode (x265 at 8 kb/s) 22.6/0.892 clean, 21.9/0.509 noisy. PSNR separates them; SSIM
 * falls on grain any encoder drops, so its floor only catches a ruined picture. VMAF: see
 * vhs-restore.ts.
 */
const GATE = { minSsim: 0.5, minPsnr: 26, minVmaf: 40 };

export const webH264 = definePreset({
  name: 'web-h264',
  description:
    'H.264 + AAC in MP4 that starts playing at once: plays everywhere, streams while downloading.',
  scopes: ['jobs:run'],
  accepts: 'video',
  params: {
    crf: {
      type: 'integer',
      min: 16,
      max: 32,
      default: 23,
      description: 'Quality (lower is better and larger)',
    },
    maxHeight: {
      type: 'enum',
      values: ['360', '480', '720', '1080', '2160', 'original'],
      default: '1080',
      description: 'Largest picture height (never upscales)',
    },
    // The restoration knobs of vhs-restore, off by default, so that a watchable copy of a
    // tape can be made straight from the tape with the restored copy's settings (the
    // "Preserve this tape" goal, goals.ts) instead of waiting for the restored copy.
    deinterlace: {
      type: 'enum',
      values: ['none', 'auto', 'bwdif', 'yadif'],
      default: 'none',
      description: 'Deinterlacer (auto: only pictures marked interlaced)',
    },
    denoise: {
      type: 'enum',
      values: ['off', 'light', 'medium', 'strong'],
      default: 'off',
      description: 'Noise reduction (hqdn3d)',
    },
    aspect: {
      type: 'enum',
      values: ['keep', '4:3', '16:9'],
      default: 'keep',
      description: 'Display aspect ratio',
    },
    loudnorm: { type: 'boolean', default: false, description: 'Normalise loudness (EBU R128)' },
    keepMetadata: keepMetadataParam,
    encoder: encoderParam,
  },
  build(ctx, p) {
    // Heights only come from the enum; the filter text is ours, never the client's.
    const scale =
      p.maxHeight === 'original'
        ? 'scale=trunc(iw/2)*2:trunc(ih/2)*2'
        : `scale=-2:'min(ih,${Number(p.maxHeight)})'`;
    const filters = [
      DEINTERLACE[p.deinterlace],
      DENOISE[p.denoise],
      scale,
      p.aspect === 'keep' ? undefined : `setdar=${p.aspect.replace(':', '/')}`,
    ].filter((f): f is string => f !== undefined);
    const output = 'web.mp4';
    const metadata = metadataArgs(ctx, p.keepMetadata, 'mp4');
    const chip = chooseH264Encoder(ctx, p.encoder, 'web-h264');
    const hw = chip && hardwareEncoderArgs(chip);
    const height =
      p.maxHeight === 'original'
        ? ctx.media.height
        : Math.min(ctx.media.height, Number(p.maxHeight));
    const video =
      chip && hw
        ? [...hw.codec, ...hardwareQualityArgs(chip, p.crf, height), ...profileArgs(chip)]
        : [
            '-c:v',
            requireEncoder(ctx, 'web-h264', 'libx264'),
            '-preset',
            'medium',
            '-crf',
            String(p.crf),
            '-profile:v',
            'high',
            '-pix_fmt',
            'yuv420p',
          ];
    const built = singleOutput(
      ctx,
      output,
      [
        ...(hw?.device ?? []),
        '-map',
        '0:v:0',
        '-map',
        '0:a:0?',
        ...metadata.map,
        '-vf',
        [...filters, ...(hw ? [hw.upload] : [])].join(','),
        ...video,
        ...(ctx.media.hasAudio
          ? [
              ...(p.loudnorm ? ['-af', 'loudnorm=I=-16:TP=-1.5:LRA=11'] : []),
              ...['-c:a', 'aac', '-b:a', '160k', '-ac', '2'],
            ]
          : []),
        '-movflags',
        streamedMp4Flags(p.keepMetadata),
        '-f',
        'mp4',
      ],
      { inputs: metadata.inputs, notes: chip ? [hardwareNote(chip)] : [] },
    );
    if (chip) built.steps[0]!.hardware = chip.name;
    // The shape (setdar) is stated, not drawn: the gate compares square pixels anyway.
    const reference = filters.filter((f) => !f.startsWith('setdar='));
    built.steps[0]!.checks = [qualityCheck(ctx, { output, reference, ...GATE, demuxer: 'mov' })];
    return built;
  },
});
