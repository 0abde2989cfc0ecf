import {
  definePreset,
  audioArgs,
  keepMetadataParam,
  metadataArgs,
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
  },
});
