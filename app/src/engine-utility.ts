// The engine in an Electron utility process, adapted to the Electron-free EngineChild
// that engine-process.ts and the supervisor use. A utility process (not a child of the
// Electron binary with ELECTRON_RUN_AS_NODE) is what keeps working with the RunAsNode
// fuse off, and Chromium ends it when the app goes away.

import { utilityProcess } from 'electron';
import { ENGINE_STOP_MESSAGE } from './engine-process';
import type { EngineChild, EngineExit, SpawnEngine } from './engine-process';

export const ENGINE_SERVICE_NAME = 'Keepsake engine';
export function utilityEngineSpawner(opts: {
  modulePath: string;
  args: string[];
  env?: NodeJS.ProcessEnv;
  onFatalError?: (location: string, report: string) => void;
}): SpawnEngine {
  return (): EngineChild => {
    const child = utilityProcess.fork(opts.modulePath, opts.args, {
      stdio: 'pipe',
      serviceName: ENGINE_SERVICE_NAME,
      env: opts.env,
    });
    // Read the streams now: they are null once 'exit' has fired.
    const { stdout, stderr } = child;
    let killedWith: 'SIGKILL' | undefined;
    let exitListener: ((exit: EngineExit) => void) | undefined;
    let ended: EngineExit | undefined;
    child.on('error', (_type, location, report) => opts.onFatalError?.(location, report));
    child.once('exit', (code) => {
      ended = { code: killedWith ? null : code, signal: killedWith ?? null };
      exitListener?.(ended);
    });
    return {
      stdout,
      stderr,
      kill: (signal) => {
        if (ended) return;
        if (signal === 'SIGKILL' && child.pid !== undefined) {
          // UtilityProcess.kill() is SIGTERM on POSIX; a hung engine needs the real thing.
          killedWith = 'SIGKILL';
          try {
            process.kill(child.pid, 'SIGKILL');
          } catch {
            // Already gone.
          }
        } else if (signal === 'SIGKILL') {
          child.kill(); // not spawned yet: nothing to force
        } else {
          // Not kill(): on Windows that is TerminateProcess, which the engine never sees.
          child.postMessage(ENGINE_STOP_MESSAGE);
        }
      },
      onExit: (listener) => {
        exitListener = listener;
        if (ended) listener(ended);
      },
    };
  };
}
