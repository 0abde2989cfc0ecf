// The preload against a mocked Electron edge: what it exposes, that each member uses the
// channel main handles, and that it stays loadable in a sandbox (no local imports).
import { readFileSync } from 'node:fs';
import { beforeAll, describe, expect, it, vi } from 'vitest';
import * as channels from './ipc-channels';
import type { KeepsakeBridge } from './preload';

const electron = vi.hoisted(() => ({
  contextBridge: { exposeInMainWorld: vi.fn() },
  ipcRenderer: { invoke: vi.fn(async (..._args: unknown[]): Promise<unknown> => undefined) },
  webUtils: { getPathForFile: vi.fn(() => '/home/ann/Tapes/a.mov') },
}));
vi.mock('electron', () => electron);

const source = readFileSync(new URL('./preload.ts', import.meta.url), 'utf8');
let bridge: KeepsakeBridge;

beforeAll(async () => {
  await import('./preload');
  expect(electron.contextBridge.exposeInMainWorld).toHaveBeenCalledOnce();
  const [name, exposed] = electron.contextBridge.exposeInMainWorld.mock.calls[0] as unknown as [
    string,
    KeepsakeBridge,
  ];
  expect(name).toBe('keepsake');
  bridge = exposed;
});

describe('preload', () => {
  it('exposes exactly window.keepsake.{engine, pickFolder, pathForFile, reveal, notify}', () => {
    expect(Object.keys(bridge)).toEqual([
      'engine',
      'pickFolder',
      'pathForFile',
      'reveal',
      'notify',
    ]);
  });

  it('asks main over the shared channels, passing the arguments through', async () => {
    electron.ipcRenderer.invoke.mockResolvedValueOnce({ url: 'http://127.0.0.1:1', token: 't' });
    expect(await bridge.engine()).toEqual({ url: 'http://127.0.0.1:1', token: 't' });
    electron.ipcRenderer.invoke.mockResolvedValueOnce('/home/ann/Tapes');
    expect(await bridge.pickFolder()).toBe('/home/ann/Tapes');
    electron.ipcRenderer.invoke.mockResolvedValueOnce('ignored');
    expect(await bridge.reveal('/home/ann/Tapes/a.mov')).toBeUndefined();
    expect(await bridge.notify('Done', '3 tapes encoded')).toBeUndefined();
    expect(electron.ipcRenderer.invoke.mock.calls).toEqual([
      [channels.ENGINE_INFO_CHANNEL],
      [channels.PICK_FOLDER_CHANNEL],
      [channels.REVEAL_CHANNEL, '/home/ann/Tapes/a.mov'],
      [channels.NOTIFY_CHANNEL, 'Done', '3 tapes encoded'],
    ]);
  });

  it('reads a dropped file path synchronously in the preload', () => {
    const file = { name: 'a.mov' } as File;
    expect(bridge.pathForFile(file)).toBe('/home/ann/Tapes/a.mov');
    expect(electron.webUtils.getPathForFile).toHaveBeenCalledWith(file);
  });

  it('spells out every channel of ipc-channels.ts, and no other', () => {
    const spelled = [...source.matchAll(/'(keepsake:[\w-]+)'/g)].map((m) => m[1]);
    expect(new Set(spelled)).toEqual(new Set(channels.IPC_CHANNELS));
  });

  it('imports nothing at runtime but electron (sandboxed preloads cannot)', () => {
    const runtimeImports = [...source.matchAll(/^import (?!type )[^;]*from '([^']+)'/gm)].map(
      (m) => m[1],
    );
    expect(runtimeImports).toEqual(['electron']);
    expect(source).not.toMatch(/exposeInMainWorld\([^)]*ipcRenderer\)/);
  });
});
