// Every FFmpeg and FFprobe that touches media starts here, boxed the same way:
//
// - it dies with the engine: on Linux `setpriv --pdeathsig KILL` makes the kernel kill it
//   the moment the engine goes, even by kill -9 (the signal survives the exec into
//   FFmpeg). Elsewhere, and as a second line, each child is written into the stray
//   registry (strays.ts), so the next start kills what a dead engine left running;
// - it gets an address-space cap (`prlimit --as`), so a hostile file cannot drive it to
//   take the machine's memory; the pixel limit (media-limits.ts) refuses most such files
//   before any decoding, the cap is the backstop;
// - it gets only the environment it is given (no tokens, passwords or proxies of ours).
//
// Both wrappers come with util-linux (every Debian, Ubuntu and Fedora install); where
// they are missing the tool runs unwrapped and the stray registry is the only guard.

import { execFileSync, spawn, type ChildProcess, type StdioOptions } from 'node:child_process';
import { existsSync } from 'node:fs';
import { totalmem } from 'node:os';
import { registerChild } from './strays';

const GiB = 1024 ** 3;

/**
 * Address-space cap for FFmpeg and FFprobe: half the machine's memory, between 4 and
 * 16 GiB. Address space is more than memory in use (thread stacks, malloc arenas): a 4K
 * x264 encode on 24 threads reached 2.1 GB resident under a 4 GiB cap, and worked.
 */
export const DEFAULT_MEMORY_CAP = Math.min(16 * GiB, Math.max(4 * GiB, Math.floor(totalmem() / 2)));

export interface ToolSpawnOptions {
  env: Readonly<Record<string, string>>;
  cwd?: string;
  stdio: StdioOptions;
  /** Bytes of address space; defaults to DEFAULT_MEMORY_CAP (KEEPSAKE_FFMPEG_MEMORY_CAP). */
  memoryCap?: number;
}

const wrappers = new Map<string, string | null>();

/** The util-linux wrapper at its usual place, once it has proved it runs `true`. */
function wrapper(name: 'setpriv' | 'prlimit', probe: string[]): string | undefined {
  if (process.platform !== 'linux') return undefined;
  if (!wrappers.has(name)) {
    const path = ['/usr/bin', '/bin'].map((dir) => `${dir}/${name}`).find((p) => existsSync(p));
    let usable: string | null = null;
    if (path) {
      try {
        execFileSync(path, [...probe, '--', 'true'], { stdio: 'ignore', timeout: 5000 });
        usable = path;
      } catch {
        // Too old (setpriv gained --pdeathsig in util-linux 2.33) or not allowed.
      }
    }
    wrappers.set(name, usable);
  }
  return wrappers.get(name) ?? undefined;
}

function memoryCap(option: number | undefined): number {
  const fromEnv = Number(process.env.KEEPSAKE_FFMPEG_MEMORY_CAP);
  return option ?? (Number.isSafeInteger(fromEnv) && fromEnv > 0 ? fromEnv : DEFAULT_MEMORY_CAP);
}

/** The command line that runs `tool args` boxed: the wrappers that are available, then the tool. */
export function boxedCommand(
  tool: string,
  args: readonly string[],
  cap: number = memoryCap(undefined),
): { command: string; args: string[] } {
  const prefix: string[] = [];
  const setpriv = wrapper('setpriv', ['--pdeathsig', 'KILL']);
  if (setpriv) prefix.push(setpriv, '--pdeathsig', 'KILL', '--');
  const prlimit = wrapper('prlimit', ['--as=1073741824']);
  if (prlimit) prefix.push(prlimit, `--as=${cap}`, '--');
  if (prefix.length === 0) return { command: tool, args: [...args] };
  return { command: prefix[0]!, args: [...prefix.slice(1), tool, ...args] };
}

/**
 * Starts FFmpeg or FFprobe boxed (see above). Each wrapper replaces itself with the next
 * (exec), so the child's pid is FFmpeg's own, and killing it kills FFmpeg.
 */
export function spawnTool(
  tool: string,
  args: readonly string[],
  options: ToolSpawnOptions,
): ChildProcess {
  // A tool that is not there is reported as such by spawn (ENOENT), not by a wrapper.
  const { command, args: argv } = existsSync(tool)
    ? boxedCommand(tool, args, memoryCap(options.memoryCap))
    : { command: tool, args: [...args] };
  const child = spawn(command, argv, {
    cwd: options.cwd,
    env: { ...options.env },
    stdio: options.stdio,
    windowsHide: true,
  });
  if (child.pid !== undefined) {
    const done = registerChild(child.pid, tool, options.cwd);
    child.once('exit', done);
    child.once('error', done);
  }
  return child;
}

/** Whether children die with the engine on this machine (a parent-death signal). */
export function diesWithEngine(): boolean {
  return wrapper('setpriv', ['--pdeathsig', 'KILL']) !== undefined;
}
