// Browser mode's address, kept across restarts: `keepsake desktop` (what `npm start` runs
// without Electron) reuses its last port and bearer token, so a tab left open reconnects
// by itself after a restart and a bookmark of the printed URL keeps working. The token is
// a secret (it opens the API), so the file is 0600 in the data folder, beside the keyring
// it guards no more than the user's own account already does.
//
// The desktop app (`--port 0`) does not use this: it opens its own window at each start,
// so a per-launch token costs it nothing.

import { randomBytes } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { writeFileAtomic } from '../fs/atomic';

export interface SavedAddress {
  /** The port last listened on; 0 when none was saved. */
  port: number;
  token: string;
}

export function addressPath(dataDir: string): string {
  return join(dataDir, 'desktop-address.json');
}

export function newToken(): string {
  return randomBytes(32).toString('base64url');
}

const TOKEN = /^[\w-]{43}$/;

/** The saved address, or a fresh token (and no port) when none is saved or it is unreadable. */
export async function loadAddress(dataDir: string): Promise<SavedAddress> {
  try {
    const saved = JSON.parse(await readFile(addressPath(dataDir), 'utf8')) as Partial<SavedAddress>;
    const port = Number.isInteger(saved.port) ? (saved.port as number) : 0;
    if (typeof saved.token === 'string' && TOKEN.test(saved.token) && port >= 0 && port < 65536) {
      return { port, token: saved.token };
    }
  } catch {
    // Missing or damaged: a new token, saved once the server listens.
  }
  return { port: 0, token: newToken() };
}

/** Saved owner-only (0600) and atomically, so a crash never leaves half a token. */
export async function saveAddress(dataDir: string, address: SavedAddress): Promise<void> {
  await writeFileAtomic(addressPath(dataDir), `${JSON.stringify(address)}\n`);
}
