// What the family watched lately, newest first, kept in this browser's localStorage as
// library file ids only: no name, title or job id is stored (those stay in the vault).

const KEY = 'keepsake.recentlyWatched';
export const RECENT_MAX = 50;

type Store = Pick<Storage, 'getItem' | 'setItem'>;

function storage(): Store | undefined {
  try {
    return globalThis.localStorage;
  } catch {
    return undefined; // a page with storage turned off
  }
}

export function recentlyWatched(store: Store | undefined = storage()): string[] {
  try {
    const value: unknown = JSON.parse(store?.getItem(KEY) ?? '[]');
    return Array.isArray(value) ? value.filter((v): v is string => typeof v === 'string') : [];
  } catch {
    return [];
  }
}

/** Puts `fileId` first (once), keeping at most RECENT_MAX. */
export function rememberWatched(fileId: string, store: Store | undefined = storage()): string[] {
  const next = [fileId, ...recentlyWatched(store).filter((id) => id !== fileId)].slice(
    0,
    RECENT_MAX,
  );
  try {
    store?.setItem(KEY, JSON.stringify(next));
  } catch {
    // Full or refused: the list is a convenience, playing goes on.
  }
  return next;
}
