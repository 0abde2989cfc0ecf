// Migration 3: the server's credentials. Keys are sealed under a data key (DEK) that is
// itself sealed under the key-encryption key (KEK) kept outside the database: a copied
// database file alone reveals no client key. The single keystore row holds the DEK.

import type { Migration } from './migration';

export const migration: Migration = {
  version: 3,
  name: 'credentials',
  sql: `CREATE TABLE credentials (
     client_id    TEXT PRIMARY KEY,
     name         TEXT NOT NULL UNIQUE,
     role         TEXT NOT NULL CHECK (role IN ('admin', 'client', 'worker', 'viewer')),
     key_sealed   BLOB NOT NULL,
     cidrs        TEXT NOT NULL DEFAULT '[]',
     created_at   INTEGER NOT NULL,
     revoked_at   INTEGER,
     last_used_at INTEGER
   );
   CREATE TABLE keystore (
     id          INTEGER PRIMARY KEY CHECK (id = 1),
     kek_id      TEXT NOT NULL,
     dek_wrapped BLOB NOT NULL
   );`,
};
