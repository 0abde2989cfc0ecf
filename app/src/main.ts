// Electron main: one instance, one supervised engine in a utility process on loopback,
// one hardened window on the engine's URL, and the preload bridge's handlers. Everything
// else (vault, jobs, UI) lives in the engine and the renderer. The logic lives in
// Electron-free modules with tests; this file only wires Electron to them.

import { join } from 'node:path';
import { app, BrowserWindow, dialog, ipcMain, Notification, shell } from 'electron';
import type { OpenDialogOptions, WebContents } from 'electron';
import { fetchDeliveredPaths, fetchEngineFolders, registerBridgeHandlers } from './bridge-handlers';
import type { EngineAddress } from './engine-process';
import { EngineSupervisor } from './engine-supervisor';
import { utilityEngineSpawner } from './engine-utility';
import { installWindowSecurity, secureWebPreferences } from './window-security';

let mainWindow: BrowserWindow | undefined;
let supervisor: EngineSupervisor | undefined;
let engineStopped = false;

/** `keepsake desktop` in a utility process (the RunAsNode fuse is off in packages). */
function createSupervisor(): EngineSupervisor {
  const root = app.getAppPath();
  return new EngineSupervisor({
    spawn: utilityEngineSpawner({
      modulePath: join(root, 'engine/bin/keepsake.mjs'),
      args: ['desktop', '--port', '0', '--static-dir', join(root, 'renderer/dist')],
      onFatalError: (location) => console.error(`[engine] fatal error at ${location}`),
    }),
    onLog: (line) => console.error(`[engine] ${line}`),
    onCrash: (reason, delayMs) => {
      console.error(`[engine] ${reason}; restarting in ${delayMs} ms`);
      mainWindow?.setTitle('Keepsake — restarting…');
      notice('Keepsake is restarting its engine', `${reason}. Running jobs will resume.`);
    },
    onRestart: (address) => {
      // A new port and token: the page must load the new URL.
      mainWindow?.setTitle('Keepsake');
      void mainWindow?.loadURL(address.openUrl);
    },
    onGiveUp: (err) => {
      dialog.showErrorBox('Keepsake stopped', err.message);
      app.quit();
    },
  });
}

/** A notification when the OS has them, else a message box that does not block. */
function notice(title: string, body: string): void {
  if (Notification.isSupported()) {
    new Notification({ title, body }).show();
  } else if (mainWindow) {
    void dialog.showMessageBox(mainWindow, { type: 'warning', message: title, detail: body });
  }
}

function createWindow(address: EngineAddress): BrowserWindow {
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
  // The page holds on while a recovery key is on screen and not yet stored
  // (renderer/src/RecoveryKeyStep.tsx). Electron would cancel the close or reload
  // silently, so ask, as a browser does.
  win.webContents.on('will-prevent-unload', (event) => {
    const choice = dialog.showMessageBoxSync(win, {
      type: 'warning',
      buttons: ['Stay and finish', 'Leave anyway'],
      defaultId: 0,
      cancelId: 0,
      message: 'Your recovery key is not stored yet',
      detail:
        'It is shown only once. If you leave now, Keepsake makes a new one the next time it opens, and you will need to write that one down.',
    });
    if (choice === 1) event.preventDefault();
  });
  void win.loadURL(address.openUrl);
  return win;
}

function focusWindow(): void {
  if (!mainWindow) return;
  if (mainWindow.isMinimized()) mainWindow.restore();
  mainWindow.focus();
}

async function launch(): Promise<void> {
  const engine = createSupervisor();
  supervisor = engine;
  installWindowSecurity(() => engine.current()?.origin);
  registerBridgeHandlers(ipcMain, {
    engine: () => engine.current(),
    showFolderPicker: async (sender) => {
      const win = BrowserWindow.fromWebContents(sender as WebContents);
      const options: OpenDialogOptions = { properties: ['openDirectory', 'createDirectory'] };
      const result = win
        ? await dialog.showOpenDialog(win, options)
        : await dialog.showOpenDialog(options);
      return result.canceled ? undefined : result.filePaths[0];
    },
    showItemInFolder: (path) => shell.showItemInFolder(path),
    showNotification: (title, body) => {
      if (!Notification.isSupported()) return;
      const notification = new Notification({ title, body });
      notification.on('click', focusWindow);
      notification.show();
    },
    engineFolders: fetchEngineFolders,
    deliveredPaths: fetchDeliveredPaths,
  });
  mainWindow = createWindow(await engine.start());
}

if (!app.requestSingleInstanceLock()) {
  // Another Keepsake is running; it gets focused through 'second-instance'.
  app.quit();
} else {
  app.on('second-instance', focusWindow);

  // The engine is the app's session: closing the window ends both, on macOS too.
  app.on('window-all-closed', () => app.quit());

  app.on('before-quit', (event) => {
    if (engineStopped || !supervisor) return;
    // Let the engine close its server and files (SIGTERM, then SIGKILL after a grace).
    event.preventDefault();
    engineStopped = true;
    void supervisor.stop().finally(() => app.quit());
  });

  app
    .whenReady()
    .then(launch)
    .catch(async (err: unknown) => {
      dialog.showErrorBox(
        'Keepsake could not start',
        err instanceof Error ? err.message : String(err),
      );
      await supervisor?.stop();
      app.exit(1);
    });
}
