// The supervisor against the real engine under plain Node: a crash (SIGKILL) brings a new
// engine with a new port and token, repeated failures end in one final error, and stop()
// leaves nothing running. Processes that fail are real processes too, never mocks.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { nodeEngineSpawner } from './engine-process';
import type { EngineAddress, EngineChild, SpawnEngine } from './engine-process';
import { EngineSupervisor } from './engine-supervisor';
import type { SupervisorOptions } from './engine-supervisor';

const entry = fileURLToPath(new URL('../../engine/bin/keepsake.mjs', import.meta.url));
const supervisors: EngineSupervisor[] = [];
const dirs: string[] = [];
afterEach(async () => {
  await Promise.all(supervisors.splice(0).map((s) => s.stop()));
  await Promise.all(dirs.splice(0).map((d) => rm(d, { recursive: true, force: true })));
});

async function engineSpawner(): Promise<SpawnEngine> {
  const dataDir = await mkdtemp(join(tmpdir(), 'keepsake-supervisor-'));
  dirs.push(dataDir);
  return nodeEngineSpawner({
    command: process.execPath,
    args: [entry, 'desktop', '--data-dir', dataDir, '--port', '0'],
  });
}

/** A real process that fails at once, like an engine that cannot open its database. */
const failing: SpawnEngine = nodeEngineSpawner({
  command: process.execPath,
  args: ['-e', "console.error('keepsake: database is corrupt'); process.exit(3)"],
});

/** Records every child it spawns, so a test can kill the running one. */
function recording(spawn: SpawnEngine): { spawn: SpawnEngine; children: EngineChild[] } {
  const children: EngineChild[] = [];
  return {
    children,
    spawn: () => {
      const child = spawn();
      children.push(child);
      return child;
    },
  };
}

function supervise(opts: SupervisorOptions): EngineSupervisor {
  const supervisor = new EngineSupervisor(opts);
  supervisors.push(supervisor);
  return supervisor;
}

async function status(address: EngineAddress, token = address.token): Promise<number> {
  const res = await fetch(`${address.origin}/v1/status`, {
    headers: { authorization: `Bearer ${token}` },
  });
  return res.status;
}

describe('EngineSupervisor', () => {
  it('restarts a killed engine on a new port and token and reports the new address', async () => {
    const { spawn, children } = recording(await engineSpawner());
    const crashes: Array<{ reason: string; delayMs: number }> = [];
    let restarted: (value: { address: EngineAddress; restarts: number }) => void = () => {};
    const restart = new Promise<{ address: EngineAddress; restarts: number }>(
      (resolve) => (restarted = resolve),
    );
    const supervisor = supervise({
      spawn,
      initialDelayMs: 50,
      onCrash: (reason, delayMs) => crashes.push({ reason, delayMs }),
      onRestart: (address, restarts) => restarted({ address, restarts }),
    });

    const first = await supervisor.start();
    expect(supervisor.current()).toEqual(first);
    expect(await status(first)).toBe(200);

    children[0]?.kill('SIGKILL');
    const { address: second, restarts } = await restart;
    expect(crashes).toEqual([
      { reason: 'the engine stopped unexpectedly (signal SIGKILL)', delayMs: 50 },
    ]);
    expect(restarts).toBe(1);
    expect(second.token).not.toBe(first.token);
    expect(second.openUrl).toBe(`${second.origin}/#token=${second.token}`);
    expect(supervisor.current()).toEqual(second);
    expect(supervisor.state).toBe('running');
    expect(await status(second)).toBe(200);
    // The old token means nothing to the new engine.
    expect(await status(second, first.token)).toBe(401);
    await expect(fetch(`${first.origin}/live`)).rejects.toThrow();

    await supervisor.stop();
    expect(supervisor.current()).toBeUndefined();
    await expect(fetch(`${second.origin}/live`)).rejects.toThrow();
    expect(children).toHaveLength(2);
  });

  it('backs off between restarts and gives up with one final error', async () => {
    const engine = await engineSpawner();
    let spawned = 0;
    // The first start works; every later one fails, as a broken install would.
    const { spawn, children } = recording(() => (spawned++ === 0 ? engine() : failing()));
    const delays: number[] = [];
    let restarted = 0;
    let gaveUp: (err: Error) => void = () => {};
    const finalError = new Promise<Error>((resolve) => (gaveUp = resolve));
    const supervisor = supervise({
      spawn,
      initialDelayMs: 20,
      maxDelayMs: 50,
      maxCrashes: 3,
      onCrash: (_reason, delayMs) => delays.push(delayMs),
      onRestart: () => restarted++,
      onGiveUp: gaveUp,
    });
    await supervisor.start();
    children[0]?.kill('SIGKILL');

    const error = await finalError;
    expect(delays).toEqual([20, 40, 50]);
    expect(error.message).toMatch(
      /exited \(3\) before it was ready: keepsake: database is corrupt\. It stopped 4 times within 60 s/,
    );
    expect(restarted).toBe(0);
    expect(supervisor.state).toBe('failed');
    expect(supervisor.current()).toBeUndefined();
    expect(children).toHaveLength(4);
  });

  it('forgets crashes older than its window', async () => {
    const { spawn, children } = recording(await engineSpawner());
    const restarts: EngineAddress[] = [];
    let gaveUp = false;
    const supervisor = supervise({
      spawn,
      initialDelayMs: 10,
      maxCrashes: 1,
      crashWindowMs: 1,
      onRestart: (address) => restarts.push(address),
      onGiveUp: () => (gaveUp = true),
    });
    await supervisor.start();
    for (let i = 0; i < 2; i++) {
      children[i]?.kill('SIGKILL');
      await expect.poll(() => restarts.length, { timeout: 30_000 }).toBe(i + 1);
    }
    expect(gaveUp).toBe(false);
  });

  it('rejects a first start that fails, without retrying', async () => {
    const { spawn, children } = recording(failing);
    const supervisor = supervise({ spawn });
    await expect(supervisor.start()).rejects.toThrow(/database is corrupt/);
    expect(children).toHaveLength(1);
  });

  it('does not restart after stop(), even with a restart pending', async () => {
    const { spawn, children } = recording(await engineSpawner());
    let crashed: () => void = () => {};
    const crash = new Promise<void>((resolve) => (crashed = resolve));
    const supervisor = supervise({ spawn, initialDelayMs: 200, onCrash: () => crashed() });
    await supervisor.start();
    children[0]?.kill('SIGKILL');
    await crash;
    await supervisor.stop();
    await new Promise((r) => setTimeout(r, 400));
    expect(children).toHaveLength(1);
    expect(supervisor.state).toBe('stopped');
  });
});
