// One clip of a tape (tape/clip-export.ts): the stretch between two times of the cut list,
// kept exactly, as the exact master keeps the whole tape (FFV1 with a CRC in every slice,
// FLAC sound, in Matroska). Decoding and encoding again, rather than copying packets, is
// what makes it frame-accurate whatever the tape was captured as: a copy of long-GOP MPEG
// could only start at a keyframe. The exception is a source that is already exact (the
// exact master, exactSource below): its packets are copied, which is as accurate and costs
// only the reading. The source is never written to.
//
// The times arrive as typed numbers (params.ts), never as text, and are checked against
// the probed length here.

import { exactCodingArgs } from './exact-master';
import {
  definePreset,
  inputArgs,
  keepMetadataParam,
  metadataArgs,
  outPath,
  type BuildContext,
} from './preset';
import { invalid } from './params';

/** Seconds read before a clip's start when decoding, so that the seek lands before it. */
const PRE_ROLL = 5;

/** A day: no capture is longer, and it bounds what a client can ask for. */
const LONGEST = 86_400;

/** Sound already stored exactly: FLAC, or plain PCM in any of its sample layouts. */
const exactSound = (codec: string) => codec === 'flac' || /^pcm_[a-z0-9]+$/.test(codec);

/**
 * Whether the input is what the exact master is (exact-master.ts), judged from the probed
 * streams: FFV1 pictures and FLAC or PCM sound in Matroska. Its packets can then be copied
 * as they are: the master stores every frame whole (`-g 1`, each a keyframe), so the copy
 * starts on the very frame asked for, as a decode would, and the pictures stay the exact
 * ones (a copy cannot change a bit of them). The sound is cut on its own packets' edges
 * (a FLAC frame is about a tenth of a second), the picture to the frame.
 *
 * An FFV1 file made elsewhere with keyframes further apart would start at the keyframe
 * before the time asked; Keepsake's own masters never are (the probe does not say).
 */
function exactSource(ctx: BuildContext): boolean {
  const { videoCodec, audioCodecs, hasAudio } = ctx.media;
  return (
    ctx.inputFormat === 'matroska' &&
    videoCodec === 'ffv1' &&
    audioCodecs !== undefined &&
    (audioCodecs.length > 0 || !hasAudio) &&
    audioCodecs.every(exactSound)
  );
}

/**
 * A copy of the packets. A master made after the tape's clips were marked holds them as
 * chapters, which FFmpeg would carry into the clip by default: a clip has none of its own.
 */
function copyArgs(ctx: BuildContext): string[] {
  return [...(ctx.labelChapters ? [] : ['-map_chapters', '-1']), '-c', 'copy'];
}

/** The job log's note when the clip's packets were copied from an exact source. */
export const COPIED = 'copied from an exact source, not encoded again';

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
    const copy = exactSource(ctx);
    // Decoding, the input is sought PRE_ROLL seconds early and the rest is decoded and
    // dropped (an output -ss, exact in any container): MPEG-TS has no index, and a seek
    // straight to the time landed on the keyframe after it (six frames late on a
    // generated tape). Copying an exact source, every frame is a keyframe: no pre-roll.
    const inputSeek = copy ? p.start : Math.max(0, p.start - PRE_ROLL);
    const outputSeek = p.start - inputSeek;
    return {
      notes: [
        `from ${p.start.toFixed(3)} s for ${seconds.toFixed(3)} s`,
        ...(copy ? [COPIED] : []),
      ],
      steps: [
        {
          outputs: [output],
          lengthSeconds: seconds,
          args: [
            ...inputArgs(ctx, inputSeek),
            ...metadata.inputs,
            ...(outputSeek > 0 ? ['-ss', outputSeek.toFixed(3)] : []),
            '-t',
            seconds.toFixed(3),
            '-map',
            '0:v:0',
            '-map',
            '0:a?',
            ...metadata.map,
            ...(copy ? copyArgs(ctx) : exactCodingArgs(ctx, 'clip')),
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
