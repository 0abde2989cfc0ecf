// Tiny generated media and a RAM scratch for tests that drive real FFmpeg.
import { execFile } from 'node:child_process';
import { statfsSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterEach } from 'vitest';
import { locateFfmpeg } from '../ffmpeg/locate';
import type { ScratchOptions } from '../ffmpeg/scratch';
import { freshDir } from './tmp';

const run = promisify(execFile);

export interface ClipOptions {
  seconds?: number;
  size?: string;
  audio?: boolean;
  /** A `comment` tag, kept by presets that keep metadata. */
  comment?: string;
  /** Real-time-ish length for slow jobs: more frames at a larger size. */
  rate?: number;
  /** One frame of the pattern and no audio, in the image format the name ends in (`.png`…). */
  still?: boolean;
  /** Another video encoder than libx264, for containers that want one (`.avi`: 'mpeg4'). */
  videoCodec?: string;
  /** Another audio encoder than AAC. */
  audioCodec?: string;
  /** More output options, before the file name (`['-f', 'vob']`). */
  outputArgs?: string[];
}

/**
 * An MP4 (H.264 + AAC) with its index at the end, as cameras write them. Another name
 * ending gives another container (FFmpeg picks it by the extension), with the codecs and
 * options given; `still` gives a one-frame image instead.
 */
export async function makeClip(
  dir: string,
  name = 'clip.mp4',
  o: ClipOptions = {},
): Promise<string> {
  const { ffmpegPath } = await locateFfmpeg();
  const path = join(dir, name);
  const seconds = o.seconds ?? 2;
  const size = o.size ?? '320x240';
  const videoCodec = o.videoCodec ?? 'libx264';
  const audio = o.audio !== false && !o.still;
  await run(ffmpegPath, [
    '-hide_banner',
    '-v',
    'error',
    '-f',
    'lavfi',
    '-i',
    o.still
      ? `testsrc=size=${size}`
      : `testsrc=size=${size}:rate=${o.rate ?? 25}:duration=${seconds}`,
    ...(audio
      ? ['-f', 'lavfi', '-i', `sine=frequency=440:sample_rate=48000:duration=${seconds}`]
      : []),
    ...(o.still
      ? ['-frames:v', '1']
      : [
          '-pix_fmt',
          'yuv420p',
          '-c:v',
          videoCodec,
          ...(videoCodec === 'libx264' ? ['-preset', 'ultrafast'] : []),
        ]),
    ...(audio ? ['-c:a', o.audioCodec ?? 'aac'] : []),
    '-metadata',
    'creation_time=1994-12-25T10:00:00Z',
    ...(o.comment ? ['-metadata', `comment=${o.comment}`] : []),
    ...(o.outputArgs ?? []),
    path,
  ]);
  return path;
}

const TMPFS = 0x01021994;
const made: string[] = [];
afterEach(async () => {
  await Promise.all(made.splice(0).map((d) => rm(d, { recursive: true, force: true })));
});

/**
 * A private scratch root for one test: on /dev/shm when it is tmpfs (as on the Linux
 * machines this runs on), else on disk with the disk explicitly allowed.
 */
export async function testScratch(): Promise<ScratchOptions> {
  let shm = false;
  try {
    shm = statfsSync('/dev/shm').type === TMPFS;
  } catch {
    shm = false;
  }
  if (shm) {
    const root = `/dev/shm/keepsake-test-${process.pid}-${Math.random().toString(36).slice(2)}`;
    made.push(root);
    return { configured: root };
  }
  return { configured: join(await freshDir(), 'scratch') };
}
