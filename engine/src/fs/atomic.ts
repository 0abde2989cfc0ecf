// Atomic writes: everything the engine writes goes to a temporary sibling first and is
// renamed into place only when complete, so a crash or `kill -9` leaves either the old
// state or the new one, never a half-written file under the final name.

import { link, lstat, open, rename, rm, type FileHandle } from 'node:fs/promises';
import { basename } from 'node:path';
import { KeepsakeError, fromFsError } from '../core/errors';
import { tempSuffix } from '../core/ids';
import { displayPath, siblingPath, type FsPath } from './paths';

/** Temp files carry this marker so that cleanup can find leftovers of killed runs. */
export const TEMP_MARKER = '.ks-tmp-';

export function tempPathFor(finalPath: FsPath): FsPath {
  // Keep the temp name short: the final name may already be near NAME_MAX. The writer's
  // pid lets a later run tell a killed run's leftover from a live run's file in flight.
  return siblingPath(finalPath, `${TEMP_MARKER}${process.pid}-${tempSuffix()}`);
}

/** The pid that wrote a temp file, or undefined for a name without one (older runs). */
export function tempOwner(name: string): number | undefined {
  const base = basename(name);
  if (!base.startsWith(TEMP_MARKER)) return undefined;
  const match = /^(\d+)-[0-9a-f]+$/.exec(base.slice(TEMP_MARKER.length));
  return match ? Number(match[1]) : undefined;
}

export function isTempName(name: string): boolean {
  return basename(name).startsWith(TEMP_MARKER);
}

export interface AtomicFile {
  readonly handle: FileHandle;
  readonly tempPath: FsPath;
  /** Flushes (optionally to stable storage) and renames into place. */
  commit(): Promise<void>;
  /** Removes the temporary file; safe to call more than once. */
  abort(): Promise<void>;
}

export async function openAtomic(
  finalPath: FsPath,
  {
    durable = true,
    mode = 0o600,
    exclusive = false,
  }: { durable?: boolean; mode?: number; exclusive?: boolean } = {},
): Promise<AtomicFile> {
  const tempPath = tempPathFor(finalPath);
  let handle: FileHandle;
  try {
    handle = await open(tempPath, 'wx', mode);
  } catch (err) {
    throw fromFsError(err, displayPath(finalPath), 'write');
  }
  let settled = false;
  const abort = async () => {
    if (settled) return;
    settled = true;
    await handle.close().catch(() => undefined);
    await rm(tempPath, { force: true });
  };
  const commit = async () => {
    try {
      if (durable) await handle.sync();
      await handle.close();
      if (exclusive) {
        await link(tempPath, finalPath);
        await rm(tempPath, { force: true });
      } else {
        await rename(tempPath, finalPath);
      }
      settled = true;
      if (durable) await syncDir(finalPath);
    } catch (err) {
      await abort();
      throw fromFsError(err, displayPath(finalPath), 'write');
    }
  };
  return { handle, tempPath, commit, abort };
}

/** Makes a rename durable: the folder's entry must reach the disk too (POSIX only). */
async function syncDir(path: FsPath): Promise<void> {
  if (process.platform === 'win32') return;
  const dir = await open(siblingPath(path, '.'), 'r');
  try {
    await dir.sync();
  } finally {
    await dir.close();
  }
}

/**
 * Writes a small file atomically and durably (keyrings, manifests). `exclusive` refuses
 * to replace an existing file, even one that appeared meanwhile (link, not rename).
 */
export async function writeFileAtomic(
  finalPath: FsPath,
  data: Buffer | string,
  { exclusive = false }: { exclusive?: boolean } = {},
): Promise<void> {
  const file = await openAtomic(finalPath, { exclusive });
  try {
    await file.handle.writeFile(data);
  } catch (err) {
    await file.abort();
    throw fromFsError(err, displayPath(finalPath), 'write');
  }
  await file.commit();
}

/**
 * Refuses to replace an existing output unless `overwrite`, and never replaces anything
 * but a regular file: renaming over `/dev/null`, a FIFO or a symlink would destroy it.
 */
export async function checkReplaceable(finalPath: FsPath, overwrite: boolean): Promise<void> {
  const file = displayPath(finalPath);
  const info = await lstat(finalPath).catch((err: NodeJS.ErrnoException) => {
    if (err.code === 'ENOENT') return undefined;
    throw fromFsError(err, file, 'write');
  });
  if (!info) return;
  if (!overwrite)
    throw new KeepsakeError('OUTPUT_EXISTS', 'already exists; nothing was overwritten', { file });
  if (!info.isFile()) {
    throw new KeepsakeError('OUTPUT_EXISTS', 'is not a regular file; refusing to replace it', {
      file,
    });
  }
}
