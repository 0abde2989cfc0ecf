// Migration 1: the job queue (jobs/sqlite-queue.ts). One row per job with its whole
// lifecycle (state, attempts, lease, progress, outputs) so a restarted engine picks up where
// it stopped; `jobs_runnable` is the order the queue hands jobs out in. `queue_settings`
// holds the queue's own key/value settings (whether it is paused).

import type { Migration } from './migration';

export const migration: Migration = {
  version: 1,
  name: 'jobs',
  sql: `CREATE TABLE jobs (
     id               TEXT PRIMARY KEY,
     preset           TEXT NOT NULL,
     params           TEXT NOT NULL,
     options          TEXT NOT NULL DEFAULT '{}',
     input_kind       TEXT NOT NULL CHECK (input_kind IN ('vault', 'plain')),
     input_path       TEXT NOT NULL,
     output_dir       TEXT NOT NULL,
     state            TEXT NOT NULL
                      CHECK (state IN ('queued', 'running', 'succeeded', 'failed', 'cancelled')),
     priority         INTEGER NOT NULL DEFAULT 0,
     created_at       INTEGER NOT NULL,
     started_at       INTEGER,
     finished_at      INTEGER,
     attempts         INTEGER NOT NULL DEFAULT 0,
     max_attempts     INTEGER NOT NULL DEFAULT 3,
     not_before       INTEGER NOT NULL DEFAULT 0,
     last_error_code  TEXT,
     last_error       TEXT,
     progress         REAL,
     fps              REAL,
     speed            REAL,
     eta_seconds      REAL,
     progress_at      INTEGER,
     cancel_requested INTEGER NOT NULL DEFAULT 0,
     owner            TEXT,
     lease_until      INTEGER,
     notes            TEXT NOT NULL DEFAULT '[]',
     outputs          TEXT NOT NULL DEFAULT '[]'
   );
   CREATE INDEX jobs_runnable ON jobs (state, priority DESC, created_at);
   CREATE TABLE queue_settings (key TEXT PRIMARY KEY, value TEXT NOT NULL);`,
};
