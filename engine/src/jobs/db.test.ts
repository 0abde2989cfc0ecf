import Database from 'better-sqlite3';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { isKeepsakeError } from '../core/errors';
import { freshDir } from '../testing/tmp';
import { MIGRATIONS, dataVersion, openDatabase, schemaVersion } from './db';

const columns = (db: Database.Database, table: string) =>
  (db.prepare(`PRAGMA table_info(${table})`).all() as { name: string }[]).map((c) => c.name);

const nextTurn = () => new Promise((resolve) => setImmediate(resolve));

describe('database', () => {
  it("reads data_version once per turn of the event loop, and sees others' commits in the next", async () => {
    const path = join(await freshDir(), 'engine.db');
    const db = openDatabase(path);
    const other = openDatabase(path);
    const before = dataVersion(db);
    other.exec(`INSERT INTO queue_settings (key, value) VALUES ('k', 'v')`);
    expect(dataVersion(db)).toBe(before);
    await nextTurn();
    const after = dataVersion(db);
    expect(after).not.toBe(before);
    // Its own commits never move it; the caches built on it clear themselves on those.
    db.exec(`UPDATE queue_settings SET value = 'w'`);
    await nextTurn();
    expect(dataVersion(db)).toBe(after);
    other.close();
    db.close();
  });

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

  it('migration 3 adds credentials and the keystore and keeps the jobs', async () => {
    const path = join(await freshDir(), 'engine.db');
    const v2 = openDatabase(path, 2);
    v2.prepare(
      `INSERT INTO jobs (id, preset, params, input_kind, input_path, output_dir, state, created_at)
       VALUES ('j1', 'remux', '{}', 'plain', '/in.mp4', '/out', 'queued', 1)`,
    ).run();
    v2.prepare(`INSERT INTO job_events (job_id, at, kind) VALUES ('j1', 1, 'submitted')`).run();
    v2.close();
    const v3 = openDatabase(path, 3);
    expect(schemaVersion(v3)).toBe(3);
    expect(columns(v3, 'credentials')).toEqual([
      'client_id',
      'name',
      'role',
      'key_sealed',
      'cidrs',
      'created_at',
      'revoked_at',
      'last_used_at',
    ]);
    expect(columns(v3, 'keystore')).toEqual(['id', 'kek_id', 'dek_wrapped']);
    expect(v3.prepare('SELECT id, state FROM jobs').all()).toEqual([{ id: 'j1', state: 'queued' }]);
    expect(v3.prepare('SELECT count(*) AS n FROM job_events').get()).toEqual({ n: 1 });
    const add = v3.prepare(
      `INSERT INTO credentials (client_id, name, role, key_sealed, created_at) VALUES (?, ?, ?, ?, 1)`,
    );
    add.run('ks_a', 'alice', 'admin', Buffer.alloc(60));
    expect(v3.prepare(`SELECT cidrs FROM credentials`).get()).toEqual({ cidrs: '[]' });
    expect(() => add.run('ks_b', 'bob', 'root', Buffer.alloc(60))).toThrow(/CHECK constraint/);
    expect(() => add.run('ks_c', 'alice', 'viewer', Buffer.alloc(60))).toThrow(/UNIQUE/);
    // One keystore row only.
    const wrap = v3.prepare(
      `INSERT INTO keystore (id, kek_id, dek_wrapped) VALUES (?, 'k', x'00')`,
    );
    wrap.run(1);
    expect(() => wrap.run(2)).toThrow(/CHECK constraint/);
    v3.close();
  });

  it('migration 4 adds an append-only audit log and keeps the credentials', async () => {
    const path = join(await freshDir(), 'engine.db');
    const v3 = openDatabase(path, 3);
    v3.prepare(
      `INSERT INTO credentials (client_id, name, role, key_sealed, created_at)
       VALUES ('ks_a', 'alice', 'client', x'0102', 1)`,
    ).run();
    v3.close();
    const v4 = openDatabase(path, 4);
    expect(schemaVersion(v4)).toBe(4);
    expect(columns(v4, 'audit')).toEqual([
      'seq',
      'at',
      'actor',
      'address',
      'action',
      'target',
      'outcome',
      'detail',
      'prev_hash',
      'hash',
    ]);
    expect(v4.prepare('SELECT client_id, name, role FROM credentials').all()).toEqual([
      { client_id: 'ks_a', name: 'alice', role: 'client' },
    ]);
    v4.prepare(
      `INSERT INTO audit (at, action, outcome, prev_hash, hash) VALUES (1, 'login', 'ok', 'p', 'h')`,
    ).run();
    expect(() => v4.prepare(`UPDATE audit SET outcome = 'denied'`).run()).toThrow(/append-only/);
    expect(() => v4.prepare(`DELETE FROM audit`).run()).toThrow(/append-only/);
    expect(() =>
      v4
        .prepare(
          `INSERT INTO audit (at, action, outcome, prev_hash, hash) VALUES (2, 'x', 'maybe', 'p', 'h')`,
        )
        .run(),
    ).toThrow(/CHECK constraint/);
    expect(v4.prepare('SELECT count(*) AS n FROM audit').get()).toEqual({ n: 1 });
    v4.close();
  });

  it('migration 5 adds uploads whose offset can never pass their size', async () => {
    const path = join(await freshDir(), 'engine.db');
    openDatabase(path, 4).close();
    const db = openDatabase(path, 5);
    expect(columns(db, 'uploads')).toEqual(['id', 'size', 'offset', 'client_id', 'created_at']);
    db.prepare(
      `INSERT INTO uploads (id, size, client_id, created_at) VALUES ('u1', 10, 'c', 0)`,
    ).run();
    expect(() => db.prepare(`UPDATE uploads SET offset = 11 WHERE id = 'u1'`).run()).toThrow(
      /CHECK constraint/,
    );
    db.close();
  });

  it('migration 6 adds pairing codes and keeps the uploads', async () => {
    const path = join(await freshDir(), 'engine.db');
    const v5 = openDatabase(path, 5);
    v5.prepare(
      `INSERT INTO uploads (id, size, client_id, created_at) VALUES ('u1', 10, 'c', 0)`,
    ).run();
    v5.close();
    const db = openDatabase(path, 6);
    expect(columns(db, 'pairing_codes')).toEqual([
      'code_hash',
      'role',
      'created_at',
      'expires_at',
      'used_at',
      'used_by',
    ]);
    expect(db.prepare('SELECT id FROM uploads').all()).toEqual([{ id: 'u1' }]);
    db.close();
  });

  it('migration 7 adds the library; removing a folder removes its files', async () => {
    const path = join(await freshDir(), 'engine.db');
    openDatabase(path, 6).close();
    const db = openDatabase(path, 7);
    db.prepare(
      `INSERT INTO library_folders (id, path, added_at, scanned_at) VALUES ('f1', '/m', 0, 0)`,
    ).run();
    const addFile = db.prepare(
      `INSERT INTO library_files (id, folder_id, rel, size, mtime_ms, kind)
       VALUES (?, 'f1', ?, 1, 0, ?)`,
    );
    addFile.run('m1', 'a.mp4', 'video');
    expect(() => addFile.run('m2', 'a.mp4', 'video')).toThrow(/UNIQUE/);
    expect(() => addFile.run('m3', 'b.bin', 'tape')).toThrow(/CHECK constraint/);
    db.prepare(`DELETE FROM library_folders WHERE id = 'f1'`).run();
    expect(db.prepare('SELECT COUNT(*) AS n FROM library_files').get()).toEqual({ n: 0 });
    db.close();
  });

  it('migration 8 keeps folders as watched disk folders and adds missing-since and settings', async () => {
    const path = join(await freshDir(), 'engine.db');
    const old = openDatabase(path, 7);
    old
      .prepare(
        `INSERT INTO library_folders (id, path, added_at, scanned_at) VALUES ('f1', '/m', 0, 0)`,
      )
      .run();
    old.close();
    const db = openDatabase(path, 8);
    expect(db.prepare('SELECT source, watching FROM library_folders').get()).toEqual({
      source: 'disk',
      watching: 1,
    });
    expect(() =>
      db.prepare(`UPDATE library_folders SET source = 'cloud' WHERE id = 'f1'`).run(),
    ).toThrow(/CHECK constraint/);
    db.prepare(
      `INSERT INTO library_files (id, folder_id, rel, size, mtime_ms, kind, missing_since)
       VALUES ('m1', 'f1', 'a.mp4', 1, 0, 'video', 5)`,
    ).run();
    expect(db.prepare('SELECT missing_since FROM library_files').get()).toEqual({
      missing_since: 5,
    });
    db.prepare(`INSERT INTO desktop_settings (key, value) VALUES ('encryptOnAdd', 'false')`).run();
    expect(() =>
      db.prepare(`INSERT INTO desktop_settings (key, value) VALUES ('encryptOnAdd', 'x')`).run(),
    ).toThrow(/UNIQUE|PRIMARY/);
    db.close();
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
