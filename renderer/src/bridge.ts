// The Electron preload bridge (`window.keepsake`), when there is one. In a plain browser
// it is absent and the UI falls back to a path field and browser uploads. Declared here
// rather than imported from app/ (the renderer may not import app code); every member is
// optional so an older or smaller bridge degrades instead of breaking.

export interface KeepsakeBridge {
  /** The real path of a dropped File (Electron's webUtils.getPathForFile). */
  getPathForFile?: (file: File) => string;
  /** A native folder picker; undefined when the user cancels. */
  pickFolder?: () => Promise<string | undefined>;
}

export function getBridge(): KeepsakeBridge | undefined {
  const candidate = (globalThis as { keepsake?: unknown }).keepsake;
  return typeof candidate === 'object' && candidate !== null
    ? (candidate as KeepsakeBridge)
    : undefined;
}

/** The dropped file's real path, or undefined in a plain browser. */
export function pathForFile(file: File): string | undefined {
  try {
    const path = getBridge()?.getPathForFile?.(file);
    return path ? path : undefined;
  } catch {
    return undefined;
  }
}
