// Runs one FFmpeg command in a box: an argv array (no shell), a minimal environment, its
// scratch folder as the working directory, a thread cap, a wall-clock cap, stall
// detection, cancellation by SIGTERM then SIGKILL, and what tool-process.ts adds (death
// with the engine, a memory cap). Progress comes from FFmpeg's own
// `-progress` report, so it is frame-accurate rather than guessed from file sizes.

import { KeepsakeError } from '../core/errors';
import { decodeLimitArgs, tooLargeFromStderr } from './media-limits';
import { spawnTool } from './tool-process';

export interface Progress {
  /** 0..100; 100 only once FFmpeg says it has finished. */
  percent: number;
  outTimeSeconds: number;
  fps?: number;
  speed?: number;
  etaSeconds?: number;
}

export interface RunOptions {
  ffmpegPath: string;
  cwd: string;
  /** What the loopback input needs in FFmpeg's environment (ToolInput.env). */
  env?: Readonly<Record<string, string>>;
  /** The probed input duration, against which progress is measured. */
  durationSeconds: number;
  threads?: number;
  /** Wall-clock cap for this command. */
  timeoutMs?: number;
  /** Killed when out_time does not advance for this long. */
  stallMs?: number;
  /** Time FFmpeg gets after SIGTERM to exit before SIGKILL. */
  graceMs?: number;
  signal?: AbortSignal;
  onProgress?: (progress: Progress) => void;
  /**
   * Readers of extra pipes FFmpeg writes to, as fd 3, 4, … (`pipe:3` in its argv): what
   * an analysis prints (the metadata filter) or a small raw picture strip, read in memory
   * so nothing of it touches the disk. The promise ends after every pipe has closed.
   */
  pipes?: readonly ((chunk: Buffer) => void)[];
}

/**
 * `args` with a thread cap, when there is one: before each input (its decoder), and for
 * the encoders and filters right after the last input. A thread cap covers all three:
 * `-threads` after the inputs alone left each decoder on a thread per core, so a worker
 * told "one thread" still kept two cores busy. Also for the engine's own checks of an
 * output (verification), which run on the same worker.
 */
export function threadCapped(args: readonly string[], threads: number | undefined): string[] {
  return capped(args, threads, []);
}

function capped(
  args: readonly string[],
  threads: number | undefined,
  beforeEachInput: readonly string[],
): string[] {
  const lastInput = args.lastIndexOf('-i');
  const at = lastInput >= 0 ? lastInput + 2 : 0;
  const n = threads ? String(threads) : undefined;
  const caps = n
    ? [
        '-threads',
        n,
        '-filter_threads',
        n,
        ...(args.includes('-filter_complex_threads') ? [] : ['-filter_complex_threads', n]),
        // x265 and SVT-AV1 keep thread pools of their own, sized by the machine, and
        // ignore -threads (SVT-AV1 used both cores under "-threads 1").
        ...(args.includes('libx265') ? ['-x265-params', `pools=${n}`] : []),
        ...(args.includes('libsvtav1') ? ['-svtav1-params', `lp=${n}`] : []),
      ]
    : [];
  // An input that names its own decoder threads keeps them (fewer, for a reason).
  const ownThreads = (part: readonly string[], i: number) => {
    const previousInput = i >= 2 ? part.lastIndexOf('-i', i - 2) : -1;
    return part.slice(previousInput < 0 ? 0 : previousInput + 2, i).includes('-threads');
  };
  const limited = (part: readonly string[]) =>
    part.flatMap((arg, i) =>
      arg === '-i' && part[i - 1] !== '-i'
        ? [...beforeEachInput, ...(n && !ownThreads(part, i) ? ['-threads', n] : []), arg]
        : [arg],
    );
  return [...limited(args.slice(0, at)), ...caps, ...args.slice(at)];
}

/**
 * Where the caps and report options go: the decoders' pixel limit (and thread cap)
 * before each input, the encoders' and filters' thread caps right after the last input
 * (threadCapped).
 */
export function boxedArgs(args: readonly string[], threads: number | undefined): string[] {
  return [
    '-loglevel',
    'error',
    '-nostats',
    '-progress',
    'pipe:1',
    ...capped(args, threads, decodeLimitArgs()),
  ];
}

/** Folds `key=value` lines of one `-progress` block into a Progress. */
export function parseProgressBlock(
  block: Map<string, string>,
  durationSeconds: number,
): Progress | undefined {
  // out_time_us is right in every version; out_time_ms is also microseconds (a historic bug).
  const micros = Number(block.get('out_time_us') ?? block.get('out_time_ms'));
  if (!Number.isFinite(micros)) return undefined;
  const outTimeSeconds = Math.max(0, micros / 1e6);
  const fps = Number(block.get('fps'));
  const speed = Number.parseFloat(block.get('speed') ?? '');
  const ended = block.get('progress') === 'end';
  const fraction = durationSeconds > 0 ? outTimeSeconds / durationSeconds : 0;
  const percent = ended ? 100 : Math.min(99.9, Math.max(0, fraction * 100));
  const remaining = Math.max(0, durationSeconds - outTimeSeconds);
  return {
    percent,
    outTimeSeconds,
    fps: Number.isFinite(fps) ? fps : undefined,
    speed: Number.isFinite(speed) && speed > 0 ? speed : undefined,
    etaSeconds: ended ? 0 : Number.isFinite(speed) && speed > 0 ? remaining / speed : undefined,
  };
}

const STDERR_KEEP = 4096;

export function runFfmpeg(args: readonly string[], options: RunOptions): Promise<void> {
  const graceMs = options.graceMs ?? 5000;
  return new Promise((resolve, reject) => {
    if (options.signal?.aborted) {
      reject(new KeepsakeError('JOB_CANCELLED', 'cancelled before FFmpeg started'));
      return;
    }
    const child = spawnTool(options.ffmpegPath, boxedArgs(args, options.threads), {
      cwd: options.cwd,
      // Nothing of the engine's environment (tokens, passwords, proxies) reaches FFmpeg.
      env: { ...options.env, LC_ALL: 'C' },
      stdio: ['ignore', 'pipe', 'pipe', ...(options.pipes ?? []).map(() => 'pipe' as const)],
    });
    for (const [i, read] of (options.pipes ?? []).entries()) {
      child.stdio[3 + i]?.on('data', (chunk: Buffer) => read(chunk));
    }
    const stdout = child.stdout!;
    const stderrStream = child.stderr!;
    let stderr = '';
    let stopReason: KeepsakeError | undefined;
    let lastAdvance = Date.now();
    let lastOutTime = -1;
    let killTimer: NodeJS.Timeout | undefined;

    const stop = (reason: KeepsakeError) => {
      if (stopReason) return;
      stopReason = reason;
      child.kill('SIGTERM');
      killTimer = setTimeout(() => child.kill('SIGKILL'), graceMs);
    };
    const onAbort = () => stop(new KeepsakeError('JOB_CANCELLED', 'cancelled'));
    options.signal?.addEventListener('abort', onAbort, { once: true });
    const wallClock = options.timeoutMs
      ? setTimeout(
          () =>
            stop(
              new KeepsakeError(
                'JOB_TIMEOUT',
                `FFmpeg ran past the ${Math.round(options.timeoutMs! / 1000)} s limit`,
              ),
            ),
          options.timeoutMs,
        )
      : undefined;
    const stallCheck = options.stallMs
      ? setInterval(
          () => {
            if (Date.now() - lastAdvance > options.stallMs!) {
              stop(
                new KeepsakeError(
                  'JOB_TIMEOUT',
                  `FFmpeg made no progress for ${Math.round(options.stallMs! / 1000)} s`,
                ),
              );
            }
          },
          Math.min(1000, options.stallMs),
        )
      : undefined;

    let pending = '';
    let block = new Map<string, string>();
    stdout.setEncoding('utf8');
    stdout.on('data', (text: string) => {
      pending += text;
      let newline: number;
      while ((newline = pending.indexOf('\n')) >= 0) {
        const line = pending.slice(0, newline).trim();
        pending = pending.slice(newline + 1);
        const eq = line.indexOf('=');
        if (eq <= 0) continue;
        const key = line.slice(0, eq);
        block.set(key, line.slice(eq + 1));
        if (key !== 'progress') continue;
        const progress = parseProgressBlock(block, options.durationSeconds);
        block = new Map();
        if (!progress) continue;
        if (progress.outTimeSeconds > lastOutTime) {
          lastOutTime = progress.outTimeSeconds;
          lastAdvance = Date.now();
        }
        options.onProgress?.(progress);
      }
    });
    stderrStream.setEncoding('utf8');
    stderrStream.on('data', (text: string) => {
      stderr = (stderr + text).slice(-STDERR_KEEP);
    });

    const finish = (err?: KeepsakeError) => {
      clearTimeout(wallClock);
      clearInterval(stallCheck);
      clearTimeout(killTimer);
      options.signal?.removeEventListener('abort', onAbort);
      if (err) reject(err);
      else resolve();
    };
    child.on('error', (err) =>
      finish(new KeepsakeError('FFMPEG_FAILED', `FFmpeg did not start: ${err.message}`)),
    );
    child.on('close', (code, signal) => {
      if (stopReason) return finish(stopReason);
      if (code === 0) return finish();
      // A frame over the pixel limit, or memory run out under the cap: say so plainly.
      const tooLarge = tooLargeFromStderr(stderr);
      if (tooLarge) return finish(tooLarge);
      const how = signal ? `was killed by ${signal}` : `exited with status ${code}`;
      const detail = stderr.trim().split('\n').slice(-3).join(' | ');
      finish(new KeepsakeError('FFMPEG_FAILED', `FFmpeg ${how}${detail ? `: ${detail}` : ''}`));
    });
  });
}
