// The library's reads, each one SQL query that asks for just the rows it needs: a folder
// may hold a million files, so nothing here loads a table to filter, sort or count it in
// JavaScript. (The library's writes stay beside the operations that make them, in
// library.ts and library-merge.ts.)

import { KeepsakeError } from '../core/errors';
import { stmt, type Db } from '../jobs/db';
import type { MediaKind } from '../vault/media-kind';
import { FOLDER_COLUMNS, toFolder, type FileRow, type FolderRow } from './library-rows';
import type { LibraryFolder } from './library-types';

/** Every folder, oldest first, including one whose first scan is still running. */
export function allFolders(db: Db): LibraryFolder[] {
  return (
    stmt(db, `SELECT ${FOLDER_COLUMNS} FROM library_folders ORDER BY added_at`).all() as FolderRow[]
  ).map(toFolder);
}

/** The folders on disk (watched or not), oldest first. */
export function diskFolders(db: Db): LibraryFolder[] {
  return (
    stmt(
      db,
      `SELECT ${FOLDER_COLUMNS} FROM library_folders WHERE source = 'disk' ORDER BY added_at`,
    ).all() as FolderRow[]
  ).map(toFolder);
}

/** The folder that holds browser uploads, if it was made. */
export function uploadsFolder(db: Db): LibraryFolder | undefined {
  const row = stmt(
    db,
    `SELECT ${FOLDER_COLUMNS} FROM library_folders WHERE source = 'upload'
     ORDER BY added_at LIMIT 1`,
  ).get() as FolderRow | undefined;
  return row && toFolder(row);
}

/** The folder at `path` whose first scan never finished, if any. */
export function unfinishedFolderAt(db: Db, path: string): LibraryFolder | undefined {
  const row = stmt(
    db,
    `SELECT ${FOLDER_COLUMNS} FROM library_folders WHERE path = ? AND scanned_at = 0`,
  ).get(path) as FolderRow | undefined;
  return row && toFolder(row);
}

export function folderById(db: Db, id: string): LibraryFolder {
  const row = stmt(db, `SELECT ${FOLDER_COLUMNS} FROM library_folders WHERE id = ?`).get(id) as
    FolderRow | undefined;
  if (!row) throw new KeepsakeError('NOT_FOUND', `no library folder "${id}"`);
  return toFolder(row);
}

export function fileRowById(db: Db, id: string): FileRow | undefined {
  return stmt(db, 'SELECT * FROM library_files WHERE id = ?').get(id) as FileRow | undefined;
}

export function fileRowAt(db: Db, folderId: string, rel: string): FileRow | undefined {
  return stmt(db, 'SELECT * FROM library_files WHERE folder_id = ? AND rel = ?').get(
    folderId,
    rel,
  ) as FileRow | undefined;
}

/** A folder's files by path (`rel`), all of them or those under `prefix` (which ends in /). */
export function fileRows(db: Db, folderId: string, prefix = ''): FileRow[] {
  if (prefix === '') {
    return stmt(db, 'SELECT * FROM library_files WHERE folder_id = ? ORDER BY rel').all(
      folderId,
    ) as FileRow[];
  }
  return stmt(
    db,
    `SELECT * FROM library_files WHERE folder_id = ? AND substr(rel, 1, length(?)) = ?
     ORDER BY rel`,
  ).all(folderId, prefix, prefix) as FileRow[];
}

// A file's vault copy is the file as the family has it ("encrypted") when the source is
// gone, the folder holds uploads or is no longer watched, or the source still has the size
// and mtime it had when it was encrypted (toFile in library-rows.ts says the same of one
// row). `IS` rather than `=`: a NULL compares as JavaScript's `===` does, unequal.

/**
 * The media of a folder still to encrypt: sources on disk with no vault copy, or one older
 * than the source. By path, as `files()` lists them.
 */
export function filesToEncrypt(db: Db, folder: LibraryFolder): FileRow[] {
  if (folder.source !== 'disk') return [];
  return stmt(
    db,
    `SELECT * FROM library_files
     WHERE folder_id = ? AND kind != 'other' AND missing_since IS NULL
       AND NOT (object_path IS NOT NULL
                AND (? OR (object_size IS size AND object_mtime IS mtime_ms)))
     ORDER BY rel`,
  ).all(folder.id, folder.watching ? 0 : 1) as FileRow[];
}

/**
 * Folders (oldest first) whose first scan has finished and that hold media still to
 * encrypt: the media `summary().pending` counts, asked of SQLite directly.
 */
export function foldersWithPending(db: Db): string[] {
  return stmt(
    db,
    `SELECT d.id FROM library_folders d
     WHERE d.scanned_at > 0 AND EXISTS (
       SELECT 1 FROM library_files f
       WHERE f.folder_id = d.id AND f.kind != 'other'
         AND NOT COALESCE(f.object_path IS NOT NULL AND (
               f.missing_since IS NOT NULL OR d.source = 'upload' OR d.watching = 0
               OR (f.object_size = f.size AND f.object_mtime = f.mtime_ms)), 0))
     ORDER BY d.added_at`,
  )
    .pluck()
    .all() as string[];
}

export interface CountRow {
  kind: MediaKind;
  files: number;
  bytes: number;
  encrypted: number;
  vaultOnly: number;
}

/** A folder's files, bytes, vault copies and only-copies, by kind. */
export function countRows(db: Db, folder: LibraryFolder): CountRow[] {
  return stmt(
    db,
    `SELECT kind, COUNT(*) AS files, COALESCE(SUM(size), 0) AS bytes,
       SUM(object_path IS NOT NULL AND (missing_since IS NOT NULL OR ? OR
           (object_size = size AND object_mtime = mtime_ms))) AS encrypted,
       SUM(object_path IS NOT NULL AND (missing_since IS NOT NULL OR ?)) AS vaultOnly
     FROM library_files WHERE folder_id = ? GROUP BY kind`,
  ).all(
    folder.source === 'upload' || !folder.watching ? 1 : 0,
    folder.source === 'upload' ? 1 : 0,
    folder.id,
  ) as CountRow[];
}

/** How many of `fileIds` each folder holds (one query, however big the folders). */
export function countByFolder(db: Db, fileIds: Iterable<string>): Map<string, number> {
  const rows = stmt(
    db,
    `SELECT folder_id AS folderId, COUNT(*) AS n FROM library_files
     WHERE id IN (SELECT value FROM json_each(?)) GROUP BY folder_id`,
  ).all(JSON.stringify([...fileIds])) as { folderId: string; n: number }[];
  return new Map(rows.map((r) => [r.folderId, r.n]));
}

/** The files of a folder that have a vault copy, with its size. */
export function encryptedCopies(db: Db, folderId: string): { rel: string; object_size: number }[] {
  return stmt(
    db,
    `SELECT rel, object_size FROM library_files
     WHERE folder_id = ? AND object_path IS NOT NULL`,
  ).all(folderId) as { rel: string; object_size: number }[];
}

/** How many files a folder holds. */
export function fileCount(db: Db, folderId: string): number {
  return stmt(db, 'SELECT COUNT(*) FROM library_files WHERE folder_id = ?')
    .pluck()
    .get(folderId) as number;
}
