// Migration 17: a tape's analysis kept with the library item (tape/analysis-store.ts),
// not only as the output of the job that made it, so deleting that job from the Jobs
// screen loses nothing; a newer analysis replaces it. The analysis says where the family's
// events begin, as private as the tape: it is sealed with the vault and bound to the file.
// `pictures` names the vault file (in `<data>/previews/`, like the library's pictures)
// holding the small frames of each proposed clip, once they are made; `vault_file_id` is
// the id that file must carry.

import type { Migration } from './migration';

export const migration: Migration = {
  version: 17,
  name: 'tape-analyses',
  sql: `CREATE TABLE tape_analyses (
     file_id       TEXT PRIMARY KEY REFERENCES library_files (id) ON DELETE CASCADE,
     job_id        TEXT NOT NULL,
     sealed        BLOB NOT NULL,
     pictures      TEXT UNIQUE,
     vault_file_id TEXT,
     kept_at       INTEGER NOT NULL
   );`,
};
