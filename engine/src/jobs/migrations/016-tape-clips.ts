// Migration 16: which library items were made from which clip of which tape
// (tape/clip-export.ts), so exporting again redoes only the clips that changed. Times are
// in the clear (they say where on a tape, not what); titles stay in library_labels,
// sealed. A tape deleted from the library leaves its clips, no longer tied to it.

import type { Migration } from './migration';

export const migration: Migration = {
  version: 16,
  name: 'tape-clips',
  sql: `CREATE TABLE tape_clips (
     item_id TEXT PRIMARY KEY REFERENCES library_files (id) ON DELETE CASCADE,
     tape_id TEXT REFERENCES library_files (id) ON DELETE SET NULL,
     job_id  TEXT NOT NULL UNIQUE,
     start_s REAL NOT NULL,
     end_s   REAL NOT NULL CHECK (end_s > start_s)
   );
   CREATE INDEX tape_clips_by_tape ON tape_clips (tape_id);`,
};
