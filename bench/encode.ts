// npm run bench:encode — the full encoding pipeline against plain FFmpeg, in one run.
//
// Reference: `ffmpeg` on the plain clip with the preset's own arguments, writing to RAM.
// Pipeline:  `keepsake job submit clip.ksv --preset …`: unlock, queue, decrypt through
//            the loopback source, FFprobe, the same FFmpeg command, verification, and
//            encryption of the output. Whole commands are timed, alternating, and the
//            median of the per-round ratios is reported, with the engine's peak RSS
//            (its own VmHWM, FFmpeg excluded).
//
//   BENCH_SECONDS   clip length (default 60)      BENCH_ROUNDS  rounds (default 3)
//   BENCH_PRESET    preset (default web-h264)     BENCH_DIR     working folder (bench/out/encode)

import { spawn, spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { mkdir, rm } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { readCapabilities } from '../engine/src/ffmpeg/capabilities';
import { locateFfmpeg } from '../engine/src/ffmpeg/locate';
import { buildJob } from '../engine/src/presets';

const root = fileURLToPath(new URL('..', import.meta.url));
const CLI = join(root, 'engine/bin/keepsake.mjs');
const SECONDS = Number(process.env.BENCH_SECONDS ?? 60);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3);
const PRESET = process.env.BENCH_PRESET ?? 'web-h264';
const dir = resolve(process.env.BENCH_DIR ?? join(root, 'bench/out/encode'));
const scratch = `/dev/shm/keepsake-bench-${process.pid}`;
const TARGET_RATIO = 1.05;
const TARGET_RSS_MB = 200;

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

function must(cmd: string, args: string[], env: NodeJS.ProcessEnv = process.env): string {
  const r = spawnSync(cmd, args, { env, encoding: 'utf8', maxBuffer: 1 << 26 });
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')} failed: ${r.stderr}`);
  return r.stdout;
}

/** Runs a command to completion; returns wall seconds and the peak RSS of that process. */
function measure(
  cmd: string,
  args: string[],
  env: NodeJS.ProcessEnv,
): Promise<{ seconds: number; rssMb: number }> {
  return new Promise((resolvePromise, reject) => {
    const started = process.hrtime.bigint();
    const child = spawn(cmd, args, { env, stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    let peakKb = 0;
    child.stderr.on('data', (d: Buffer) => (stderr = (stderr + d.toString()).slice(-4000)));
    // VmHWM is the process's own high-water mark; sample it until the process ends.
    const sample = () => {
      try {
        const m = /VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${child.pid}/status`, 'utf8'));
        if (m) peakKb = Math.max(peakKb, Number(m[1]));
      } catch {
        /* gone */
      }
    };
    const timer = setInterval(sample, 50);
    child.on('exit', (code) => {
      clearInterval(timer);
      const seconds = Number(process.hrtime.bigint() - started) / 1e9;
      if (code !== 0) reject(new Error(`${cmd} exited ${code}: ${stderr}`));
      else resolvePromise({ seconds, rssMb: peakKb / 1024 });
    });
  });
}

async function main(): Promise<void> {
  await rm(dir, { recursive: true, force: true });
  await mkdir(dir, { recursive: true });
  // The compiled engine, as installed: a stale build would run through tsx, whose loader
  // thread and compiler would count against the engine's time and RSS.
  must(process.execPath, [join(root, 'engine/scripts/build.mjs')]);
  const ffmpeg = await locateFfmpeg();
  const clip = join(dir, 'clip.mp4');
  console.log(`Generating a ${SECONDS} s 1280x720 testsrc + sine clip with ${ffmpeg.ffmpegPath}`);
  must(ffmpeg.ffmpegPath, [
    '-v', 'error', '-f', 'lavfi', '-i', `testsrc=size=1280x720:rate=30:duration=${SECONDS}`,
    '-f', 'lavfi', '-i', `sine=frequency=440:sample_rate=48000:duration=${SECONDS}`,
    '-pix_fmt', 'yuv420p', '-c:v', 'libx264', '-preset', 'veryfast', '-crf', '18', '-c:a', 'aac', clip,
  ]); // prettier-ignore

  const home = join(dir, 'home');
  const env = {
    PATH: process.env.PATH ?? '',
    HOME: process.env.HOME ?? '/tmp',
    KEEPSAKE_HOME: home,
    KEEPSAKE_PASSWORD: 'bench lantern orchard',
    KEEPSAKE_SCRATCH: scratch,
  };
  must(process.execPath, [CLI, 'vault', 'init', '--kdf-log-n', '10', '--no-recovery'], env);
  const sealed = join(dir, 'clip.mp4.ksv');
  must(process.execPath, [CLI, 'encrypt', clip, sealed], { ...env });

  // The reference runs the very argv the preset builds, on the plain file, into RAM.
  const caps = await readCapabilities(ffmpeg.ffmpegPath);
  const refOut = join(scratch, 'reference'); // beside the engine's own keepsake-<uid> folder
  const built = buildJob(
    PRESET,
    {},
    {
      input: clip,
      inputProtocols: 'file',
      inputFormat: 'mov',
      outputBase: refOut, // a plain folder: the same argv, writing files instead of to the sink
      media: { durationSeconds: SECONDS, width: 1280, height: 720, hasAudio: true },
      ...caps,
    },
  );
  const refArgs = built.steps.map((s) => ['-y', '-loglevel', 'error', ...s.args]);

  const ratios: number[] = [];
  const ref: number[] = [];
  const ours: number[] = [];
  let rss = 0;
  for (let round = 1; round <= ROUNDS; round++) {
    await mkdir(refOut, { recursive: true });
    let refSeconds = 0;
    for (const args of refArgs) refSeconds += (await measure(ffmpeg.ffmpegPath, args, env)).seconds;
    await rm(refOut, { recursive: true, force: true });
    const run = await measure(
      process.execPath,
      [CLI, 'job', 'submit', sealed, '--preset', PRESET, '--quiet'],
      env,
    );
    ref.push(refSeconds);
    ours.push(run.seconds);
    ratios.push(run.seconds / refSeconds);
    rss = Math.max(rss, run.rssMb);
    console.log(
      `round ${round}: ffmpeg ${refSeconds.toFixed(2)} s, keepsake ${run.seconds.toFixed(2)} s, ratio ${(run.seconds / refSeconds).toFixed(3)}, engine peak RSS ${run.rssMb.toFixed(0)} MB`,
    );
  }
  await rm(scratch, { recursive: true, force: true });
  const ratio = median(ratios);
  console.log(
    `\n${PRESET} on ${SECONDS} s 720p (median of ${ROUNDS} rounds): plain ffmpeg ${median(ref).toFixed(2)} s, keepsake pipeline ${median(ours).toFixed(2)} s`,
  );
  console.log(`ratio pipeline/ffmpeg: ${ratio.toFixed(3)} (target <= ${TARGET_RATIO})`);
  console.log(`engine peak RSS: ${rss.toFixed(0)} MB (target < ${TARGET_RSS_MB} MB)`);
  if (ratio > TARGET_RATIO || rss >= TARGET_RSS_MB) process.exitCode = 1;
}

await main();
