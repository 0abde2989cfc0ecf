// The whole bridge between the sandboxed page and the app: `window.keepsake`. Keep it
// tiny and typed; never expose ipcRenderer itself. A sandboxed preload can only
// require('electron'), so this file has no runtime imports of local modules and spells
// the channel names out (preload.test.ts checks them against ipc-channels.ts). The
// renderer may `import type { KeepsakeBridge }` from here.
import { contextBridge, ipcRenderer, webUtils } from 'electron';

export interface EngineInfo {
  /** The engine's origin, e.g. http://127.0.0.1:51234 (it changes if the engine restarts). */
  url: string;
  /** The engine's per-launch bearer token. */
  token: string;
}

export interface KeepsakeBridge {
  /** Where the local engine listens and its per-launch token. */
  engine(): Promise<EngineInfo>;
  /** A native folder picker; undefined when cancelled. */
  pickFolder(): Promise<string | undefined>;
  /** The real path of a dropped File ('' for one that is not on disk). Synchronous. */
  pathForFile(file: File): string;
  /**
   * Shows a file in the OS file manager. Only paths inside a folder picked with
   * pickFolder() or a folder the engine works in (data, library), or exactly a result the
   * engine reports automated delivery saved, are accepted.
   */
  reveal(path: string): Promise<void>;
  /** An OS notification, e.g. when a long job ends. Title 1–100 chars, body ≤ 300. */
  notify(title: string, body: string): Promise<void>;
}

const bridge: KeepsakeBridge = {
  engine: () => ipcRenderer.invoke('keepsake:engine-info') as Promise<EngineInfo>,
  pickFolder: () => ipcRenderer.invoke('keepsake:pick-folder') as Promise<string | undefined>,
  pathForFile: (file) => webUtils.getPathForFile(file),
  reveal: async (path) => {
    await ipcRenderer.invoke('keepsake:reveal', path);
  },
  notify: async (title, body) => {
    await ipcRenderer.invoke('keepsake:notify', title, body);
  },
};

contextBridge.exposeInMainWorld('keepsake', bridge);
