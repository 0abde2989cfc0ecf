// Checks of an output against the job's source (presets' OutputCheck):
// - lossless: the output's decoded frames and samples hash the same as the source's;
// - quality: the output's picture scores at least a preset's SSIM and PSNR against the
//   source passed through the same deinterlacer and crop, on sampled stretches.
//
// Each loopback source is reached through its own proxy in the tool's environment, and one
// process has one environment: so the hashes come from two FFmpeg runs, and for the scores
// the output (Matroska written in one pass, readable without seeking) is piped to FFmpeg's
// stdin while the source is read through its loopback, which lets the demuxer seek.

import type { Readable } from 'node:stream';
import { KeepsakeError } from '../core/errors';
import type { ToolInput } from '../ffmpeg/input-source';
import { spawnTool } from '../ffmpeg/tool-process';
import type { OutputCheck } from '../presets/preset';
import type { VerifyTools } from './verify';

/** The job's source, as FFmpeg reads it: the loopback and the demuxer forced on it. */
export interface SourceInput {
  input: ToolInput;
  demuxer: string;
  durationSeconds: number;
}

/** An output's picture scores against its source, kept with the output. */
export interface QualityScores {
  /** Mean SSIM of all planes, 0..1 (1: the same picture). */
  ssim: number;
  /** Mean PSNR in dB (capped at 99 for identical pictures). */
  psnr: number;
}

const HASH_LINE = /^(\d+),([va]),MD5=([0-9a-f]{32})$/;
const SSIM_LINE = /\] SSIM .*All:([\d.]+)/;
const PSNR_LINE = /\] PSNR .*average:([\d.]+|inf)/;

function fail(name: string, why: string): never {
  throw new KeepsakeError('OUTPUT_CHECK_FAILED', `${name}: ${why}`);
}

interface Run {
  stdout: string;
  stderr: string;
  code: number | null;
}

function runFfmpeg(
  tools: VerifyTools,
  args: string[],
  env: Readonly<Record<string, string>>,
  stdin?: Readable,
): Promise<Run> {
  return new Promise((resolve, reject) => {
    const child = spawnTool(tools.ffmpegPath, args, {
      env: { ...env, LC_ALL: 'C' },
      stdio: [stdin ? 'pipe' : 'ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout!.setEncoding('utf8');
    child.stdout!.on('data', (text: string) => (stdout = (stdout + text).slice(-65536)));
    child.stderr!.setEncoding('utf8');
    child.stderr!.on('data', (text: string) => (stderr = (stderr + text).slice(-65536)));
    if (stdin) {
      // FFmpeg may stop reading early (an error): that ends the pipe, not the engine.
      child.stdin!.on('error', () => undefined);
      stdin.on('error', (err) => child.kill('SIGKILL') && reject(err));
      stdin.pipe(child.stdin!);
    }
    const timer = setTimeout(() => child.kill('SIGKILL'), 6 * 3600_000);
    child.on('error', (err) => {
      clearTimeout(timer);
      reject(err);
    });
    child.on('close', (code) => {
      clearTimeout(timer);
      stdin?.destroy();
      resolve({ stdout, stderr, code });
    });
  });
}

function firstLine(text: string): string {
  return text.trim().split('\n')[0] ?? '';
}

/**
 * One MD5 per stream of the decoded first picture and every sound track: pictures as raw
 * frames, every one (none dropped or repeated), sound as 24-bit samples, which is what
 * FLAC keeps of any source (16-bit sound widens exactly; floating-point sound is stored
 * to 24 bits, the same rounding on both sides).
 */
async function streamHashes(
  tools: VerifyTools,
  input: ToolInput,
  demuxer: string | undefined,
): Promise<string[]> {
  const ran = await runFfmpeg(
    tools,
    [
      ...['-v', 'error', '-nostdin', '-protocol_whitelist', 'http,tcp'],
      ...(demuxer ? ['-format_whitelist', demuxer, '-f', demuxer] : []),
      ...['-i', input.url, '-map', '0:v:0', '-map', '0:a?', '-fps_mode', 'passthrough'],
      ...['-c:v', 'rawvideo', '-c:a', 'pcm_s24le', '-f', 'streamhash', '-hash', 'md5', '-'],
    ],
    input.env,
  );
  if (ran.code !== 0) throw new Error(firstLine(ran.stderr) || `exit ${ran.code}`);
  return ran.stdout
    .split('\n')
    .map((line) => HASH_LINE.exec(line.trim()))
    .filter((m): m is RegExpExecArray => m !== null)
    .map((m) => `${m[2]}:${m[3]}`);
}

/** The master decodes to exactly the source's pictures and sound, or the job fails. */
export async function checkLossless(
  tools: VerifyTools,
  source: SourceInput,
  name: string,
  output: ToolInput,
): Promise<void> {
  const readBack = (what: string) => (err: unknown) =>
    fail(
      name,
      `${what} could not be read to compare (${err instanceof Error ? err.message : String(err)})`,
    );
  const want = await streamHashes(tools, source.input, source.demuxer).catch(
    readBack('the source'),
  );
  const got = await streamHashes(tools, output, undefined).catch(readBack('the master'));
  if (want.length === 0) fail(name, 'the source gave nothing to compare');
  const differs = (kind: 'v' | 'a') =>
    JSON.stringify(want.filter((h) => h.startsWith(kind))) !==
    JSON.stringify(got.filter((h) => h.startsWith(kind)));
  if (differs('v')) {
    fail(name, 'the master is not an exact copy: its picture differs from the original');
  }
  if (differs('a')) {
    fail(name, 'the master is not an exact copy: its sound differs from the original');
  }
}

/**
 * Where the scores are measured: all of a short video; for a long one, six 10-second
 * stretches spread across it (a tape can run three hours; six stretches see its start,
 * middle and end). Built from numbers only.
 */
export function sampledStretches(durationSeconds: number): string | undefined {
  if (!(durationSeconds > 120)) return undefined;
  const parts: string[] = [];
  for (let i = 0; i < 6; i++) {
    const start = ((i + 0.5) * durationSeconds) / 6 - 5;
    parts.push(`between(t,${start.toFixed(3)},${(start + 10).toFixed(3)})`);
  }
  return `select='${parts.join('+')}'`;
}

/** SSIM and PSNR of a Matroska output (read from `body`) against the source. */
export async function measureQuality(
  tools: VerifyTools,
  source: SourceInput,
  check: Extract<OutputCheck, { kind: 'quality' }>,
  body: Readable,
): Promise<QualityScores> {
  // Both sides: times from zero, the same stretches (taken before the source's filters,
  // so a slow denoiser runs only on them), one time base, square pixels (the output's
  // shape is stated, not drawn) and one pixel format.
  const head = ['setpts=PTS-STARTPTS', sampledStretches(source.durationSeconds)];
  const tail = ['settb=AVTB', 'setsar=1', 'format=yuv420p'];
  const chain = (filters: (string | undefined)[]) =>
    filters.filter((f): f is string => f !== undefined).join(',');
  const graph = [
    `[0:v]${chain([...head, ...tail])},split[d1][d2]`,
    `[1:v]${chain([...head, ...check.reference, ...tail])},split[r1][r2]`,
    '[d1][r1]ssim',
    '[d2][r2]psnr',
  ].join(';');
  const ran = await runFfmpeg(
    tools,
    [
      ...['-hide_banner', '-nostats', '-v', 'info', '-protocol_whitelist', 'pipe,http,tcp'],
      ...['-format_whitelist', 'matroska', '-f', 'matroska', '-i', 'pipe:0'],
      ...['-format_whitelist', source.demuxer, '-f', source.demuxer, '-i', source.input.url],
      ...['-filter_complex', graph, '-f', 'null', '-'],
    ],
    source.input.env,
    body,
  );
  const lines = ran.stderr.split('\n');
  const ssim = lines.map((l) => SSIM_LINE.exec(l)?.[1]).find((v) => v !== undefined);
  const psnr = lines.map((l) => PSNR_LINE.exec(l)?.[1]).find((v) => v !== undefined);
  if (ran.code !== 0 || ssim === undefined || psnr === undefined) {
    const why = lines.find((l) => /error|invalid|failed/i.test(l)) ?? `exit ${ran.code}`;
    fail(check.output, `its picture could not be compared with the original (${why.trim()})`);
  }
  return { ssim: Number(ssim), psnr: psnr === 'inf' ? 99 : Math.min(99, Number(psnr)) };
}

/** Fails with the scores in plain words when an output is under its preset's thresholds. */
export function checkScores(
  check: Extract<OutputCheck, { kind: 'quality' }>,
  scores: QualityScores,
): void {
  if (scores.ssim >= check.minSsim && scores.psnr >= check.minPsnr) return;
  fail(
    check.output,
    `the picture came out too far from the original to keep (likeness ${scores.ssim.toFixed(3)}, ` +
      `needs ${check.minSsim}; clarity ${scores.psnr.toFixed(1)} dB, needs ${check.minPsnr} dB); ` +
      'try a better quality setting',
  );
}

/** How a job's notes state an output's scores. */
export function scoresNote(name: string, scores: QualityScores): string {
  return `${name}: picture checked against the original: SSIM ${scores.ssim.toFixed(4)}, PSNR ${scores.psnr.toFixed(2)} dB`;
}
