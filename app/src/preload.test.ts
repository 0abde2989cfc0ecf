// The preload against a mocked Electron edge: what it exposes, and that it stays
// loadable in a sandbox (no runtime imports of local files).
import { readFileSync } from 'node:fs';
import { describe, expect, it, vi } from 'vitest';
import { ENGINE_INFO_CHANNEL } from './ipc-channels';

const electron = vi.hoisted(() => ({
  contextBridge: { exposeInMainWorld: vi.fn() },
  ipcRenderer: { invoke: vi.fn(async () => ({ url: 'http://127.0.0.1:1', token: 't' })) },
}));
vi.mock('electron', () => electron);

describe('preload', () => {
  it('exposes only window.keepsake.engine(), which asks main over the shared channel', async () => {
    await import('./preload');
    expect(electron.contextBridge.exposeInMainWorld).toHaveBeenCalledOnce();
    const [name, bridge] = electron.contextBridge.exposeInMainWorld.mock.calls[0] as [
      string,
      Record<string, () => Promise<unknown>>,
    ];
    expect(name).toBe('keepsake');
    expect(Object.keys(bridge)).toEqual(['engine']);
    expect(await bridge.engine?.()).toEqual({ url: 'http://127.0.0.1:1', token: 't' });
    expect(electron.ipcRenderer.invoke).toHaveBeenCalledWith(ENGINE_INFO_CHANNEL);
  });

  it('imports nothing at runtime but electron (sandboxed preloads cannot)', () => {
    const source = readFileSync(new URL('./preload.ts', import.meta.url), 'utf8');
    const runtimeImports = [...source.matchAll(/^import (?!type )[^;]*from '([^']+)'/gm)].map(
      (m) => m[1],
    );
    expect(runtimeImports).toEqual(['electron']);
  });
});
