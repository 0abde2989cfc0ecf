// The folder automated delivery last saved into, remembered in this browser (or app
// window) so the family does not have to pick it again each time.

const KEY = 'keepsake.make.outDir';

const browserStorage = (): Storage | undefined => {
  try {
    return globalThis.localStorage;
  } catch {
    return undefined;
  }
};

export function lastOutDir(storage = browserStorage()): string {
  try {
    return storage?.getItem(KEY) ?? '';
  } catch {
    return '';
  }
}

export function rememberOutDir(dir: string, storage = browserStorage()): void {
  const value = dir.trim();
  if (!value) return;
  try {
    storage?.setItem(KEY, value);
  } catch {
    // Storage full or refused: the choice is simply not remembered.
  }
}
