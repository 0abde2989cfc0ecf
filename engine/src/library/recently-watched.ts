// What the family watched lately, newest first: item ids and when, never a name or title
// (the renderer looks those up in the library while the vault is open). Kept in the engine
// database, not the browser, so it survives the desktop's new origin at every launch and
// no list of family videos sits in a browser profile. A row goes with its item (the
// foreign key cascades), and only the newest RECENT_MAX are kept.

import { stmt, type Db } from '../jobs/db';

export const RECENT_MAX = 50;

export interface Watched {
  fileId: string;
  /** When it was last played, ms since the epoch. */
  watchedAt: number;
}

export function recentlyWatched(db: Db): Watched[] {
  return stmt(
    db,
    `SELECT file_id AS fileId, watched_at AS watchedAt FROM library_watched
     ORDER BY watched_at DESC, rowid DESC LIMIT ${RECENT_MAX}`,
  ).all() as Watched[];
}

/**
 * Marks `fileIds` (newest first) as watched at `now`, each a millisecond older than the one
 * before it so their order holds. Ids the library does not hold (an item since removed, an
 * old browser's list) are skipped, not refused. Answers the list as it now is.
 */
export function rememberWatched(db: Db, fileIds: readonly string[], now = Date.now()): Watched[] {
  const exists = stmt(db, 'SELECT 1 FROM library_files WHERE id = ?').pluck();
  const upsert = stmt(
    db,
    `INSERT INTO library_watched (file_id, watched_at) VALUES (?, ?)
     ON CONFLICT (file_id) DO UPDATE SET watched_at = excluded.watched_at`,
  );
  db.transaction(() => {
    const seen = new Set<string>();
    fileIds.forEach((id, i) => {
      if (seen.has(id) || exists.get(id) === undefined) return;
      seen.add(id);
      upsert.run(id, now - i);
    });
    stmt(
      db,
      `DELETE FROM library_watched WHERE file_id NOT IN
       (SELECT file_id FROM library_watched ORDER BY watched_at DESC, rowid DESC LIMIT ${RECENT_MAX})`,
    ).run();
  })();
  return recentlyWatched(db);
}
