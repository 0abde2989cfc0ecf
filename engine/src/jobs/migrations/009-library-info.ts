// Migration 9: what the library knows of each item, read from its vault copy
// (library/item-info.ts): capture date, picture, duration, camera, attention. As private as
// the item, so it is stored sealed under a key from the vault's master key
// (library/info-seal.ts), with only bookkeeping in the clear: `object_mtime` names the copy
// it was read from (a newer copy is read again), and so is an item read by an older
// `version` of the reader.

import type { Migration } from './migration';

export const migration: Migration = {
  version: 9,
  name: 'library-info',
  sql: `CREATE TABLE library_info (
     file_id      TEXT PRIMARY KEY REFERENCES library_files (id) ON DELETE CASCADE,
     version      INTEGER NOT NULL,
     object_mtime REAL NOT NULL,
     sealed       BLOB NOT NULL,
     read_at      INTEGER NOT NULL
   );`,
};
