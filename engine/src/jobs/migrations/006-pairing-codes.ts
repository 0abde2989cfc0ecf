// Migration 6: one-time pairing codes (net/pairing.ts). Only a hash of each code is kept,
// so a copied database cannot be used to pair.

import type { Migration } from './migration';

export const migration: Migration = {
  version: 6,
  name: 'pairing-codes',
  sql: `CREATE TABLE pairing_codes (
     code_hash  TEXT PRIMARY KEY,
     role       TEXT NOT NULL CHECK (role IN ('admin', 'client', 'worker', 'viewer')),
     created_at INTEGER NOT NULL,
     expires_at INTEGER NOT NULL,
     used_at    INTEGER,
     used_by    TEXT
   );`,
};
