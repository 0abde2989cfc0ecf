// utilityProcess is mocked at its edge (a plain emitter with streams), so the adapter's
// mapping of fork options, kill signals and exits is checked without Electron.
import { EventEmitter } from 'node:events';
import { PassThrough } from 'node:stream';
import { beforeEach, describe, expect, it, vi } from 'vitest';

class FakeUtilityProcess extends EventEmitter {
  pid: number | undefined = 4242;
  stdout = new PassThrough();
  stderr = new PassThrough();
  kill = vi.fn(() => true);
  postMessage = vi.fn();
}

const electron = vi.hoisted(() => ({
  utilityProcess: { fork: vi.fn() },
}));
vi.mock('electron', () => electron);

import { utilityEngineSpawner } from './engine-utility';

let fake: FakeUtilityProcess;
beforeEach(() => {
  fake = new FakeUtilityProcess();
  electron.utilityProcess.fork.mockReset().mockReturnValue(fake);
});

describe('utilityEngineSpawner', () => {
  it('forks the engine with piped output and a service name', () => {
    const child = utilityEngineSpawner({
      modulePath: '/app/engine/bin/keepsake.mjs',
      args: ['desktop'],
    })();
    expect(electron.utilityProcess.fork).toHaveBeenCalledWith(
      '/app/engine/bin/keepsake.mjs',
      ['desktop'],
      { stdio: 'pipe', serviceName: 'Keepsake engine', env: undefined },
    );
    expect(child.stdout).toBe(fake.stdout);
    expect(child.stderr).toBe(fake.stderr);
  });

  it('asks with a stop message (not kill(), which is TerminateProcess on Windows) and forces with SIGKILL on the pid', () => {
    const kill = vi.spyOn(process, 'kill').mockImplementation(() => true);
    const child = utilityEngineSpawner({ modulePath: '/m', args: [] })();
    child.kill('SIGTERM');
    expect(fake.postMessage).toHaveBeenCalledWith('keepsake:stop');
    expect(fake.kill).not.toHaveBeenCalled();
    child.kill('SIGKILL');
    expect(kill).toHaveBeenCalledWith(4242, 'SIGKILL');
    kill.mockRestore();
  });

  it('reports the exit code, or SIGKILL when it forced the exit', () => {
    const plain = utilityEngineSpawner({ modulePath: '/m', args: [] })();
    const seen = vi.fn();
    plain.onExit(seen);
    fake.emit('exit', 0);
    expect(seen).toHaveBeenCalledWith({ code: 0, signal: null });
    // Late listeners still hear about it, and a dead process is not signalled.
    const late = vi.fn();
    plain.onExit(late);
    expect(late).toHaveBeenCalledWith({ code: 0, signal: null });
    plain.kill('SIGTERM');
    expect(fake.postMessage).not.toHaveBeenCalled();

    fake = new FakeUtilityProcess();
    electron.utilityProcess.fork.mockReturnValue(fake);
    const kill = vi.spyOn(process, 'kill').mockImplementation(() => true);
    const forced = utilityEngineSpawner({ modulePath: '/m', args: [] })();
    const forcedExit = vi.fn();
    forced.onExit(forcedExit);
    forced.kill('SIGKILL');
    fake.emit('exit', 9);
    expect(forcedExit).toHaveBeenCalledWith({ code: null, signal: 'SIGKILL' });
    kill.mockRestore();
  });

  it('passes fatal V8 errors on', () => {
    const onFatalError = vi.fn();
    utilityEngineSpawner({ modulePath: '/m', args: [], onFatalError })();
    fake.emit('error', 'FatalError', 'v8::Foo', '{report}');
    expect(onFatalError).toHaveBeenCalledWith('v8::Foo', '{report}');
  });
});
