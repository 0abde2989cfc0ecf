import {
  definePreset,
  audioArgs,
  keepMetadataParam,
  metadataArgs,
  requireEncoder,
  singleOutput,
  streamedMatroskaArgs,
} from './preset';

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
    return singleOutput(
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
  },
});
