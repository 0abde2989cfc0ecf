// One clip of a tape (tape/clip-export.ts): the stretch between two times of the cut list,
// kept exactly, as the exact master keeps the whole tape (FFV1 with a CRC in every slice,
// FLAC sound, in Matroska). Decoding and encoding again, rather than copying packets, is
// what makes it frame-accurate whatever the tape was captured as: a copy of long-GOP MPEG
// could only start at a keyframe. The source is never written to.
//
// The times arrive as typed numbers (params.ts), never as text, and are checked against
// the probed length here.

import { exactCodingArgs } from './exact-master';
import { definePreset, inputArgs, keepMetadataParam, metadataArgs, outPath } from './preset';
import { invalid } from './params';

/** A day: no capture is longer, and it bounds what a client can ask for. */
const LONGEST = 86_400;

export const clip = definePreset({
  name: 'clip',
  description:
    'One stretch of a video, kept exactly (FFV1 and FLAC in Matroska): a clip of a tape.',
  scopes: ['jobs:run'],
  accepts: 'video',
  params: {
    start: {
      type: 'number',
      min: 0,
      max: LONGEST,
      default: 0,
      description: 'Where the clip starts, in seconds from the start of the video',
    },
    end: {
      type: 'number',
      min: 0,
      max: LONGEST,
      default: 0,
      description: 'Where the clip ends, in seconds from the start of the video (0: at its end)',
    },
    keepMetadata: keepMetadataParam,
  },
  build(ctx, p) {
    const length = ctx.media.durationSeconds;
    if (length > 0 && p.start >= length) {
      throw invalid('start', `is after the end of the video (${length.toFixed(3)} s)`);
    }
    // A cut list's last clip ends "at the end": the probe's length may differ by a frame.
    const end = p.end === 0 || (length > 0 && p.end > length) ? length : p.end;
    if (!(end > p.start)) throw invalid('end', 'must be after start');
    const seconds = end - p.start;
    const output = 'clip.mkv';
    const metadata = metadataArgs(ctx, p.keepMetadata, 'matroska');
    return {
      notes: [`from ${p.start.toFixed(3)} s for ${seconds.toFixed(3)} s`],
      steps: [
        {
          outputs: [output],
          lengthSeconds: seconds,
          args: [
            // Seeking before the input is exact when decoding (FFmpeg decodes from the
            // keyframe before and drops frames up to the time) and quick on a long tape.
            ...inputArgs(ctx, p.start),
            ...metadata.inputs,
            '-t',
            seconds.toFixed(3),
            '-map',
            '0:v:0',
            '-map',
            '0:a?',
            ...metadata.map,
            ...exactCodingArgs(ctx, 'clip'),
            // The clip's own length, stated up front: Matroska written in one pass cannot
            // go back to fill it in.
            '-metadata',
            `DURATION=${seconds.toFixed(3)}`,
            '-f',
            'matroska',
            outPath(ctx, output),
          ],
        },
      ],
    };
  },
});
