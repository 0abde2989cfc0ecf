// The library's rows as SQLite holds them (migrations 7 and 8), what they become for the
// library's callers, and the path rules both sides share.

import { basename, isAbsolute, join, relative, sep } from 'node:path';
import type { MediaKind } from '../vault/media-kind';
import type { FolderSource, LibraryFile, LibraryFolder } from './library-types';

export interface FileRow {
  id: string;
  folder_id: string;
  rel: string;
  size: number;
  mtime_ms: number;
  kind: MediaKind;
  object_path: string | null;
  object_size: number | null;
  object_mtime: number | null;
  missing_since: number | null;
}

export interface FolderRow {
  id: string;
  path: string;
  addedAt: number;
  scannedAt: number;
  source: FolderSource;
  watching: number;
}

export const FOLDER_COLUMNS = `id, path, added_at AS addedAt, scanned_at AS scannedAt, source, watching`;

/** The name a family knows a folder by. */
export function folderName(folder: Pick<LibraryFolder, 'path' | 'source'>): string {
  return folder.source === 'upload' ? 'Uploaded files' : basename(folder.path) || folder.path;
}

export function toFolder(row: FolderRow): LibraryFolder {
  return { ...row, watching: row.watching === 1 };
}

/**
 * A vault copy's stored path, made absolute. Stored relative to the data folder, so a
 * copied or restored data folder reads (and removes) its own copies, never those of the
 * folder it came from. Older versions stored `<data folder>/library/<folder>/<file>.ksv`
 * absolute: its last three parts are taken, in this data folder.
 */
export function objectPath(dataDir: string, stored: string): string {
  return isAbsolute(stored)
    ? join(dataDir, ...stored.split(/[\\/]/).slice(-3))
    : join(dataDir, stored);
}

export function toFile(row: FileRow, folder: LibraryFolder, dataDir: string): LibraryFile {
  const sourceExists = folder.source === 'disk' && row.missing_since === null;
  const current =
    row.object_path !== null &&
    (!sourceExists ||
      !folder.watching ||
      (row.object_size === row.size && row.object_mtime === row.mtime_ms));
  return {
    id: row.id,
    folderId: row.folder_id,
    rel: row.rel,
    size: row.size,
    mtimeMs: row.mtime_ms,
    kind: row.kind,
    encryptedPath: current && row.object_path ? objectPath(dataDir, row.object_path) : undefined,
    heldCopyPath: row.object_path ? objectPath(dataDir, row.object_path) : undefined,
    sourceExists,
    missingSince: row.missing_since ?? undefined,
  };
}

export function isInside(path: string, dir: string): boolean {
  const rel = relative(dir, path);
  return rel === '' || (!rel.startsWith('..') && !isAbsolute(rel) && !rel.startsWith(sep));
}
