// Migration 13: the cut lists of tapes (tape/cut-list-store.ts), every version kept.
// Titles and dates are as private as the tape, so each version is sealed with the vault;
// only its number and when it was saved are in the clear.

import type { Migration } from './migration';

export const migration: Migration = {
  version: 13,
  name: 'tape-cut-lists',
  sql: `CREATE TABLE tape_cut_lists (
     file_id  TEXT NOT NULL REFERENCES library_files (id) ON DELETE CASCADE,
     version  INTEGER NOT NULL,
     sealed   BLOB NOT NULL,
     saved_at INTEGER NOT NULL,
     PRIMARY KEY (file_id, version)
   );`,
};
