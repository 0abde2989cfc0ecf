// Keeps one engine running for the life of the app. Electron-free (the process comes from
// a SpawnEngine), so it is tested against the real engine under plain Node.
//
// An engine that dies is started again after a growing pause (0.5 s, 1 s, 2 s… up to a
// cap). Every start prints a new port and token, so each restart is reported with the
// new address: the window must load the new openUrl. Too many crashes in a short window
// mean something is broken for good (a corrupt database, a full disk): the supervisor
// gives up and says so once, instead of looping forever.

import { describeExit, startEngineProcess } from './engine-process';
import type { EngineAddress, EngineProcess, SpawnEngine } from './engine-process';

export interface SupervisorOptions {
  spawn: SpawnEngine;
  /** Engine stderr, line by line. */
  onLog?: (line: string) => void;
  /** The engine died; it will be started again in `delayMs`. */
  onCrash?: (reason: string, delayMs: number) => void;
  /** A restarted engine is serving at a new address (new port and token). */
  onRestart?: (address: EngineAddress, restarts: number) => void;
  /** The engine died too often; no more restarts. */
  onGiveUp?: (error: Error) => void;
  /** First pause before a restart; doubles for each recent crash. Default 500 ms. */
  initialDelayMs?: number;
  /** Longest pause. Default 8 s. */
  maxDelayMs?: number;
  /** Give up after this many crashes within `crashWindowMs`. Default 5 in 60 s. */
  maxCrashes?: number;
  crashWindowMs?: number;
  startTimeoutMs?: number;
  /** How long stop() waits after SIGTERM before SIGKILL. */
  stopGraceMs?: number;
}

export type SupervisorState = 'idle' | 'running' | 'restarting' | 'failed' | 'stopped';

export class EngineSupervisor {
  private engine: EngineProcess | undefined;
  private crashes: number[] = [];
  private restarts = 0;
  private stopping = false;
  private retryTimer: ReturnType<typeof setTimeout> | undefined;
  private launching: Promise<unknown> | undefined;
  private _state: SupervisorState = 'idle';

  constructor(private readonly opts: SupervisorOptions) {}

  get state(): SupervisorState {
    return this._state;
  }

  /** The serving engine's address; undefined while it is (re)starting or gone. */
  current(): EngineAddress | undefined {
    if (this._state !== 'running' || !this.engine) return undefined;
    const { openUrl, origin, token } = this.engine;
    return { openUrl, origin, token };
  }

  /** The first start. Rejects if the engine cannot start at all (no retries then). */
  async start(): Promise<EngineAddress> {
    if (this._state !== 'idle') throw new Error(`the supervisor is ${this._state}`);
    const address = await this.launch();
    if (!address) throw new Error('stopped while starting');
    return address;
  }

  /** Stops the engine (SIGTERM, then SIGKILL after the grace) and any pending restart. */
  async stop(): Promise<void> {
    this.stopping = true;
    this._state = 'stopped';
    clearTimeout(this.retryTimer);
    // A start in flight finishes (and stops its process) first, so nothing is left behind.
    await this.launching?.catch(() => undefined);
    const engine = this.engine;
    this.engine = undefined;
    await engine?.stop(this.opts.stopGraceMs);
  }

  private launch(): Promise<EngineAddress | undefined> {
    const launching = this.launchOnce();
    this.launching = launching;
    return launching.finally(() => {
      if (this.launching === launching) this.launching = undefined;
    });
  }

  private async launchOnce(): Promise<EngineAddress | undefined> {
    const engine = await startEngineProcess(this.opts.spawn, {
      timeoutMs: this.opts.startTimeoutMs,
      onLog: this.opts.onLog,
    });
    if (this.stopping) {
      await engine.stop(this.opts.stopGraceMs);
      return undefined;
    }
    this.engine = engine;
    this._state = 'running';
    void engine.exited.then((exit) => {
      if (this.engine !== engine || this.stopping) return;
      this.engine = undefined;
      this.crashed(`the engine stopped unexpectedly (${describeExit(exit)})`);
    });
    return { openUrl: engine.openUrl, origin: engine.origin, token: engine.token };
  }

  private crashed(reason: string): void {
    const now = Date.now();
    const windowMs = this.opts.crashWindowMs ?? 60_000;
    this.crashes = [...this.crashes.filter((t) => now - t < windowMs), now];
    const maxCrashes = this.opts.maxCrashes ?? 5;
    if (this.crashes.length > maxCrashes) {
      this._state = 'failed';
      this.opts.onGiveUp?.(
        new Error(
          `${reason}. It stopped ${this.crashes.length} times within ${Math.round(windowMs / 1000)} s, so Keepsake will not restart it again.`,
        ),
      );
      return;
    }
    const initial = this.opts.initialDelayMs ?? 500;
    const delayMs = Math.min(
      initial * 2 ** (this.crashes.length - 1),
      this.opts.maxDelayMs ?? 8_000,
    );
    this._state = 'restarting';
    this.opts.onCrash?.(reason, delayMs);
    this.retryTimer = setTimeout(() => void this.restart(), delayMs);
  }

  private async restart(): Promise<void> {
    if (this.stopping) return;
    let address: EngineAddress | undefined;
    try {
      address = await this.launch();
    } catch (err) {
      if (this.stopping) return;
      // A failed start counts as one more crash: it backs off, and eventually gives up.
      this.crashed(err instanceof Error ? err.message : String(err));
      return;
    }
    if (!address) return;
    this.restarts += 1;
    this.opts.onRestart?.(address, this.restarts);
  }
}
