// Once, on the first load after an update: what older versions kept in this browser's
// localStorage (the delivery folder, the recently-watched ids) goes to the engine, which
// keeps them now, and is removed from the browser. The app's origin changes every launch,
// so localStorage was forgotten anyway; and a browser profile is plaintext on disk.
import type { EngineClient } from './engine-client';
import { EngineError } from './engine-error';

export const OLD_OUT_DIR_KEY = 'keepsake.make.outDir';
export const OLD_WATCHED_KEY = 'keepsake.recentlyWatched';

type Store = Pick<Storage, 'getItem' | 'removeItem'>;
type Client = Pick<EngineClient, 'settings' | 'updateSettings' | 'rememberWatched'>;

const FILE_ID = /^m[a-z2-7]{12}$/;

function browserStorage(): Store | undefined {
  try {
    return globalThis.localStorage;
  } catch {
    return undefined; // a page with storage turned off
  }
}

function read(store: Store, key: string): string | null {
  try {
    return store.getItem(key);
  } catch {
    return null;
  }
}

/** The ids an older version stored, newest first; anything else in the value is dropped. */
function oldIds(raw: string | null): string[] {
  try {
    const value: unknown = JSON.parse(raw ?? '[]');
    return Array.isArray(value)
      ? value.filter((v): v is string => typeof v === 'string' && FILE_ID.test(v)).slice(0, 50)
      : [];
  } catch {
    return [];
  }
}

/**
 * Moves the old values to the engine; each key is removed once the engine has it (or
 * holds nothing worth moving). A failure leaves the key for the next load. The engine's
 * own delivery folder, when it has one, is newer than the browser's and is kept.
 */
export async function moveOldChoices(client: Client, store = browserStorage()): Promise<void> {
  if (!store) return;
  const outDir = read(store, OLD_OUT_DIR_KEY);
  if (outDir !== null) {
    try {
      const folder = outDir.trim();
      if (folder && (await client.settings()).deliveryFolder === undefined) {
        await client.updateSettings({ deliveryFolder: folder });
      }
      store.removeItem(OLD_OUT_DIR_KEY);
    } catch (err) {
      // Refused (a relative path): not worth keeping. Anything else: tried next time.
      if (err instanceof EngineError && err.status === 400) store.removeItem(OLD_OUT_DIR_KEY);
    }
  }
  const watched = read(store, OLD_WATCHED_KEY);
  if (watched !== null) {
    try {
      const ids = oldIds(watched);
      if (ids.length > 0) await client.rememberWatched(ids);
      store.removeItem(OLD_WATCHED_KEY);
    } catch {
      // Tried again next time.
    }
  }
}
