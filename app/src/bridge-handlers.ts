// The main-process side of window.keepsake: one ipcMain.handle per channel, each of which
// checks that the sender is the engine's UI and that its arguments have the right types
// and lengths before doing anything. Electron stays at the edge (the host below), so the
// checks are tested with plain objects.

import { isAbsolute, relative, resolve, sep } from 'node:path';
import type { EngineAddress } from './engine-process';
import {
  ENGINE_INFO_CHANNEL,
  NOTIFY_BODY_MAX,
  NOTIFY_CHANNEL,
  NOTIFY_TITLE_MAX,
  PICK_FOLDER_CHANNEL,
  REVEAL_CHANNEL,
  REVEAL_PATH_MAX,
} from './ipc-channels';
import { isTrustedSender } from './window-security';

/** What a handler sees of Electron's IpcMainInvokeEvent. */
export interface InvokeEvent {
  senderFrame?: { url: string } | null;
  sender: unknown;
}

export interface IpcLike {
  handle(channel: string, listener: (event: InvokeEvent, ...args: unknown[]) => unknown): void;
}

/** The Electron side effects, provided by main.ts. */
export interface BridgeHost {
  /** The serving engine; undefined while it is (re)starting. */
  engine(): EngineAddress | undefined;
  /** A native folder picker, modal to the sender's window; undefined when cancelled. */
  showFolderPicker(sender: unknown): Promise<string | undefined>;
  showItemInFolder(path: string): void;
  showNotification(title: string, body: string): void;
  /** Folders the engine works in (its data folder, library folders). */
  engineFolders(engine: EngineAddress): Promise<string[]>;
  /** Files (or folders) the engine reports automated delivery wrote. */
  deliveredPaths(engine: EngineAddress): Promise<string[]>;
}

export class RefusedError extends Error {}

/** Registers every bridge handler. Returns the folders picked so far (for tests). */
export function registerBridgeHandlers(ipc: IpcLike, host: BridgeHost): { picked: Set<string> } {
  // Folders the user chose in the native picker this session: revealing inside them is
  // what the user asked for.
  const picked = new Set<string>();

  const trusted = (event: InvokeEvent): EngineAddress => {
    const engine = host.engine();
    if (!engine || !isTrustedSender(event.senderFrame?.url, engine.origin)) {
      throw new RefusedError('refused: the sender is not the Keepsake UI');
    }
    return engine;
  };

  ipc.handle(ENGINE_INFO_CHANNEL, (event) => {
    const engine = trusted(event);
    return { url: engine.origin, token: engine.token };
  });

  ipc.handle(PICK_FOLDER_CHANNEL, async (event) => {
    trusted(event);
    const folder = await host.showFolderPicker(event.sender);
    if (folder) picked.add(resolve(folder));
    return folder;
  });

  ipc.handle(REVEAL_CHANNEL, async (event, path) => {
    const engine = trusted(event);
    const target = checkPath(path);
    const roots = [...picked, ...(await host.engineFolders(engine).catch(() => []))];
    // A delivered result ("Show in folder" under a finished job) may sit in a folder chosen
    // in an earlier launch: it is shown when the engine lists exactly that path.
    const delivered = async () =>
      (await host.deliveredPaths(engine).catch(() => [])).some((p) => resolve(p) === target);
    if (!roots.some((root) => isInside(target, root)) && !(await delivered())) {
      throw new RefusedError('refused: Keepsake only reveals files in its own or chosen folders');
    }
    host.showItemInFolder(target);
  });

  ipc.handle(NOTIFY_CHANNEL, (event, title, body) => {
    trusted(event);
    host.showNotification(
      checkString(title, 'title', 1, NOTIFY_TITLE_MAX),
      checkString(body, 'body', 0, NOTIFY_BODY_MAX),
    );
  });

  return { picked };
}

function checkString(value: unknown, name: string, min: number, max: number): string {
  if (typeof value !== 'string' || value.length < min || value.length > max) {
    throw new RefusedError(`refused: ${name} must be a string of ${min} to ${max} characters`);
  }
  return value;
}

function checkPath(value: unknown): string {
  const path = checkString(value, 'path', 1, REVEAL_PATH_MAX);
  if (path.includes('\0') || !isAbsolute(path)) {
    throw new RefusedError('refused: path must be absolute');
  }
  return resolve(path);
}

/** True when `path` is `root` or inside it (after resolving `..`). */
export function isInside(path: string, root: string): boolean {
  if (!isAbsolute(root)) return false;
  const rel = relative(resolve(root), resolve(path));
  // A name like `..tapes` is inside; only `..` itself or `../…` climbs out.
  return rel !== '..' && !rel.startsWith(`..${sep}`) && !isAbsolute(rel);
}

/**
 * Asks the engine which folders it works in: its data folder (`/v1/status`) and the
 * library folders (`/v1/library`, which answers only while the vault is unlocked).
 */
export async function fetchEngineFolders(engine: EngineAddress): Promise<string[]> {
  const get = async (path: string): Promise<unknown> => {
    try {
      const res = await fetch(`${engine.origin}${path}`, {
        headers: { authorization: `Bearer ${engine.token}` },
        signal: AbortSignal.timeout(5_000),
      });
      return res.ok ? await res.json() : undefined;
    } catch {
      return undefined;
    }
  };
  const [status, library] = await Promise.all([get('/v1/status'), get('/v1/library')]);
  const folders: string[] = [];
  const dataDir = (status as { dataDir?: unknown } | undefined)?.dataDir;
  if (typeof dataDir === 'string') folders.push(dataDir);
  if (Array.isArray(library)) {
    for (const folder of library as Array<{ path?: unknown }>) {
      if (typeof folder?.path === 'string') folders.push(folder.path);
    }
  }
  return folders.filter((f) => isAbsolute(f));
}

/**
 * Asks the engine where automated delivery saved results (`/v1/jobs`, succeeded jobs with
 * `delivery.state` "saved"; answered only while the vault is unlocked). Only absolute
 * paths count; anything unexpected in the answer is skipped.
 */
export async function fetchDeliveredPaths(engine: EngineAddress): Promise<string[]> {
  try {
    const res = await fetch(`${engine.origin}/v1/jobs?state=succeeded&limit=1000`, {
      headers: { authorization: `Bearer ${engine.token}` },
      signal: AbortSignal.timeout(5_000),
    });
    const jobs: unknown = res.ok ? await res.json() : [];
    if (!Array.isArray(jobs)) return [];
    return jobs.flatMap((job: { delivery?: { state?: unknown; path?: unknown } } | null) => {
      const delivery = job?.delivery;
      return delivery?.state === 'saved' &&
        typeof delivery.path === 'string' &&
        isAbsolute(delivery.path)
        ? [delivery.path]
        : [];
    });
  } catch {
    return [];
  }
}
