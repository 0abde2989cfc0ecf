// Starts the engine as a child process and waits until it serves. Electron-free, so it
// is tested against the real engine under plain Node.

import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';

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

export interface EngineProcess extends EngineAddress {
  child: ChildProcess;
  /** Asks the engine to stop (SIGTERM) and waits for it to exit. */
  stop(): Promise<void>;
}

export interface StartEngineOptions {
  command: string;
  args: string[];
  env?: NodeJS.ProcessEnv;
  cwd?: string;
  timeoutMs?: number;
  /** Engine stderr, line by line (the app forwards it to its own log). */
  onLog?: (line: string) => void;
}

export async function startEngineProcess(opts: StartEngineOptions): Promise<EngineProcess> {
  // The IPC channel is only a lifeline: the engine exits when it closes, so a crashed
  // app never leaves an engine holding a port.
  const child = spawn(opts.command, opts.args, {
    cwd: opts.cwd,
    env: opts.env,
    stdio: ['ignore', 'pipe', 'pipe', 'ipc'],
    windowsHide: true,
  });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const stderrTail: string[] = [];
  forEachLine(child.stderr, (line) => {
    stderrTail.push(line);
    if (stderrTail.length > 20) stderrTail.shift();
    opts.onLog?.(line);
  });

  const timeoutMs = opts.timeoutMs ?? 30_000;
  try {
    const address = await new Promise<EngineAddress>((resolve, reject) => {
      const timer = setTimeout(
        () => reject(new Error(`the engine did not start within ${timeoutMs / 1000} s`)),
        timeoutMs,
      );
      forEachLine(child.stdout, (line) => {
        const found = parseReadyLine(line);
        if (found) {
          clearTimeout(timer);
          resolve(found);
        }
      });
      child.once('error', (err) => {
        clearTimeout(timer);
        reject(err);
      });
      child.once('exit', (code, signal) => {
        clearTimeout(timer);
        const why = stderrTail.join('\n') || 'no output';
        reject(new Error(`the engine exited (${signal ?? code}) before it was ready: ${why}`));
      });
    });
    await waitForLive(address.origin, timeoutMs);
    return {
      ...address,
      child,
      stop: async () => {
        if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
        await exited;
      },
    };
  } catch (err) {
    child.kill('SIGKILL');
    throw err;
  }
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
  stream?.on('data', (chunk: Buffer) => {
    buffered += chunk.toString();
    const lines = buffered.split('\n');
    buffered = lines.pop() ?? '';
    for (const line of lines) onLine(line);
  });
}
