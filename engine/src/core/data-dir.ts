// Where the engine keeps its state. Everything (keyring, database, uploads, logs) lives
// under one data directory so that a user can back it up or wipe it as one folder.

import { homedir } from 'node:os';
import { join, resolve } from 'node:path';

export const APP_DIR_NAME = 'Keepsake';

/** The OS's per-user application-data folder for Keepsake. */
export function defaultDataDir(
  platform: NodeJS.Platform = process.platform,
  env: NodeJS.ProcessEnv = process.env,
  home: string = homedir(),
): string {
  switch (platform) {
    case 'win32':
      return join(env.APPDATA ?? join(home, 'AppData', 'Roaming'), APP_DIR_NAME);
    case 'darwin':
      return join(home, 'Library', 'Application Support', APP_DIR_NAME);
    default:
      return join(env.XDG_DATA_HOME || join(home, '.local', 'share'), 'keepsake');
  }
}

/** `--data-dir`, else `KEEPSAKE_HOME`, else the OS default. */
export function resolveDataDir(flag?: string, env: NodeJS.ProcessEnv = process.env): string {
  return resolve(flag || env.KEEPSAKE_HOME || defaultDataDir(process.platform, env));
}

/** The vault used when `--vault` is not given. */
export function defaultVaultDir(dataDir: string): string {
  return join(dataDir, 'vault');
}
