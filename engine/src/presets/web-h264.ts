import {
  definePreset,
  keepMetadataParam,
  metadataArgs,
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
    return built;
  },
});
