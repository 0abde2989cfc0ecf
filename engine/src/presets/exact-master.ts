// The exact master: the archival standard for digitised tapes (FFV1 version 3 with a CRC
// in every slice, FLAC sound, in Matroska). Every frame is stored whole (`-g 1`), so a
// damaged stretch loses only its own frames and the CRCs say which; nothing is thrown
// away, so the tape can be restored again some day with better tools. The job proves it:
// the decoded master must equal the decoded source frame for frame (a `lossless` check,
// jobs/verify-lossless.ts), or the job fails.
//
// The picture is written as it is decoded: no filters, so its sample aspect ratio, colour
// tags and pixel format carry over. FFmpeg re-labels interlaced pictures it encodes as
// `tb`/`bt` whatever the source said, so the source's own field order is stated again.

import {
  definePreset,
  keepMetadataParam,
  metadataArgs,
  requireEncoder,
  singleOutput,
  streamedMatroskaArgs,
  type BuildContext,
} from './preset';

/**
 * Picture and sound coded exactly: every frame as decoded (none dropped or repeated to
 * even out the rate), each stored whole with a CRC in every slice, the source's field
 * order stated again, sound in FLAC. Shared with the clips of a tape (clip.ts).
 */
export function exactCodingArgs(ctx: BuildContext, preset: string): string[] {
  const fieldOrder = ctx.media.fieldOrder;
  return [
    '-fps_mode',
    'passthrough',
    '-c:v',
    requireEncoder(ctx, preset, 'ffv1'),
    '-level',
    '3',
    '-g',
    '1',
    '-slices',
    '16',
    '-slicecrc',
    '1',
    ...(fieldOrder ? ['-field_order', fieldOrder] : []),
    ...(ctx.media.hasAudio ? ['-c:a', requireEncoder(ctx, preset, 'flac')] : []),
  ];
}

export const exactMaster = definePreset({
  name: 'exact-master',
  description:
    'Exact master in FFV1 and FLAC (Matroska): every frame kept exactly, checked against the source.',
  scopes: ['jobs:run'],
  accepts: 'video',
  params: {
    keepMetadata: keepMetadataParam,
  },
  build(ctx, p) {
    const output = 'master.mkv';
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
        ...exactCodingArgs(ctx, 'exact-master'),
        ...streamedMatroskaArgs(ctx),
        '-f',
        'matroska',
      ],
      { inputs: metadata.inputs },
    );
    built.steps[0]!.checks = [{ kind: 'lossless', output }];
    return built;
  },
});
