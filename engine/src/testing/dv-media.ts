// Generated DV tapes for the recording-clock tests: segments recorded at different times,
// joined as a camcorder's tape is (raw DV is a run of whole frames, so joining the files
// is joining the recordings), optionally in AVI or QuickTime as capture programs wrap it.
import { execFile } from 'node:child_process';
import { readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { locateFfmpeg } from '../ffmpeg/locate';

const run = promisify(execFile);

export interface DvSegment {
  seconds: number;
  /**
   * The camcorder's clock at the segment's first frame (`1994-07-01T10:00:00Z`); FFmpeg's
   * DV muxer writes it, counting on, into every frame. Without one the frames carry no
   * date, as from a capture box rather than a camcorder.
   */
  recorded?: string;
}

/**
 * A PAL DV tape (720x576, 25 frames a second) of the same still picture throughout, so
 * nothing but the clock tells where one segment ends and the next begins.
 */
export async function makeDvTape(
  dir: string,
  segments: readonly DvSegment[],
  container: 'dv' | 'avi' | 'mov' = 'dv',
): Promise<string> {
  const { ffmpegPath } = await locateFfmpeg();
  const parts: Buffer[] = [];
  for (const [i, seg] of segments.entries()) {
    const part = join(dir, `segment-${i}.dv`);
    const picture = ['-f', 'lavfi', '-i', `smptebars=size=720x576:rate=25`];
    await run(ffmpegPath, [
      ...['-hide_banner', '-v', 'error', '-y', ...picture],
      ...(seg.recorded
        ? [
            ...['-f', 'lavfi', '-i', 'sine=frequency=440:sample_rate=48000'],
            ...['-t', String(seg.seconds), '-target', 'pal-dv'],
            ...['-metadata', `creation_time=${seg.recorded}`],
          ]
        : // FFmpeg's DV encoder alone writes no date packs (its muxer would write 1970).
          ['-t', String(seg.seconds), '-pix_fmt', 'yuv420p', '-c:v', 'dvvideo', '-f', 'rawvideo']),
      part,
    ]);
    parts.push(await readFile(part));
    await rm(part);
  }
  const dv = join(dir, 'tape.dv');
  await writeFile(dv, Buffer.concat(parts));
  if (container === 'dv') return dv;
  const wrapped = join(dir, `tape.${container}`);
  await run(ffmpegPath, ['-hide_banner', '-v', 'error', '-y', '-i', dv, '-c', 'copy', wrapped]);
  await rm(dv);
  return wrapped;
}
