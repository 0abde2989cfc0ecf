// Migration 5: resumable uploads (http/uploads.ts). `offset` is the committed byte count:
// it moves only after a chunk's signature checked out.

import type { Migration } from './migration';

export const migration: Migration = {
  version: 5,
  name: 'uploads',
  sql: `CREATE TABLE uploads (
     id         TEXT PRIMARY KEY,
     size       INTEGER NOT NULL CHECK (size > 0),
     offset     INTEGER NOT NULL DEFAULT 0 CHECK (offset >= 0 AND offset <= size),
     client_id  TEXT NOT NULL,
     created_at INTEGER NOT NULL
   );`,
};
