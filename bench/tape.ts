// npm run bench:tape — the tape analysis against a plain decode of the same tape, in one run.
//
// A 10-minute 720x576 tape (testing/tape-media.ts: lavfi sources joined by black, silent
// gaps and hard cuts, noise in the bottom 8 rows, woven top field first, MPEG-2 at 6 Mbit/s
// in MPEG-TS, as a DVD recorder writes) is made once under bench/out/tape/ and reused.
// Then, alternating which goes first in each round:
//
//   reference:  `ffmpeg -i tape -f null -`: decoding the picture and the sound, nothing else;
//   analysis:   the engine's tape analysis (compiled, in its own process) reading the tape
//               over the loopback as a job does: FFprobe, then the one-pass analysis.
//
// It prints each time, the median ratio analysis/reference (target <= 1.5) and whether the
// analysis found every planted boundary (within 0.5 s) with at most one false cut.
//
//   BENCH_ROUNDS    rounds (default 3)
//   BENCH_MINUTES   length of the tape (default 10)

import { mkdir, stat } from 'node:fs/promises';
import { availableParallelism, loadavg } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { bundleRunner } from './bundle-runner';
import { locateFfmpeg } from '../engine/src/ffmpeg/locate';
import { longTape, makeTape, plantedBoundaries } from '../engine/src/testing/tape-media';
import { measure } from './measure';

const root = fileURLToPath(new URL('..', import.meta.url));
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3);
const MINUTES = Number(process.env.BENCH_MINUTES ?? 10);
const TARGET_RATIO = 1.5;
const dir = join(root, 'bench', 'out', 'tape');

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

interface Found {
  cuts: { at: number; confidence: number }[];
  fieldOrder: string;
  headSwitchingRows: number;
  undecodable: unknown[];
}

/** The analysis as the engine ships it: bundled by esbuild, run in its own process. */
async function buildRunner(): Promise<string> {
  const outfile = join(dir, 'tape-runner.mjs');
  return bundleRunner(
    `
        import { mkdtempSync } from 'node:fs';
        import { tmpdir } from 'node:os';
        import { join } from 'node:path';
        import { locateFfmpeg } from './engine/src/ffmpeg/locate';
        import { plainByteSource, serveLoopback } from './engine/src/ffmpeg/input-source';
        import { probeInput } from './engine/src/ffmpeg/probe';
        import { analyseTape } from './engine/src/ffmpeg/tape-analysis';
        const { ffmpegPath, ffprobePath } = await locateFfmpeg();
        const source = await plainByteSource(process.argv[2]);
        const loopback = await serveLoopback(source);
        const probed = await probeInput(ffprobePath, loopback);
        const analysis = await analyseTape(
          { url: loopback.url, protocols: 'http,tcp', format: probed.demuxer, env: loopback.env },
          probed.media,
          { ffmpegPath, cwd: mkdtempSync(join(tmpdir(), 'bench-tape-')) },
        );
        await loopback.close();
        await source.close();
        console.log(JSON.stringify(analysis));
    `,
    'tape-runner.ts',
    outfile,
  );
}

async function main(): Promise<void> {
  await mkdir(dir, { recursive: true });
  const scenes = longTape(MINUTES);
  const name = `tape-${MINUTES}min-v2.ts`;
  const tape = join(dir, name);
  if (!(await stat(tape).catch(() => undefined))) {
    console.log(`Making a ${MINUTES}-minute 720x576 interlaced tape in ${tape} (once)…`);
    const started = Date.now();
    await makeTape(dir, name, { scenes });
    console.log(`  made in ${((Date.now() - started) / 1000).toFixed(1)} s`);
  } else {
    console.log(`Reusing ${tape}`);
  }
  const { ffmpegPath } = await locateFfmpeg();
  const runner = await buildRunner();
  const reference = () =>
    measure(ffmpegPath, ['-v', 'error', '-nostdin', '-i', tape, '-f', 'null', '-']);
  const analysis = () => measure(process.execPath, [runner, tape]);

  // Warm the page cache, untimed.
  await reference();

  const ratios: number[] = [];
  let found: Found | undefined;
  for (let round = 1; round <= ROUNDS; round++) {
    const first = round % 2 === 1 ? 'reference' : 'analysis';
    const a = first === 'reference' ? await reference() : await analysis();
    const b = first === 'reference' ? await analysis() : await reference();
    const [ref, ours] = first === 'reference' ? [a, b] : [b, a];
    found = JSON.parse(ours.out) as Found;
    ratios.push(ours.seconds / ref.seconds);
    console.log(
      `round ${round} (${first} first): decode ${ref.seconds.toFixed(2)} s, ` +
        `analysis ${ours.seconds.toFixed(2)} s (${ours.rssMb.toFixed(0)} MB), ` +
        `ratio ${(ours.seconds / ref.seconds).toFixed(2)}, load ${loadavg()[0]!.toFixed(1)}`,
    );
  }
  // A busy machine slows the plain decode (one core's work) more than the analysis (whose
  // loopback server runs beside FFmpeg), so its ratios flatter the analysis.
  if (loadavg()[0]! > availableParallelism() / 2) {
    console.log(`  the machine is busy (${availableParallelism()} cores): not the idle ratio`);
  }
  const ratio = median(ratios);
  const planted = plantedBoundaries(scenes);
  const cuts = found?.cuts ?? [];
  const missed = planted.filter((p) => !cuts.some((c) => Math.abs(c.at - p.end) <= 0.5));
  const falseCuts = cuts.filter((c) => !planted.some((p) => Math.abs(c.at - p.end) <= 0.5));
  console.log(
    `median ratio analysis/decode: ${ratio.toFixed(2)} (target <= ${TARGET_RATIO}) ` +
      `${ratio <= TARGET_RATIO ? 'OK' : 'OVER'}`,
  );
  console.log(
    `boundaries: ${planted.length - missed.length}/${planted.length} found, ` +
      `${falseCuts.length} false cuts (at most ${Math.max(1, Math.floor(MINUTES / 10))}); ` +
      `field order ${found?.fieldOrder}, head-switching rows ${found?.headSwitchingRows}, ` +
      `undecodable stretches ${found?.undecodable.length}`,
  );
  if (missed.length) console.log(`  missed: ${missed.map((m) => m.end).join(', ')}`);
  if (falseCuts.length) console.log(`  false: ${falseCuts.map((c) => c.at).join(', ')}`);
}

await main();
