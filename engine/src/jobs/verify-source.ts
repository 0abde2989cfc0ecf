// Checks of an output against the job's source (presets' OutputCheck):
// - lossless: the output's decoded frames and samples hash the same as the source's;
// - quality: the output's picture scores at least a preset's SSIM and PSNR (and VMAF where
//   this FFmpeg measures it) against the source passed through the same filters, on
//   sampled stretches (verify-quality.ts).
//
// Each loopback source is reached through its own proxy in the tool's environment, and one
// process has one environment: so the hashes come from two FFmpeg runs, and for the scores
// the output (written in one pass, readable without seeking) is piped to FFmpeg's stdin
// while the source is read through its loopback, which lets the demuxer seek.

import type { Readable } from 'node:stream';
import { KeepsakeError } from '../core/errors';
import type { ToolInput } from '../ffmpeg/input-source';
import { threadCapped } from '../ffmpeg/runner';
import { spawnTool } from '../ffmpeg/tool-process';
import type { VerifyTools } from './verify';

/** The job's source, as FFmpeg reads it: the loopback and the demuxer forced on it. */
export interface SourceInput {
  input: ToolInput;
  demuxer: string;
  durationSeconds: number;
}

const HASH_LINE = /^(\d+),([va]),MD5=([0-9a-f]{32})$/;

export function fail(name: string, why: string): never {
  throw new KeepsakeError('OUTPUT_CHECK_FAILED', `${name}: ${why}`);
}

interface Run {
  stdout: string;
  stderr: string;
  code: number | null;
}

export function runFfmpeg(
  tools: VerifyTools,
  args: string[],
  env: Readonly<Record<string, string>>,
  stdin?: Readable,
): Promise<Run> {
  return new Promise((resolve, reject) => {
    const child = spawnTool(tools.ffmpegPath, threadCapped(args, tools.threads), {
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
