// Migration 14: what the family watched lately (library/recently-watched.ts), kept by the
// engine rather than in the browser: the desktop's origin changes every launch (so the
// browser's storage was forgotten), and a browser profile is plaintext on disk. Item ids
// and times only; names and titles stay where they are. Goes with its item.

import type { Migration } from './migration';

export const migration: Migration = {
  version: 14,
  name: 'library-watched',
  sql: `CREATE TABLE library_watched (
     file_id    TEXT PRIMARY KEY REFERENCES library_files (id) ON DELETE CASCADE,
     watched_at INTEGER NOT NULL
   );
   CREATE INDEX library_watched_by_time ON library_watched (watched_at DESC);`,
};
