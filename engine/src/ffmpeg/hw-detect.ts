// Which graphics-chip encoders this machine can really use. An FFmpeg build lists
// encoders for every chip it was compiled for (Debian's lists VAAPI, QSV and NVENC on a
// machine with no graphics chip at all), so a listed encoder is offered only once a
// one-frame encode of a generated picture has passed, run boxed like a job's FFmpeg
// (tool-process.ts: the same address-space cap and a bare environment), with the device
// options a job passes. Tests run at once, each killed after a time limit; the answer is
// kept for the life of the process.

import { readdirSync } from 'node:fs';
import { KeepsakeError } from '../core/errors';
import { readCapabilities } from './capabilities';
import {
  DEFAULT_VAAPI_DEVICE,
  PLATFORM_APIS,
  deviceArgs,
  encoderName,
  fixedEncoderArgs,
  isDevicePath,
  uploadFilter,
  type HardwareApi,
  type HardwareEncoder,
  type VideoCodec,
} from './hw-encoders';
import { spawnTool } from './tool-process';

/** One listed hardware encoder and how its test encode went. */
export interface EncoderTrial extends HardwareEncoder {
  passed: boolean;
  /** Why it failed, in FFmpeg's words (its last error line), or that it timed out. */
  reason?: string;
  /** How long the test took. */
  ms: number;
}

/**
 * What a machine can encode H.264 and HEVC with. The worker pool announces it (so jobs
 * that ask for a graphics chip go to a machine that has one that works); `keepsake
 * doctor` prints it; jobs build from `hardware`.
 */
export interface EncoderCapabilities {
  /** The software H.264/HEVC encoders the build has (`libx264`, `libx265`). */
  software: string[];
  /** Hardware encoders that passed their test, best first: the ones jobs may use. */
  hardware: HardwareEncoder[];
  /** Every hardware encoder the build lists for this platform, with its test's outcome. */
  trials: EncoderTrial[];
}

export interface DetectOptions {
  /** Whose encoders to try (default this one's): tests try other platforms' lists. */
  platform?: NodeJS.Platform;
  /** VAAPI's render node; default the first `/dev/dri/renderD*`, else renderD128. */
  vaapiDevice?: string;
  /** Each test's limit; they run at once, so detection takes about this long at most. */
  timeoutMs?: number;
  /** The build's encoder names, when already read (readCapabilities). */
  listed?: ReadonlySet<string>;
}

const SOFTWARE = ['libx264', 'libx265'];
const CODECS: readonly VideoCodec[] = ['h264', 'hevc'];
const DEFAULT_TIMEOUT_MS = 15_000;

/** The first render node, where VAAPI finds the chip (DRM lists one per GPU). */
function findRenderNode(): string {
  try {
    const nodes = readdirSync('/dev/dri')
      .filter((name) => /^renderD\d+$/.test(name))
      .sort();
    return nodes[0] ? `/dev/dri/${nodes[0]}` : DEFAULT_VAAPI_DEVICE;
  } catch {
    return DEFAULT_VAAPI_DEVICE;
  }
}

/**
 * The test encode's argv: one generated frame (above every chip's minimum size, even
 * sides), through the same device options, upload and fixed encoder options as a job.
 */
export function testEncodeArgs(encoder: HardwareEncoder): string[] {
  return [
    '-hide_banner',
    '-nostdin',
    '-loglevel',
    'error',
    ...deviceArgs(encoder),
    '-f',
    'lavfi',
    '-i',
    'color=c=gray:s=320x240:r=25',
    '-frames:v',
    '1',
    '-vf',
    uploadFilter(encoder),
    '-c:v',
    encoder.name,
    ...fixedEncoderArgs(encoder),
    '-f',
    'null',
    '-',
  ];
}

/** Runs one test encode; never throws. */
export function testEncode(
  ffmpegPath: string,
  encoder: HardwareEncoder,
  timeoutMs: number,
): Promise<EncoderTrial> {
  const started = Date.now();
  return new Promise((resolve) => {
    let stderr = '';
    let timedOut = false;
    const done = (passed: boolean, reason?: string) => {
      clearTimeout(timer);
      resolve({
        ...encoder,
        passed,
        ...(passed ? {} : { reason: reason ?? 'failed' }),
        ms: Date.now() - started,
      });
    };
    const child = spawnTool(ffmpegPath, testEncodeArgs(encoder), {
      env: { LC_ALL: 'C' },
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    const timer = setTimeout(() => {
      timedOut = true;
      child.kill('SIGKILL');
    }, timeoutMs);
    child.stderr?.setEncoding('utf8');
    child.stderr?.on('data', (chunk: string) => {
      if (stderr.length < 16_384) stderr += chunk;
    });
    child.once('error', (err) => done(false, `FFmpeg did not start: ${err.message}`));
    child.once('close', (code, signal) => {
      if (timedOut) return done(false, `no answer within ${timeoutMs} ms`);
      if (code === 0) return done(true);
      done(
        false,
        firstErrorLine(stderr) ??
          `FFmpeg ${signal ? `was killed by ${signal}` : `exited with status ${code}`}`,
      );
    });
  });
}

/**
 * The line that says why: FFmpeg's first line naming the device or encoder is the cause
 * (`No VA display found…`, `Cannot load libcuda.so.1`); the ones after it are consequences.
 */
function firstErrorLine(stderr: string): string | undefined {
  const lines = stderr
    .split('\n')
    .map((line) => line.replace(/^\[[^\]]*@ 0x[0-9a-f]+\]\s*/, '').trim())
    .filter((line) => line.length > 0);
  return lines[0]?.slice(0, 200);
}

const cache = new Map<string, Promise<EncoderCapabilities>>();

/**
 * The hardware H.264/HEVC encoders this machine can use with the FFmpeg at
 * `ffmpegPath`: each one the build lists for the platform is tried by a one-frame test
 * encode, and only those that pass are offered (`hardware`, best first). Cached per
 * process (per FFmpeg, platform and device); bounded by `timeoutMs` (15 s by default),
 * since the tests run at once. Never rejects for a failing chip: a test that fails is a
 * trial with its reason.
 */
export function detectEncoders(
  ffmpegPath: string,
  options: DetectOptions = {},
): Promise<EncoderCapabilities> {
  const platform = options.platform ?? process.platform;
  const vaapiDevice = options.vaapiDevice ?? findRenderNode();
  if (!isDevicePath(vaapiDevice)) {
    return Promise.reject(
      new KeepsakeError(
        'INVALID_PARAMETER',
        `the graphics device ${vaapiDevice} is not a device path`,
      ),
    );
  }
  const key = [ffmpegPath, platform, vaapiDevice].join('\0');
  let found = cache.get(key);
  if (!found) {
    found = detect(ffmpegPath, platform, vaapiDevice, options);
    // A failure to list encoders (FFmpeg gone) is not kept: the next call asks again.
    found.catch(() => cache.delete(key));
    cache.set(key, found);
  }
  return found;
}

async function detect(
  ffmpegPath: string,
  platform: NodeJS.Platform,
  vaapiDevice: string,
  options: DetectOptions,
): Promise<EncoderCapabilities> {
  const listed = options.listed ?? (await readCapabilities(ffmpegPath)).encoders;
  const candidates: HardwareEncoder[] = (PLATFORM_APIS[platform] ?? []).flatMap(
    (api: HardwareApi) =>
      CODECS.map((codec) => ({
        name: encoderName(codec, api),
        codec,
        api,
        ...(api === 'vaapi' ? { device: vaapiDevice } : {}),
      })).filter((encoder) => listed.has(encoder.name)),
  );
  const trials = await Promise.all(
    candidates.map((encoder) =>
      testEncode(ffmpegPath, encoder, options.timeoutMs ?? DEFAULT_TIMEOUT_MS),
    ),
  );
  return {
    software: SOFTWARE.filter((name) => listed.has(name)),
    hardware: trials
      .filter((trial) => trial.passed)
      .map(({ name, codec, api, device }) => ({
        name,
        codec,
        api,
        ...(device !== undefined ? { device } : {}),
      })),
    trials,
  };
}
