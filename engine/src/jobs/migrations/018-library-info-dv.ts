// Migration 18: what the library read of its photos and sounds stays current. Item info
// version 3 (library/item-info.ts) reads one thing more, and only of videos: a DV tape's
// date from the camcorder's clock. So only videos are read again in the background; a
// family's thousands of photos are not decrypted and read a second time for nothing.

import type { Migration } from './migration';

export const migration: Migration = {
  version: 18,
  name: 'library-info-dv',
  sql: `UPDATE library_info SET version = 3
     WHERE version = 2
       AND file_id IN (SELECT id FROM library_files WHERE kind <> 'video');`,
};
