// `npm start`: the desktop app when it can run, else the same UI in a browser.
//
// With a display and an installed Electron binary: build renderer + app, launch Electron
// (which starts the engine itself). Otherwise (a headless box, CI, a container, or no
// Electron binary): build the renderer and run the engine's desktop mode in the
// foreground, printing the URL to open; Ctrl-C stops it.
//
// Development data goes to .keepsake-dev/ (git-ignored) unless KEEPSAKE_HOME is set, so
// `npm start` never touches a real vault by accident.

import { spawn, spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
const require = createRequire(join(root, 'package.json'));
const npm = process.platform === 'win32' ? 'npm.cmd' : 'npm';

const env = {
  ...process.env,
  KEEPSAKE_HOME: process.env.KEEPSAKE_HOME || join(root, '.keepsake-dev'),
};

function hasDisplay() {
  if (process.platform === 'darwin' || process.platform === 'win32') return true;
  return Boolean(process.env.DISPLAY || process.env.WAYLAND_DISPLAY);
}

/** The Electron binary path if it is really there, else undefined. */
function electronBinary() {
  try {
    delete require.cache[require.resolve('electron')];
    const path = require('electron');
    return typeof path === 'string' && existsSync(path) ? path : undefined;
  } catch {
    return undefined; // electron/index.js throws when its download never happened
  }
}

/** Tries Electron's own download once (its install script may have been skipped). */
function installElectron() {
  console.log('Electron binary missing; trying to download it once…');
  const result = spawnSync(process.execPath, [join(root, 'node_modules/electron/install.js')], {
    cwd: root,
    stdio: 'inherit',
  });
  return result.status === 0 ? electronBinary() : undefined;
}

function run(command, args) {
  const result = spawnSync(command, args, {
    cwd: root,
    stdio: 'inherit',
    env,
    shell: process.platform === 'win32',
  });
  if (result.status !== 0) process.exit(result.status ?? 1);
}

/** Runs a long-lived child in the foreground and mirrors its exit. */
function foreground(command, args) {
  const child = spawn(command, args, { cwd: root, stdio: 'inherit', env });
  // Ctrl-C reaches the child directly (same process group); a signal sent only to this
  // process is passed on. Either way we wait for the child to finish cleanly.
  for (const signal of ['SIGINT', 'SIGTERM']) {
    process.on(signal, () => child.kill(signal));
  }
  child.on('exit', (code) => process.exit(code ?? 1));
}

let electron;
if (hasDisplay()) {
  electron = electronBinary() ?? installElectron();
  if (!electron) console.log('Electron is not available; serving the UI in a browser instead.');
}

if (electron) {
  run(npm, ['run', 'build']);
  foreground(electron, [root]);
} else {
  run(npm, ['run', 'build:renderer', '--silent']);
  console.log(
    `${hasDisplay() ? 'No Electron' : 'No desktop display here'}: open the address below in a browser (Ctrl-C stops).`,
  );
  // The engine keeps its last port and token (in the data folder), so an open tab and a
  // bookmark keep working across restarts; `npm start -- --new-token` makes a new token.
  foreground(process.execPath, [
    join(root, 'engine/bin/keepsake.mjs'),
    'desktop',
    ...(process.env.KEEPSAKE_PORT ? ['--port', process.env.KEEPSAKE_PORT] : []),
    '--static-dir',
    join(root, 'renderer/dist'),
    ...process.argv.slice(2).filter((arg) => arg === '--new-token'),
  ]);
}
