// Merging folders: a folder added around folders already in the library takes them in,
// with their files' ids (jobs refer to them) and vault copies, so nothing is stored twice.

import { relative, sep } from 'node:path';
import { stmt, type Db } from '../jobs/db';
import { fileCount, fileRows } from './library-queries';
import { isInside } from './library-rows';
import type { LibraryFolder } from './library-types';

/**
 * Takes into `folder` the files of folders inside it (and of removed folders around it
 * whose files lie inside it), keeping their ids (jobs refer to them) and vault copies.
 * Returns the folders merged away entirely.
 */
export function adoptFolders(
  db: Db,
  folder: LibraryFolder,
  others: LibraryFolder[],
): LibraryFolder[] {
  const merged: LibraryFolder[] = [];
  const findNew = stmt(
    db,
    'SELECT id, size, mtime_ms, seen_scan FROM library_files WHERE folder_id = ? AND rel = ?',
  );
  db.transaction(() => {
    for (const other of others) {
      if (other.id === folder.id) continue;
      let prefix: string;
      let strip = '';
      if (isInside(other.path, folder.path)) {
        prefix = relative(folder.path, other.path).split(sep).join('/') + '/';
      } else if (!other.watching && isInside(folder.path, other.path)) {
        prefix = '';
        strip = relative(other.path, folder.path).split(sep).join('/') + '/';
      } else {
        continue;
      }
      // Of a folder around this one, only the files under it.
      for (const row of fileRows(db, other.id, strip)) {
        const rel = prefix + row.rel.slice(strip.length);
        const found = findNew.get(folder.id, rel) as
          { id: string; size: number; mtime_ms: number; seen_scan: number | null } | undefined;
        if (found) stmt(db, 'DELETE FROM library_files WHERE id = ?').run(found.id);
        stmt(
          db,
          `UPDATE library_files SET folder_id = ?, rel = ?, size = ?, mtime_ms = ?,
             seen_scan = ?, missing_since = ? WHERE id = ?`,
        ).run(
          folder.id,
          rel,
          found?.size ?? row.size,
          found?.mtime_ms ?? row.mtime_ms,
          found?.seen_scan ?? null,
          found ? null : (row.missing_since ?? Date.now()),
          row.id,
        );
      }
      if (fileCount(db, other.id) === 0) {
        stmt(db, 'DELETE FROM library_folders WHERE id = ?').run(other.id);
        merged.push(other);
      }
    }
  })();
  return merged;
}
