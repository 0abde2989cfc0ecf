// Migration 12: the title and date the family gives an item by hand (library/item-labels.ts).
// As private as the item, so sealed under a key from the vault's master key, like
// library_info; only when it was set is in the clear.

import type { Migration } from './migration';

export const migration: Migration = {
  version: 12,
  name: 'library-labels',
  sql: `CREATE TABLE library_labels (
     file_id TEXT PRIMARY KEY REFERENCES library_files (id) ON DELETE CASCADE,
     sealed  BLOB NOT NULL,
     set_at  INTEGER NOT NULL
   );`,
};
