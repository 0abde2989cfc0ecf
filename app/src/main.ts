// Electron main: one instance, one engine child on loopback, one hardened window on the
// engine's URL. Everything else (vault, jobs, UI) lives in the engine and renderer.

import { join } from 'node:path';
import { app, BrowserWindow, dialog, ipcMain } from 'electron';
import { startEngineProcess } from './engine-process';
import type { EngineProcess } from './engine-process';
import { ENGINE_INFO_CHANNEL } from './ipc-channels';
import { installWindowSecurity, isTrustedSender, secureWebPreferences } from './window-security';

let engine: EngineProcess | undefined;
let mainWindow: BrowserWindow | undefined;
let quitting = false;

/** The engine runs under Electron's own Node (ELECTRON_RUN_AS_NODE) as `keepsake desktop`. */
function startEngine(): Promise<EngineProcess> {
  const root = app.getAppPath();
  return startEngineProcess({
    command: process.execPath,
    args: [
      join(root, 'engine/bin/keepsake.mjs'),
      'desktop',
      '--port',
      '0',
      '--static-dir',
      join(root, 'renderer/dist'),
    ],
    cwd: root,
    env: { ...process.env, ELECTRON_RUN_AS_NODE: '1' },
    onLog: (line) => console.error(`[engine] ${line}`),
  });
}

function createWindow(running: EngineProcess): BrowserWindow {
  const win = new BrowserWindow({
    width: 1100,
    height: 760,
    minWidth: 640,
    minHeight: 480,
    title: 'Keepsake',
    show: false,
    webPreferences: secureWebPreferences(join(__dirname, 'preload.js')),
  });
  win.once('ready-to-show', () => win.show());
  win.on('closed', () => (mainWindow = undefined));
  void win.loadURL(running.openUrl);
  return win;
}

async function launch(): Promise<void> {
  engine = await startEngine();
  const running = engine;
  running.child.once('exit', (code, signal) => {
    if (quitting) return;
    dialog.showErrorBox('Keepsake stopped', `The Keepsake engine stopped (${signal ?? code}).`);
    app.quit();
  });

  installWindowSecurity(running.origin);
  ipcMain.handle(ENGINE_INFO_CHANNEL, (event) => {
    if (!isTrustedSender(event.senderFrame?.url, running.origin)) {
      throw new Error('refused: the sender is not the Keepsake UI');
    }
    return { url: running.origin, token: running.token };
  });

  mainWindow = createWindow(running);
}

if (!app.requestSingleInstanceLock()) {
  // Another Keepsake is running; it gets focused through 'second-instance'.
  app.quit();
} else {
  app.on('second-instance', () => {
    if (!mainWindow) return;
    if (mainWindow.isMinimized()) mainWindow.restore();
    mainWindow.focus();
  });

  // The engine is the app's session: closing the window ends both, on macOS too.
  app.on('window-all-closed', () => app.quit());

  app.on('before-quit', (event) => {
    if (quitting || !engine) return;
    // Let the engine close its server and files before the app goes.
    event.preventDefault();
    quitting = true;
    void engine.stop().finally(() => app.quit());
  });

  app
    .whenReady()
    .then(launch)
    .catch((err: unknown) => {
      dialog.showErrorBox(
        'Keepsake could not start',
        err instanceof Error ? err.message : String(err),
      );
      app.exit(1);
    });
}
