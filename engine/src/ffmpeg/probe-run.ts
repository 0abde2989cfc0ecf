// Running FFprobe: one process with a timeout and bounded output, and its failures put in
// the engine's errors (FFMPEG_NOT_FOUND, FFMPEG_FAILED) in FFprobe's own words.

import { KeepsakeError, namingFile } from '../core/errors';
import { spawnTool } from './tool-process';

export interface ProbeOptions {
  timeoutMs?: number;
  /** Named in error messages (the user's file, not the loopback URL). */
  file?: string;
}

const DEFAULT_TIMEOUT_MS = 30_000;

export interface ProbeRun {
  stdout: string;
  stderr: string;
  /** Why the process failed, or undefined when it exited with 0. */
  failure: { code?: number | string; signal?: string; timedOut: boolean } | undefined;
}

const MAX_OUTPUT = 16 * 1024 * 1024;

export function runProbe(
  ffprobePath: string,
  args: string[],
  env: Readonly<Record<string, string>>,
  options: ProbeOptions,
): Promise<ProbeRun> {
  const timeout = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  return new Promise((resolve, reject) => {
    // Only what the loopback input needs: nothing else of the engine's environment
    // (another proxy, tokens) reaches FFprobe.
    const child = spawnTool(ffprobePath, args, { env, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    let timedOut = false;
    let overflow = false;
    const timer = setTimeout(() => {
      timedOut = true;
      child.kill('SIGKILL');
    }, timeout);
    child.stdout!.setEncoding('utf8');
    child.stdout!.on('data', (text: string) => {
      stdout += text;
      if (stdout.length > MAX_OUTPUT && !overflow) {
        overflow = true;
        child.kill('SIGKILL');
      }
    });
    child.stderr!.setEncoding('utf8');
    child.stderr!.on('data', (text: string) => {
      if (stderr.length < MAX_OUTPUT) stderr += text;
    });
    child.on('error', (err: NodeJS.ErrnoException) => {
      clearTimeout(timer);
      if (err.code === 'ENOENT' || err.code === 'EACCES') {
        reject(
          new KeepsakeError('FFMPEG_NOT_FOUND', `cannot run ffprobe at ${ffprobePath}`, {
            cause: err,
          }),
        );
      } else reject(err);
    });
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      if (code === 0 && !overflow) return resolve({ stdout, stderr, failure: undefined });
      resolve({
        stdout,
        stderr,
        failure: { code: code ?? undefined, signal: signal ?? undefined, timedOut },
      });
    });
  });
}

export function refusedFormat(debugStderr: string): string | undefined {
  const probed = /Format (\S+) probed with size=/.exec(debugStderr);
  if (probed) return probed[1];
  // Newer FFmpeg skips HLS without an .m3u8 name or type, and says so.
  if (/detecting m3u8\/hls/i.test(debugStderr)) return 'hls';
  return undefined;
}

/** FFMPEG_FAILED saying how FFprobe ended, in its own words. */
export function failed(run: ProbeRun, target: string, file?: string): KeepsakeError {
  const { failure } = run;
  const lines = stderrLines(run.stderr, target);
  let message: string;
  if (failure?.timedOut) message = 'ffprobe timed out';
  else if (failure?.signal) message = `ffprobe crashed (${failure.signal})`;
  else message = `ffprobe failed (exit ${failure?.code ?? '?'})`;
  return new KeepsakeError('FFMPEG_FAILED', lines ? `${message}: ${lines}` : message, { file });
}

/** FFprobe's first lines, with the URL or path shortened to <input>. */
export function stderrLines(stderr: string, target: string): string {
  return stderr
    .split(/\r?\n/)
    .map((line) => line.split(target).join('<input>').trim())
    .filter((line) => line !== '')
    .slice(0, 5)
    .join('; ');
}

export function withFile<T>(file: string | undefined, fn: () => T): T {
  try {
    return fn();
  } catch (err) {
    throw namingFile(err, file);
  }
}
