// The whole bridge between the sandboxed page and the app: `window.keepsake`. Keep it
// tiny and typed; never expose ipcRenderer itself. A sandboxed preload can only
// require('electron'), so this file has no runtime imports of local modules.
import { contextBridge, ipcRenderer } from 'electron';

export interface EngineInfo {
  /** The engine's origin, e.g. http://127.0.0.1:51234 */
  url: string;
  token: string;
}

export interface KeepsakeBridge {
  /** Where the local engine listens and its per-launch token. */
  engine(): Promise<EngineInfo>;
}

const bridge: KeepsakeBridge = {
  engine: () => ipcRenderer.invoke('keepsake:engine-info') as Promise<EngineInfo>,
};

contextBridge.exposeInMainWorld('keepsake', bridge);
