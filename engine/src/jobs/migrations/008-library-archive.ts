// Migration 8: the library is an archive (library/library.ts). A folder the user stops
// watching keeps its vault copies (`watching` = 0); uploads have no source on disk
// (`source` = 'upload'); a file whose source vanished keeps its row and vault copy and
// records when it was first missed (`seen_scan` marks the files a scan found, so a scan
// streams rows in batches instead of holding the folder in memory). Desktop settings
// (encrypt on add) are key/value.

import type { Migration } from './migration';

export const migration: Migration = {
  version: 8,
  name: 'library-archive',
  sql: `ALTER TABLE library_folders ADD COLUMN source TEXT NOT NULL DEFAULT 'disk'
     CHECK (source IN ('disk', 'upload'));
   ALTER TABLE library_folders ADD COLUMN watching INTEGER NOT NULL DEFAULT 1
     CHECK (watching IN (0, 1));
   ALTER TABLE library_files ADD COLUMN missing_since REAL;
   ALTER TABLE library_files ADD COLUMN seen_scan REAL;
   CREATE TABLE desktop_settings (key TEXT PRIMARY KEY, value TEXT NOT NULL);`,
};
