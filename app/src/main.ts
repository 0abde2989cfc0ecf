// Electron main: one instance, one engine (a utility process) on loopback, one hardened
// window on the engine's URL. Everything else (vault, jobs, UI) lives in the engine and
// renderer.

import { join } from 'node:path';
import { app, BrowserWindow, dialog, ipcMain } from 'electron';
import { describeExit, startEngineProcess } from './engine-process';
import type { EngineProcess } from './engine-process';
import { utilityEngineSpawner } from './engine-utility';
import { ENGINE_INFO_CHANNEL } from './ipc-channels';
import { installWindowSecurity, isTrustedSender, secureWebPreferences } from './window-security';

let engine: EngineProcess | undefined;
let mainWindow: BrowserWindow | undefined;
let quitting = false;

/**
 * `keepsake desktop` in an Electron utility process: with the RunAsNode fuse off, the
 * Electron binary can no longer run the engine as plain Node (ELECTRON_RUN_AS_NODE).
 */
function startEngine(): Promise<EngineProcess> {
  const root = app.getAppPath();
  return startEngineProcess(
    utilityEngineSpawner({
      modulePath: join(root, 'engine/bin/keepsake.mjs'),
      args: ['desktop', '--port', '0', '--static-dir', join(root, 'renderer/dist')],
      onFatalError: (location) => console.error(`[engine] fatal error at ${location}`),
    }),
    { onLog: (line) => console.error(`[engine] ${line}`) },
  );
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
  void running.exited.then((exit) => {
    if (quitting) return;
    dialog.showErrorBox('Keepsake stopped', `The Keepsake engine stopped (${describeExit(exit)}).`);
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
