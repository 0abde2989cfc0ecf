// Generated tapes for the tape analysis: lavfi sources that look nothing alike, joined
// by black and silent gaps and by hard cuts, noise drawn in the bottom rows (head
// switching), interlaced top field first at 720x576 and 25 frames a second, written as
// MPEG-2 in MPEG-TS as a DVD recorder or capture box would. Every boundary is known, so
// tests (and bench/tape.ts) can hold the analysis to it.

import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { locateFfmpeg } from '../ffmpeg/locate';

const run = promisify(execFile);

export interface TapeScene {
  /** A lavfi video source with its options, without size, rate or duration. */
  source: string;
  seconds: number;
  /** Tone of its sound, in Hz. */
  tone: number;
  /** A black, silent gap of this many seconds after it (none: a hard cut to the next). */
  gapAfter?: number;
  /** Sound driven past full scale (clipped). */
  loud?: boolean;
  /** Seconds into the scene during which its picture is strewn with speckle (dropouts). */
  speckled?: { from: number; to: number };
}

export interface TapeOptions {
  scenes?: TapeScene[];
  /** Rows of noise drawn at the bottom (0: none). */
  bandRows?: number;
  audio?: boolean;
  /** Progressive: no interlacing. */
  progressive?: boolean;
}

/** The cellular automaton's first row is seeded: a tape is the same on every machine. */
export const BUSY_SOURCE = 'cellauto=rule=110:seed=7';
const SOURCES = ['testsrc', 'smptebars', 'testsrc2', 'rgbtestsrc', BUSY_SOURCE];

/** Four scenes: gap, gap, hard cut. */
export const DEFAULT_SCENES: TapeScene[] = [
  { source: 'testsrc', seconds: 8, tone: 440, gapAfter: 1.5 },
  { source: 'smptebars', seconds: 8, tone: 660, gapAfter: 1.5 },
  { source: 'testsrc2', seconds: 6, tone: 880 },
  { source: BUSY_SOURCE, seconds: 8, tone: 330 },
];

/** Scenes filling about `minutes`, cycling through the sources, gaps and hard cuts alternating. */
export function longTape(minutes: number): TapeScene[] {
  const scenes: TapeScene[] = [];
  let total = 0;
  for (let i = 0; total < minutes * 60; i++) {
    const seconds = 40 + ((i * 17) % 50);
    const gapAfter = i % 2 === 0 ? 2 : undefined;
    scenes.push({
      source: SOURCES[i % SOURCES.length]!,
      seconds,
      tone: 220 + 110 * (i % 7),
      gapAfter,
    });
    total += seconds + (gapAfter ?? 0);
  }
  return scenes;
}

/** Where the planted boundaries are: each gap, and each hard cut (a zero-length gap). */
export function plantedBoundaries(scenes: TapeScene[]): { start: number; end: number }[] {
  const out: { start: number; end: number }[] = [];
  let t = 0;
  for (const [i, scene] of scenes.entries()) {
    t += scene.seconds;
    if (i === scenes.length - 1) break;
    out.push({ start: t, end: t + (scene.gapAfter ?? 0) });
    t += scene.gapAfter ?? 0;
  }
  return out;
}

export async function makeTape(
  dir: string,
  name = 'tape.ts',
  o: TapeOptions = {},
): Promise<string> {
  const { ffmpegPath } = await locateFfmpeg();
  const scenes = o.scenes ?? DEFAULT_SCENES;
  const band = o.bandRows ?? 8;
  const audio = o.audio !== false;
  // Sources at 50 pictures a second, woven into 25 interlaced frames.
  const rate = o.progressive ? 25 : 50;
  const v = (src: string, s: number) =>
    `${src.includes('=') ? `${src}:` : `${src}=`}size=720x576:rate=${rate}` +
    (src.startsWith('cellauto') ? `,trim=duration=${s}` : `:duration=${s}`) +
    ',format=yuv420p,setsar=16/15';
  const parts: string[] = [];
  const inputs: string[] = [];
  let n = 0;
  const add = (video: string, sound: string) => {
    parts.push(`${video}[v${n}]`);
    if (audio) parts.push(`${sound}[a${n}]`);
    inputs.push(audio ? `[v${n}][a${n}]` : `[v${n}]`);
    n++;
  };
  for (const scene of scenes) {
    add(
      v(scene.source, scene.seconds) +
        (scene.speckled
          ? `,noise=alls=100:allf=t+u:enable='between(t,${scene.speckled.from},${scene.speckled.to})'`
          : ''),
      `sine=f=${scene.tone}:sample_rate=48000:duration=${scene.seconds},` +
        `volume=${scene.loud ? 8 : 0.5}`,
    );
    if (scene.gapAfter) {
      add(
        v('color=c=black', scene.gapAfter),
        `anullsrc=r=48000:cl=mono,atrim=duration=${scene.gapAfter}`,
      );
    }
  }
  const noise = band
    ? `,split[m][b];[b]crop=iw:${band}:0:ih-${band},noise=alls=100:allf=t+u[n];[m][n]overlay=0:H-${band}`
    : '';
  const weave = o.progressive ? '' : ',tinterlace=mode=interleave_top,setfield=tff';
  const graph = [
    ...parts,
    `${inputs.join('')}concat=n=${n}:v=1:a=${audio ? 1 : 0}[cv]${audio ? '[ca]' : ''}`,
    `[cv]null${noise}${weave}[v]`,
  ].join(';');
  const path = join(dir, name);
  await run(ffmpegPath, [
    '-hide_banner',
    '-v',
    'error',
    '-y',
    '-filter_complex',
    graph,
    '-map',
    '[v]',
    ...(audio ? ['-map', '[ca]', '-c:a', 'mp2', '-b:a', '192k'] : []),
    '-c:v',
    'mpeg2video',
    '-b:v',
    '6M',
    ...(o.progressive ? [] : ['-flags', '+ilme+ildct', '-top', '1']),
    '-f',
    'mpegts',
    path,
  ]);
  return path;
}
