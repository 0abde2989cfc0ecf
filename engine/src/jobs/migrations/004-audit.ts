// Migration 4: the audit log, hash-chained (see audit/audit.ts). The triggers make it
// append-only for anything that goes through SQLite; the chain catches the rest.

import type { Migration } from './migration';

export const migration: Migration = {
  version: 4,
  name: 'audit',
  sql: `CREATE TABLE audit (
     seq       INTEGER PRIMARY KEY AUTOINCREMENT,
     at        INTEGER NOT NULL,
     actor     TEXT,
     address   TEXT,
     action    TEXT NOT NULL,
     target    TEXT,
     outcome   TEXT NOT NULL CHECK (outcome IN ('ok', 'denied', 'error')),
     detail    TEXT,
     prev_hash TEXT NOT NULL,
     hash      TEXT NOT NULL
   );
   CREATE INDEX audit_by_at ON audit (at);
   CREATE TRIGGER audit_no_update BEFORE UPDATE ON audit
   BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END;
   CREATE TRIGGER audit_no_delete BEFORE DELETE ON audit
   BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END;`,
};
