// Migration 15: where automated delivery put a finished job's results (jobs/deliveries.ts),
// so the job can say "Saved to …" and the app can show that file, and only that file, in
// its folder. Goes with its job.

import type { Migration } from './migration';

export const migration: Migration = {
  version: 15,
  name: 'job-deliveries',
  sql: `CREATE TABLE job_deliveries (
     job_id TEXT PRIMARY KEY REFERENCES jobs (id) ON DELETE CASCADE,
     state  TEXT NOT NULL CHECK (state IN ('saving', 'saved', 'failed')),
     path   TEXT,
     error  TEXT,
     at     INTEGER NOT NULL
   );`,
};
