// Migration 2: a history of each job's transitions, for `job show` and the audit trail.
// Events belong to their job and go with it (ON DELETE CASCADE).

import type { Migration } from './migration';

export const migration: Migration = {
  version: 2,
  name: 'job-events',
  sql: `CREATE TABLE job_events (
     id      INTEGER PRIMARY KEY AUTOINCREMENT,
     job_id  TEXT NOT NULL REFERENCES jobs (id) ON DELETE CASCADE,
     at      INTEGER NOT NULL,
     kind    TEXT NOT NULL,
     detail  TEXT
   );
   CREATE INDEX job_events_by_job ON job_events (job_id, id);`,
};
