// Removing a folder from the library (library.ts checks it is idle first): what it would
// touch, said before the user confirms, and the removal itself, which keeps the vault
// copies unless the user asks for those to go too.

import { rm, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { runConcurrently } from '../core/concurrency';
import { stmt, type Db } from '../jobs/db';
import { encryptedCopies, fileCount } from './library-queries';
import { objectPath } from './library-rows';
import type { LibraryFolder, RemovalImpact } from './library-types';

/** What "Remove" would touch, with sources checked now, for an honest confirmation. */
export async function removalImpact(db: Db, folder: LibraryFolder): Promise<RemovalImpact> {
  const impact: RemovalImpact = {
    encrypted: { files: 0, bytes: 0 },
    onlyCopies: { files: 0, bytes: 0 },
  };
  await runConcurrently(encryptedCopies(db, folder.id), 16, async (row) => {
    impact.encrypted.files += 1;
    impact.encrypted.bytes += row.object_size;
    const present =
      folder.source === 'disk' &&
      (await stat(join(folder.path, ...row.rel.split('/'))).then(
        (s) => s.isFile(),
        () => false,
      ));
    if (!present) {
      impact.onlyCopies.files += 1;
      impact.onlyCopies.bytes += row.object_size;
    }
  });
  return impact;
}

/**
 * Stops watching a folder and keeps its vault copies: files never encrypted are forgotten,
 * and a folder left with no copies goes.
 */
export function unwatchFolder(db: Db, id: string): void {
  db.transaction(() => {
    stmt(db, 'DELETE FROM library_files WHERE folder_id = ? AND object_path IS NULL').run(id);
    const kept = fileCount(db, id);
    if (kept === 0) stmt(db, 'DELETE FROM library_folders WHERE id = ?').run(id);
    else stmt(db, 'UPDATE library_folders SET watching = 0 WHERE id = ?').run(id);
  })();
}

/** Removes a folder and its vault copies, in `objectDir` (and any stored elsewhere). */
export async function deleteFolder(
  db: Db,
  dataDir: string,
  id: string,
  objectDir: string,
): Promise<void> {
  const objects = stmt(
    db,
    'SELECT object_path FROM library_files WHERE folder_id = ? AND object_path IS NOT NULL',
  )
    .pluck()
    .all(id)
    .map((stored) => objectPath(dataDir, stored as string));
  // The rows go first: a crash midway leaves unlisted ciphertext, never a listed item
  // whose copy is gone.
  stmt(db, 'DELETE FROM library_folders WHERE id = ?').run(id);
  await runConcurrently(objects, 8, (path) => rm(path, { force: true }));
  await rm(objectDir, { recursive: true, force: true });
}
