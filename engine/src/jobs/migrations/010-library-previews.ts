// Migration 10: the library's pictures of its items (library/preview-*.ts): a photo's
// thumbnail and preview, a video's poster and sprite. The pictures themselves are vault
// files under random names in `<data>/previews/`; a row says which picture of which item
// a name holds, its size, and the id its vault file must carry (`vault_file_id`: a file
// put in another's place is refused). `library_preview_state` records, per item, that its
// pictures were made, or why they cannot be (damaged, unsupported, too large, no
// picture), from which vault copy (`object_mtime`) and by which `version` of the code: a
// newer copy, or newer code, makes them again. Nothing here is private (no dates, no
// names): it stays in the clear, so the grid knows which items have a picture while the
// vault is locked.

import type { Migration } from './migration';

export const migration: Migration = {
  version: 10,
  name: 'library-previews',
  sql: `CREATE TABLE library_previews (
     file_id  TEXT NOT NULL REFERENCES library_files (id) ON DELETE CASCADE,
     kind     TEXT NOT NULL CHECK (kind IN ('thumb', 'preview', 'poster', 'sprite')),
     name     TEXT NOT NULL UNIQUE,
     vault_file_id TEXT NOT NULL,
     width    INTEGER NOT NULL,
     height   INTEGER NOT NULL,
     frames   INTEGER NOT NULL DEFAULT 1,
     PRIMARY KEY (file_id, kind)
   );
   CREATE TABLE library_preview_state (
     file_id      TEXT PRIMARY KEY REFERENCES library_files (id) ON DELETE CASCADE,
     version      INTEGER NOT NULL,
     object_mtime REAL NOT NULL,
     outcome      TEXT NOT NULL CHECK (outcome IN ('made', 'failed')),
     reason       TEXT CHECK (reason IN ('damaged', 'unsupported', 'too-large', 'no-picture')),
     detail       TEXT,
     made_at      INTEGER NOT NULL
   );`,
};
