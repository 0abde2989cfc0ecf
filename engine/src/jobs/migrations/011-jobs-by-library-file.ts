// Migration 11: desktop jobs found by the library file they read (JobOptions.libraryFile,
// kept in the `options` JSON). The library lists each file's jobs and counts the files a
// job has encoded (jobs/job-reads.ts); with this index those are lookups, not a read of
// every job. The expression is written exactly as job-reads.ts queries it (LIBRARY_FILE):
// SQLite uses an index on an expression only for that same expression. `state` rides
// along so "files with a succeeded job" is answered from the index alone.

import type { Migration } from './migration';

export const migration: Migration = {
  version: 11,
  name: 'jobs-by-library-file',
  sql: `CREATE INDEX jobs_by_library_file
     ON jobs (json_extract(options, '$.libraryFile'), state);`,
};
