// Where automated delivery put a finished job's results: saving, saved (the file or folder
// written) or failed (why, in words). The job then says "Saved to …", and the app shows
// that path, and only a path listed here, in its folder (app/src/bridge-handlers.ts).

import { stmt, type Db } from './db';

export type Delivery =
  { state: 'saving' } | { state: 'saved'; path: string } | { state: 'failed'; message: string };

export function recordDelivery(db: Db, jobId: string, delivery: Delivery, now = Date.now()): void {
  stmt(
    db,
    `INSERT INTO job_deliveries (job_id, state, path, error, at) VALUES (?, ?, ?, ?, ?)
     ON CONFLICT (job_id) DO UPDATE SET
       state = excluded.state, path = excluded.path, error = excluded.error, at = excluded.at`,
  ).run(
    jobId,
    delivery.state,
    delivery.state === 'saved' ? delivery.path : null,
    delivery.state === 'failed' ? delivery.message : null,
    now,
  );
}

export function deliveryOf(db: Db, jobId: string): Delivery | undefined {
  const row = stmt(db, 'SELECT state, path, error FROM job_deliveries WHERE job_id = ?').get(
    jobId,
  ) as { state: Delivery['state']; path: string | null; error: string | null } | undefined;
  if (!row) return undefined;
  if (row.state === 'saved' && row.path) return { state: 'saved', path: row.path };
  if (row.state === 'failed') return { state: 'failed', message: row.error ?? '' };
  return { state: 'saving' };
}
