// Starts one engine process and waits until it serves. Electron-free: the process comes
// from a spawn function, so main.ts hands in Electron's utilityProcess while the tests
// hand in a plain Node child running the real engine.

import { spawn } from 'node:child_process';

const READY = /^Keepsake is running at (http:\/\/127\.0\.0\.1:\d+)\/#token=([\w-]+)\s*$/;

export interface EngineAddress {
  /** Origin plus `/#token=…`: what the window opens. */
  openUrl: string;
  origin: string;
  token: string;
}

/** Reads the one line desktop mode prints; undefined for anything else. */
export function parseReadyLine(line: string): EngineAddress | undefined {
  const match = READY.exec(line);
  if (!match?.[1] || !match[2]) return undefined;
  return { openUrl: `${match[1]}/#token=${match[2]}`, origin: match[1], token: match[2] };
}

/**
 * What the app posts to an engine in a utility process to ask it to close its server and
 * files (engine/src/desktop/desktop-entry.ts listens on process.parentPort).
 */
export const ENGINE_STOP_MESSAGE = 'keepsake:stop';

/** How a process ended: an exit code, a signal name, or a failure to start at all. */
export interface EngineExit {
  code: number | null;
  signal: string | null;
  error?: Error;
}

export function describeExit(exit: EngineExit): string {
  if (exit.error) return exit.error.message;
  return exit.signal ? `signal ${exit.signal}` : `exit code ${exit.code}`;
}

/** The little of a child process the app needs; Node children and utility processes fit. */
export interface EngineChild {
  readonly stdout: NodeJS.ReadableStream | null;
  readonly stderr: NodeJS.ReadableStream | null;
  /** SIGTERM asks the engine to close its server and files; SIGKILL ends it at once. */
  kill(signal: 'SIGTERM' | 'SIGKILL'): void;
  /** Called once when the process has ended (or could not start). */
  onExit(listener: (exit: EngineExit) => void): void;
}

/** Starts `keepsake desktop` (with the given extra arguments). */
export type SpawnEngine = () => EngineChild;

/**
 * A plain Node child (tests, and any parent that is not Electron). Its IPC channel is a
 * lifeline: desktop mode exits when it closes, so a crashed parent never leaves an engine
 * holding a port.
 */
export function nodeEngineSpawner(opts: {
  command: string;
  args: string[];
  env?: NodeJS.ProcessEnv;
  cwd?: string;
}): SpawnEngine {
  return () => {
    const child = spawn(opts.command, opts.args, {
      cwd: opts.cwd,
      env: opts.env,
      stdio: ['ignore', 'pipe', 'pipe', 'ipc'],
      windowsHide: true,
    });
    let exitListener: ((exit: EngineExit) => void) | undefined;
    let ended: EngineExit | undefined;
    const end = (exit: EngineExit) => {
      if (ended) return;
      ended = exit;
      exitListener?.(exit);
    };
    child.once('exit', (code, signal) => end({ code, signal }));
    child.once('error', (error) => end({ code: null, signal: null, error }));
    return {
      stdout: child.stdout,
      stderr: child.stderr,
      kill: (signal) => {
        if (child.exitCode === null && child.signalCode === null) child.kill(signal);
      },
      onExit: (listener) => {
        exitListener = listener;
        if (ended) listener(ended);
      },
    };
  };
}

export interface EngineProcess extends EngineAddress {
  /** Settles when the process has ended, however that happened. */
  exited: Promise<EngineExit>;
  /** SIGTERM, then SIGKILL if it has not exited after `graceMs`; resolves once it is gone. */
  stop(graceMs?: number): Promise<EngineExit>;
  /** SIGKILL now (tests simulate a crash with it). */
  kill(): void;
}

export interface StartEngineOptions {
  timeoutMs?: number;
  /** Engine stderr, line by line (the app forwards it to its own log). */
  onLog?: (line: string) => void;
}

export const DEFAULT_STOP_GRACE_MS = 5_000;

export async function startEngineProcess(
  spawnEngine: SpawnEngine,
  opts: StartEngineOptions = {},
): Promise<EngineProcess> {
  const child = spawnEngine();
  const exited = new Promise<EngineExit>((resolve) => child.onExit(resolve));
  const stderrTail: string[] = [];
  forEachLine(child.stderr, (line) => {
    stderrTail.push(line);
    if (stderrTail.length > 20) stderrTail.shift();
    opts.onLog?.(line);
  });

  const timeoutMs = opts.timeoutMs ?? 30_000;
  let timer: ReturnType<typeof setTimeout> | undefined;
  try {
    const address = await new Promise<EngineAddress>((resolve, reject) => {
      timer = setTimeout(
        () => reject(new Error(`the engine did not start within ${timeoutMs / 1000} s`)),
        timeoutMs,
      );
      forEachLine(child.stdout, (line) => {
        const found = parseReadyLine(line);
        if (found) resolve(found);
      });
      void exited.then((exit) => {
        const why = stderrTail.join('\n') || 'no output';
        const how = exit.error ? exit.error.message : (exit.signal ?? String(exit.code));
        reject(new Error(`the engine exited (${how}) before it was ready: ${why}`));
      });
    });
    await Promise.race([
      waitForLive(address.origin, timeoutMs),
      exited.then((exit) => {
        throw new Error(`the engine exited (${describeExit(exit)}) before /live answered`);
      }),
    ]);
    return {
      ...address,
      exited,
      kill: () => child.kill('SIGKILL'),
      stop: (graceMs = DEFAULT_STOP_GRACE_MS) => stopChild(child, exited, graceMs),
    };
  } catch (err) {
    child.kill('SIGKILL');
    await exited;
    throw err;
  } finally {
    clearTimeout(timer);
  }
}

async function stopChild(
  child: EngineChild,
  exited: Promise<EngineExit>,
  graceMs: number,
): Promise<EngineExit> {
  child.kill('SIGTERM');
  let timer: ReturnType<typeof setTimeout> | undefined;
  const late = new Promise<'late'>(
    (resolve) => (timer = setTimeout(() => resolve('late'), graceMs)),
  );
  const first = await Promise.race([exited, late]);
  clearTimeout(timer);
  if (first !== 'late') return first;
  child.kill('SIGKILL');
  return exited;
}

/** Polls GET /live until it answers 200. */
export async function waitForLive(origin: string, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      const res = await fetch(`${origin}/live`);
      if (res.ok) return;
    } catch {
      // Not listening yet.
    }
    if (Date.now() > deadline) throw new Error(`${origin}/live did not answer in time`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

function forEachLine(stream: NodeJS.ReadableStream | null, onLine: (line: string) => void): void {
  let buffered = '';
  stream?.on('data', (chunk: Buffer | string) => {
    buffered += chunk.toString();
    const lines = buffered.split('\n');
    buffered = lines.pop() ?? '';
    for (const line of lines) onLine(line);
  });
}
