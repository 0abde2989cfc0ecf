// A rescan's writes (library.ts keeps the bookkeeping of scans in progress): the files a
// scan finds are written in batches as it streams, and only a finished scan marks the
// files it did not find as missing, so a cancelled one changes nothing that was there.

import { realpath } from 'node:fs/promises';
import { newLibraryId as newId } from '../core/ids';
import { stmt, type Db } from '../jobs/db';
import { mediaKindOf } from '../vault/media-kind';
import type { LibraryFolder, Scanner } from './library-types';
import type { ScanProgress, ScanSummary, ScannedFile } from './scan';

/**
 * Scans `folder` into the library: new files appear, changed ones turn pending (their
 * size or mtime moved), and a file whose source is gone stays when the vault holds a copy
 * of it. Returns the scan's time, now the folder's `scannedAt`, and the scan's summary.
 */
export async function scanIntoLibrary(
  db: Db,
  folder: LibraryFolder,
  scan: Scanner,
  options: { dataDir: string; signal: AbortSignal; onProgress: (p: ScanProgress) => void },
): Promise<{ mark: number; summary: ScanSummary | void }> {
  const id = folder.id;
  const mark = Date.now();
  const upsert = stmt(
    db,
    `INSERT INTO library_files (id, folder_id, rel, size, mtime_ms, kind, seen_scan)
     VALUES (?, ?, ?, ?, ?, ?, ?)
     ON CONFLICT (folder_id, rel) DO UPDATE SET
       size = excluded.size, mtime_ms = excluded.mtime_ms,
       seen_scan = excluded.seen_scan, missing_since = NULL`,
  );
  const writeBatch = db.transaction((files: ScannedFile[]) => {
    for (const f of files) {
      upsert.run(newId('m'), id, f.rel, f.size, f.mtimeMs, mediaKindOf(f.rel), mark);
    }
  });
  const data = await realpath(options.dataDir).catch(() => options.dataDir);
  const summary = await scan(folder.path, {
    excludeFolders: [data],
    signal: options.signal,
    onProgress: options.onProgress,
    // Each batch is its own turn of the event loop: the scanner may have several
    // ready, and writing them back to back would keep every request (the UI's
    // progress poll, its Stop) waiting until the whole folder is in.
    onBatch: async (files) => {
      writeBatch(files);
      await new Promise((resolve) => setImmediate(resolve));
    },
  });
  db.transaction(() => {
    stmt(
      db,
      `DELETE FROM library_files
       WHERE folder_id = ? AND seen_scan IS NOT ? AND object_path IS NULL`,
    ).run(id, mark);
    stmt(
      db,
      `UPDATE library_files SET missing_since = COALESCE(missing_since, ?)
       WHERE folder_id = ? AND seen_scan IS NOT ?`,
    ).run(mark, id, mark);
    stmt(db, 'UPDATE library_folders SET scanned_at = ? WHERE id = ?').run(mark, id);
  })();
  return { mark, summary };
}
