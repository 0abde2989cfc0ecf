import Database from 'better-sqlite3';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { isKeepsakeError } from '../errors';
import { freshDir } from '../testing/tmp';
import { MIGRATIONS, openDatabase, schemaVersion } from './db';

const columns = (db: Database.Database, table: string) =>
  (db.prepare(`PRAGMA table_info(${table})`).all() as { name: string }[]).map((c) => c.name);

describe('database', () => {
  it('creates a WAL database at the latest schema', async () => {
    const path = join(await freshDir(), 'nested', 'engine.db');
    const db = openDatabase(path);
    expect(db.pragma('journal_mode', { simple: true })).toBe('wal');
    expect(schemaVersion(db)).toBe(MIGRATIONS.length);
    db.close();
    // Opening again applies nothing and keeps the version.
    const again = openDatabase(path);
    expect(schemaVersion(again)).toBe(MIGRATIONS.length);
    again.close();
  });

  it('migration 1 creates the job table and queue settings', async () => {
    const db = openDatabase(join(await freshDir(), 'engine.db'), 1);
    expect(schemaVersion(db)).toBe(1);
    expect(columns(db, 'jobs')).toEqual(
      expect.arrayContaining(['id', 'state', 'priority', 'attempts', 'last_error', 'lease_until']),
    );
    expect(columns(db, 'queue_settings')).toEqual(['key', 'value']);
    expect(() =>
      db
        .prepare(
          `INSERT INTO jobs (id, preset, params, input_kind, input_path,
      output_dir, state, created_at) VALUES ('a', 'p', '{}', 'plain', '/x', '/o', 'bogus', 0)`,
        )
        .run(),
    ).toThrow(/CHECK constraint/);
    db.close();
  });

  it('migration 2 adds job events and keeps the jobs already queued', async () => {
    const path = join(await freshDir(), 'engine.db');
    const v1 = openDatabase(path, 1);
    v1.prepare(
      `INSERT INTO jobs (id, preset, params, input_kind, input_path, output_dir, state, created_at)
       VALUES ('j1', 'remux', '{}', 'plain', '/in.mp4', '/out', 'queued', 1)`,
    ).run();
    v1.close();
    const v2 = openDatabase(path, 2);
    expect(schemaVersion(v2)).toBe(2);
    expect(columns(v2, 'job_events')).toEqual(['id', 'job_id', 'at', 'kind', 'detail']);
    expect(v2.prepare('SELECT id, state FROM jobs').all()).toEqual([{ id: 'j1', state: 'queued' }]);
    v2.prepare(`INSERT INTO job_events (job_id, at, kind) VALUES ('j1', 2, 'submitted')`).run();
    // Events belong to a job: deleting the job deletes them.
    v2.prepare(`DELETE FROM jobs WHERE id = 'j1'`).run();
    expect(v2.prepare('SELECT count(*) AS n FROM job_events').get()).toEqual({ n: 0 });
    v2.close();
  });

  it('refuses a database written by a newer Keepsake and leaves it alone', async () => {
    const path = join(await freshDir(), 'engine.db');
    const raw = new Database(path);
    raw.pragma(`user_version = ${MIGRATIONS.length + 1}`);
    raw.close();
    let caught: unknown;
    try {
      openDatabase(path);
    } catch (err) {
      caught = err;
    }
    expect(isKeepsakeError(caught, 'UNSUPPORTED_VERSION')).toBe(true);
    expect(String(caught)).toMatch(/newer Keepsake/);
    const check = new Database(path);
    expect(check.pragma('user_version', { simple: true })).toBe(MIGRATIONS.length + 1);
    check.close();
  });
});
