// Migration 7: the desktop library (library/library.ts): folders the user added and the
// media files found in them. `object_*` is set once a file is encrypted into the vault, with
// the source's size and mtime at that moment, so a changed source shows as pending.

import type { Migration } from './migration';

export const migration: Migration = {
  version: 7,
  name: 'library',
  sql: `CREATE TABLE library_folders (
     id         TEXT PRIMARY KEY,
     path       TEXT NOT NULL UNIQUE,
     added_at   INTEGER NOT NULL,
     scanned_at INTEGER NOT NULL
   );
   CREATE TABLE library_files (
     id            TEXT PRIMARY KEY,
     folder_id     TEXT NOT NULL REFERENCES library_folders (id) ON DELETE CASCADE,
     rel           TEXT NOT NULL,
     size          INTEGER NOT NULL,
     mtime_ms      REAL NOT NULL,
     kind          TEXT NOT NULL CHECK (kind IN ('video', 'photo', 'audio', 'other')),
     object_path   TEXT,
     object_size   INTEGER,
     object_mtime  REAL,
     UNIQUE (folder_id, rel)
   );`,
};
