import {
  definePreset,
  keepMetadataParam,
  metadataArgs,
  singleOutput,
  streamedMatroskaArgs,
  streamedMp4Flags,
} from './preset';

export const remux = definePreset({
  name: 'remux',
  description: 'Copies the streams into a new container without re-encoding (MKV or MP4).',
  scopes: ['jobs:run'],
  accepts: 'video',
  params: {
    container: {
      type: 'enum',
      values: ['mkv', 'mp4'],
      default: 'mkv',
      description: 'Target container',
    },
    keepMetadata: keepMetadataParam,
  },
  build(ctx, p) {
    const mp4 = p.container === 'mp4';
    const output = mp4 ? 'remux.mp4' : 'remux.mkv';
    const metadata = metadataArgs(ctx, p.keepMetadata, mp4 ? 'mp4' : 'matroska');
    return singleOutput(
      ctx,
      output,
      [
        // MP4 holds video and audio; Matroska takes every stream (subtitles, attachments).
        ...(mp4 ? ['-map', '0:v?', '-map', '0:a?'] : ['-map', '0']),
        ...metadata.map,
        '-c',
        'copy',
        ...(mp4
          ? ['-movflags', streamedMp4Flags(false), '-f', 'mp4']
          : [...streamedMatroskaArgs(ctx), '-f', 'matroska']),
      ],
      { inputs: metadata.inputs },
    );
  },
});
