// Finds the FFmpeg and FFprobe binaries the engine runs, and proves they work.
//
// Order (first hit wins):
//   1. config      an explicit path given by the caller (flag or settings)
//   2. env         FFMPEG_PATH / FFPROBE_PATH
//   3. ffmpeg-static        its binary, when the download actually happened
//   4. system      `ffmpeg` / `ffprobe` on PATH
//   5. npm-package          @ffmpeg-installer/ffmpeg + @ffprobe-installer/ffprobe, last:
//                  a 2018 build (N-47683) that crashes (SIGSEGV) on multi-rendition HLS,
//                  and whose FFprobe (N-66595) crashes on MPEG-TS. It is there so that a
//                  machine with no FFmpeg at all can still encode.
//
// An explicit choice (config or env) that does not work is an error, never a silent
// fall-through: a user who names a binary wants that binary, and quietly encoding with
// a different FFmpeg (other codecs, other version) would hide a typo until the output
// looked wrong. The automatic sources (3-5) are tried in turn and skipped when absent.
//
// FFprobe: config, env, then FFprobe beside the chosen FFmpeg (one build), then PATH,
// and the npm-packaged FFprobe last.

import { execFile } from 'node:child_process';
import { constants } from 'node:fs';
import { access, stat } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { delimiter, dirname, isAbsolute, join, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import { KeepsakeError } from '../core/errors';
import type { ToolCache } from './tool-cache';

export type FfmpegSource = 'config' | 'env' | 'ffmpeg-static' | 'npm-package' | 'system';

export interface FfmpegLocation {
  /** Where the FFmpeg binary came from. */
  source: FfmpegSource;
  ffmpegPath: string;
  /** Where the FFprobe binary came from; may differ from `source`. */
  ffprobeSource: FfmpegSource | 'beside-ffmpeg';
  ffprobePath: string;
  /** The version token from the first line of `ffmpeg -version`. */
  version: string;
}

export interface LocateOptions {
  /** Explicit paths (source 'config'); beat the environment. */
  ffmpegPath?: string;
  ffprobePath?: string;
  /** Environment to read FFMPEG_PATH, FFPROBE_PATH and PATH from. */
  env?: NodeJS.ProcessEnv;
  /**
   * Folder from which npm packages are resolved (ffmpeg-static, @ffmpeg-installer/...).
   * Defaults to this module's folder; a packaged app can point it at its resources.
   */
  resolveFrom?: string;
  platform?: NodeJS.Platform;
  /** Remembers what binaries said about their version (see tool-cache.ts). */
  cache?: ToolCache;
}

type Tool = 'ffmpeg' | 'ffprobe';

interface Found {
  path: string;
  version: string;
}

const VERSION_TIMEOUT_MS = 15_000;

export async function locateFfmpeg(options: LocateOptions = {}): Promise<FfmpegLocation> {
  const env = options.env ?? process.env;
  const platform = options.platform ?? process.platform;
  const req = createRequire(
    join(options.resolveFrom ?? dirname(fileURLToPath(import.meta.url)), 'x.js'),
  );
  const tried: string[] = [];

  const ffmpeg = await findTool<'ffmpeg-static' | 'npm-package'>('ffmpeg', {
    cache: options.cache,
    configPath: options.ffmpegPath,
    envName: 'FFMPEG_PATH',
    env,
    platform,
    tried,
    packages: [
      { source: 'ffmpeg-static', name: 'ffmpeg-static', load: () => req('ffmpeg-static') },
    ],
    fallbacks: [
      {
        source: 'npm-package',
        name: '@ffmpeg-installer/ffmpeg',
        load: () => (req('@ffmpeg-installer/ffmpeg') as { path: string }).path,
      },
    ],
  });
  if (!ffmpeg) throw notFound('ffmpeg', tried);

  const probeTried: string[] = [];
  const ffprobe = await findTool<'beside-ffmpeg' | 'npm-package'>('ffprobe', {
    cache: options.cache,
    configPath: options.ffprobePath,
    envName: 'FFPROBE_PATH',
    env,
    platform,
    tried: probeTried,
    packages: [
      // FFprobe next to the chosen FFmpeg keeps the pair from one build.
      {
        source: 'beside-ffmpeg',
        name: 'beside ffmpeg',
        load: () => join(dirname(ffmpeg.found.path), exe('ffprobe', platform)),
      },
    ],
    fallbacks: [
      {
        source: 'npm-package',
        name: '@ffprobe-installer/ffprobe',
        load: () => (req('@ffprobe-installer/ffprobe') as { path: string }).path,
      },
    ],
  });
  if (!ffprobe) throw notFound('ffprobe', probeTried);

  return {
    source: ffmpeg.source,
    ffmpegPath: ffmpeg.found.path,
    ffprobeSource: ffprobe.source,
    ffprobePath: ffprobe.found.path,
    version: ffmpeg.found.version,
  };
}

interface Candidate<S> {
  source: S;
  name: string;
  /** Returns the binary path the package claims; may throw when it is unusable. */
  load: () => unknown;
}

interface FindSpec<S> {
  cache?: ToolCache;
  configPath: string | undefined;
  envName: 'FFMPEG_PATH' | 'FFPROBE_PATH';
  env: NodeJS.ProcessEnv;
  platform: NodeJS.Platform;
  tried: string[];
  /** Binaries found relative to a package or another binary, tried in order. */
  packages: Candidate<S>[];
  /** Candidates tried after PATH. */
  fallbacks?: Candidate<S>[];
}

async function findTool<S extends string>(
  tool: Tool,
  spec: FindSpec<S>,
): Promise<{ source: 'config' | 'env' | 'system' | S; found: Found } | undefined> {
  const { env, platform, tried } = spec;

  // 1-2. Explicit choices: must work, or we stop here.
  if (spec.configPath) {
    return {
      source: 'config',
      found: await explicit(
        tool,
        spec.configPath,
        'the configured path',
        env,
        platform,
        spec.cache,
      ),
    };
  }
  const fromEnv = env[spec.envName];
  if (fromEnv) {
    return {
      source: 'env',
      found: await explicit(tool, fromEnv, spec.envName, env, platform, spec.cache),
    };
  }
  tried.push(`${spec.envName} (not set)`);

  // 3. ffmpeg-static (or, for FFprobe, the one beside the chosen FFmpeg).
  const fromPackages = await tryPackages(tool, spec.packages, tried, spec.cache);
  if (fromPackages) return fromPackages;

  // 4. The system PATH; then 5, the npm-packaged fallbacks.
  const onPath = await searchPath(exe(tool, platform), env, platform);
  if (onPath) {
    const found = await tryCandidate(tool, onPath, `PATH (${onPath})`, tried, spec.cache);
    if (found) return { source: 'system', found };
  } else {
    tried.push(`${exe(tool, platform)} on PATH (not found)`);
  }
  return tryPackages(tool, spec.fallbacks ?? [], tried, spec.cache);
}

async function tryPackages<S extends string>(
  tool: Tool,
  candidates: Candidate<S>[],
  tried: string[],
  cache: ToolCache | undefined,
): Promise<{ source: S; found: Found } | undefined> {
  for (const pkg of candidates) {
    let claimed: unknown;
    try {
      claimed = pkg.load();
    } catch (err) {
      tried.push(`${pkg.name} (not installed: ${describe(err)})`);
      continue;
    }
    if (typeof claimed !== 'string' || claimed === '') {
      tried.push(`${pkg.name} (no binary for this platform)`);
      continue;
    }
    const found = await tryCandidate(
      tool,
      unpacked(claimed),
      `${pkg.name} (${claimed})`,
      tried,
      cache,
    );
    if (found) return { source: pkg.source, found };
  }
  return undefined;
}

/** An explicit path or command name; anything wrong with it is reported, not skipped. */
async function explicit(
  tool: Tool,
  value: string,
  label: string,
  env: NodeJS.ProcessEnv,
  platform: NodeJS.Platform,
  cache: ToolCache | undefined,
): Promise<Found> {
  // A bare name ("ffmpeg") means "this command on PATH"; anything else is a file path.
  const isBareName = !value.includes('/') && !value.includes(sep) && !isAbsolute(value);
  const path = isBareName ? await searchPath(value, env, platform) : resolve(value);
  if (!path) {
    throw new KeepsakeError(
      'FFMPEG_NOT_FOUND',
      `${label} names ${tool} "${value}", but no such command is on PATH`,
    );
  }
  const problem = await unusable(path);
  if (problem) {
    throw new KeepsakeError(
      'FFMPEG_NOT_FOUND',
      `${label} names ${tool} "${path}", which ${problem}`,
    );
  }
  try {
    return { path, version: await versionOf(tool, path, cache) };
  } catch (err) {
    throw new KeepsakeError(
      'FFMPEG_NOT_FOUND',
      `${label} names ${tool} "${path}", which does not work as ${tool}: ${describe(err)}`,
      { cause: err },
    );
  }
}

/** An automatic candidate: absent or broken means "try the next one". */
async function tryCandidate(
  tool: Tool,
  path: string,
  label: string,
  tried: string[],
  cache: ToolCache | undefined,
): Promise<Found | undefined> {
  const problem = await unusable(path);
  if (problem) {
    tried.push(`${label}: ${problem}`);
    return undefined;
  }
  try {
    return { path, version: await versionOf(tool, path, cache) };
  } catch (err) {
    tried.push(`${label}: does not run (${describe(err)})`);
    return undefined;
  }
}

async function unusable(path: string): Promise<string | undefined> {
  const info = await stat(path).catch(() => undefined);
  if (!info) return 'does not exist';
  if (!info.isFile()) return 'is not a file';
  const executable = await access(path, constants.X_OK).then(
    () => true,
    () => false,
  );
  return executable ? undefined : 'is not executable';
}

function versionOf(tool: Tool, path: string, cache: ToolCache | undefined): Promise<string> {
  return cache
    ? cache.get(path, 'version', () => readVersion(tool, path))
    : readVersion(tool, path);
}

/** Runs `<tool> -version` and returns the token after "<tool> version". */
export async function readVersion(tool: Tool, path: string): Promise<string> {
  const stdout = await new Promise<string>((resolvePromise, reject) => {
    execFile(
      path,
      ['-hide_banner', '-version'],
      { timeout: VERSION_TIMEOUT_MS, windowsHide: true, maxBuffer: 1 << 20 },
      (err, out) => (err ? reject(err) : resolvePromise(out)),
    );
  });
  const version = parseVersionLine(tool, stdout.split(/\r?\n/, 1)[0] ?? '');
  if (!version)
    throw new Error(`unexpected -version output: ${JSON.stringify(stdout.slice(0, 80))}`);
  return version;
}

/** "ffmpeg version 6.1.1-static https://..." → "6.1.1-static". */
export function parseVersionLine(tool: Tool, line: string): string | undefined {
  const match = new RegExp(`^${tool} version (\\S+)`).exec(line.trim());
  return match?.[1];
}

async function searchPath(
  name: string,
  env: NodeJS.ProcessEnv,
  platform: NodeJS.Platform,
): Promise<string | undefined> {
  const dirs = (env.PATH ?? env.Path ?? '').split(platform === 'win32' ? ';' : delimiter);
  for (const dir of dirs) {
    if (!dir) continue;
    const candidate = join(dir, name);
    if (!(await unusable(candidate))) return candidate;
  }
  return undefined;
}

function exe(tool: Tool, platform: NodeJS.Platform): string {
  return platform === 'win32' ? `${tool}.exe` : tool;
}

/**
 * Inside a packaged Electron app, package files sit in app.asar, which cannot be
 * executed; electron-builder's asarUnpack puts the binaries in app.asar.unpacked.
 */
function unpacked(path: string): string {
  return path.replace(`${sep}app.asar${sep}`, `${sep}app.asar.unpacked${sep}`);
}

function notFound(tool: Tool, tried: string[]): KeepsakeError {
  const hint =
    tool === 'ffmpeg'
      ? 'Install FFmpeg (for example `apt install ffmpeg` or `brew install ffmpeg`) or set FFMPEG_PATH.'
      : 'Install FFprobe (it comes with FFmpeg) or set FFPROBE_PATH.';
  return new KeepsakeError(
    'FFMPEG_NOT_FOUND',
    `no usable ${tool} found. Tried: ${tried.join('; ')}. ${hint}`,
  );
}

function describe(err: unknown): string {
  if (err instanceof Error) return err.message.split('\n', 1)[0] ?? err.message;
  return String(err);
}
