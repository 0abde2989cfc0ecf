// The Electron preload bridge (`window.keepsake`), when there is one. In a plain browser
// it is absent and the UI falls back to a path field and browser uploads. Its shape comes
// from app/src/preload.ts as a type only; every member is treated as optional, so an
// older or smaller bridge degrades instead of breaking.
import type { KeepsakeBridge as AppBridge } from '../../app/src/preload';

export type KeepsakeBridge = Partial<AppBridge>;

export function getBridge(): KeepsakeBridge | undefined {
  const candidate = (globalThis as { keepsake?: unknown }).keepsake;
  return typeof candidate === 'object' && candidate !== null
    ? (candidate as KeepsakeBridge)
    : undefined;
}

/** The dropped file's real path, or undefined in a plain browser (or not on disk). */
export function pathForFile(file: File): string | undefined {
  try {
    const path = getBridge()?.pathForFile?.(file);
    return path ? path : undefined;
  } catch {
    return undefined;
  }
}

/** An OS notification where the app offers one; silently nothing in a browser. */
export function notify(title: string, body: string): void {
  const send = getBridge()?.notify;
  if (!send) return;
  send(title.slice(0, 100), body.slice(0, 300)).catch(() => {});
}

/** Whether "Show in folder" can be offered (the app); a browser shows the path instead. */
export function canShowInFolder(): boolean {
  return typeof getBridge()?.reveal === 'function';
}

/**
 * Shows a delivered file in the OS file manager. The app's main process checks the path
 * is one the engine reported as delivered (or inside a folder the user picked); false
 * when there is no bridge or it refused.
 */
export async function showInFolder(path: string): Promise<boolean> {
  const reveal = getBridge()?.reveal;
  if (!reveal) return false;
  try {
    await reveal(path);
    return true;
  } catch {
    return false;
  }
}
