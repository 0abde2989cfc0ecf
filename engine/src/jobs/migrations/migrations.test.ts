// One test per migration, on a real SQLite file: a database left at version N - 1 and
// holding data upgrades to N, keeps every row it held, gains what migration N says it
// adds, and accepts data in it. New migrations add a row to `cases` below.

import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { freshDir } from '../../testing/tmp';
import { openDatabase, schemaVersion, type Db } from '../db';
import { ENCODED_FILES_SQL, FILE_JOBS_SQL } from '../job-reads';
import { MIGRATIONS } from './index';

interface Case {
  /** What the migration adds: new tables, and `table.column` for columns on old tables. */
  readonly adds: readonly string[];
  /** Inserts rows into what this migration added (run at this version and every later one). */
  readonly seed: (db: Db) => void;
  /** What holds once it has run: constraints, defaults given to old rows, cascades. */
  readonly check: (db: Db) => void;
}

const cases: readonly Case[] = [
  {
    adds: ['jobs', 'queue_settings'],
    seed: (db) => {
      db.exec(`INSERT INTO jobs (id, preset, params, input_kind, input_path, output_dir, state, created_at)
               VALUES ('j1', 'remux', '{}', 'plain', '/in.mp4', '/out', 'queued', 1);
               INSERT INTO queue_settings (key, value) VALUES ('paused', 'false');`);
    },
    check: (db) => {
      expect(db.prepare(`SELECT attempts, max_attempts, notes FROM jobs`).get()).toEqual({
        attempts: 0,
        max_attempts: 3,
        notes: '[]',
      });
      expect(() => db.exec(`UPDATE jobs SET state = 'bogus'`)).toThrow(/CHECK constraint/);
    },
  },
  {
    adds: ['job_events'],
    seed: (db) => {
      db.exec(`INSERT INTO job_events (job_id, at, kind) VALUES ('j1', 2, 'submitted')`);
    },
    check: (db) => {
      expect(() =>
        db.exec(`INSERT INTO job_events (job_id, at, kind) VALUES ('nobody', 2, 'x')`),
      ).toThrow(/FOREIGN KEY/);
      db.exec(`DELETE FROM jobs WHERE id = 'j1'`);
      expect(count(db, 'job_events')).toBe(0);
    },
  },
  {
    adds: ['credentials', 'keystore'],
    seed: (db) => {
      db.exec(`INSERT INTO credentials (client_id, name, role, key_sealed, created_at)
               VALUES ('ks_a', 'alice', 'admin', x'0102', 1);
               INSERT INTO keystore (id, kek_id, dek_wrapped) VALUES (1, 'k', x'00');`);
    },
    check: (db) => {
      expect(db.prepare(`SELECT cidrs FROM credentials`).get()).toEqual({ cidrs: '[]' });
      expect(() =>
        db.exec(`INSERT INTO credentials (client_id, name, role, key_sealed, created_at)
                 VALUES ('ks_b', 'bob', 'root', x'00', 1)`),
      ).toThrow(/CHECK constraint/);
      expect(() =>
        db.exec(`INSERT INTO keystore (id, kek_id, dek_wrapped) VALUES (2, 'k', x'00')`),
      ).toThrow(/CHECK constraint/);
    },
  },
  {
    adds: ['audit'],
    seed: (db) => {
      db.exec(`INSERT INTO audit (at, action, outcome, prev_hash, hash)
               VALUES (1, 'login', 'ok', 'p', 'h')`);
    },
    check: (db) => {
      expect(() => db.exec(`UPDATE audit SET outcome = 'denied'`)).toThrow(/append-only/);
      expect(() => db.exec(`DELETE FROM audit`)).toThrow(/append-only/);
      expect(count(db, 'audit')).toBe(1);
    },
  },
  {
    adds: ['uploads'],
    seed: (db) => {
      db.exec(`INSERT INTO uploads (id, size, client_id, created_at) VALUES ('u1', 10, 'c', 0)`);
    },
    check: (db) => {
      expect(db.prepare(`SELECT offset FROM uploads`).get()).toEqual({ offset: 0 });
      expect(() => db.exec(`UPDATE uploads SET offset = 11`)).toThrow(/CHECK constraint/);
    },
  },
  {
    adds: ['pairing_codes'],
    seed: (db) => {
      db.exec(`INSERT INTO pairing_codes (code_hash, role, created_at, expires_at)
               VALUES ('h1', 'client', 0, 60)`);
    },
    check: (db) => {
      expect(() => db.exec(`UPDATE pairing_codes SET role = 'root'`)).toThrow(/CHECK constraint/);
    },
  },
  {
    adds: ['library_folders', 'library_files'],
    seed: (db) => {
      db.exec(`INSERT INTO library_folders (id, path, added_at, scanned_at) VALUES ('f1', '/m', 0, 0);
               INSERT INTO library_files (id, folder_id, rel, size, mtime_ms, kind)
               VALUES ('m1', 'f1', 'a.mp4', 1, 0, 'video')`);
    },
    check: (db) => {
      expect(() =>
        db.exec(`INSERT INTO library_files (id, folder_id, rel, size, mtime_ms, kind)
                 VALUES ('m2', 'f1', 'a.mp4', 1, 0, 'video')`),
      ).toThrow(/UNIQUE/);
      db.exec(`DELETE FROM library_folders WHERE id = 'f1'`);
      expect(count(db, 'library_files')).toBe(0);
    },
  },
  {
    adds: [
      'library_folders.source',
      'library_folders.watching',
      'library_files.missing_since',
      'library_files.seen_scan',
      'desktop_settings',
    ],
    seed: (db) => {
      db.exec(`INSERT INTO library_folders (id, path, added_at, scanned_at, source, watching)
               VALUES ('f2', 'upload:f2', 0, 0, 'upload', 0);
               INSERT INTO library_files (id, folder_id, rel, size, mtime_ms, kind, missing_since)
               VALUES ('m9', 'f2', 'b.jpg', 1, 0, 'photo', 5);
               INSERT INTO desktop_settings (key, value) VALUES ('encryptOnAdd', 'false')`);
    },
    check: (db) => {
      // Folders from before the library was an archive are watched folders on disk.
      expect(
        db.prepare(`SELECT source, watching FROM library_folders WHERE id = 'f1'`).get(),
      ).toEqual({ source: 'disk', watching: 1 });
      expect(db.prepare(`SELECT missing_since FROM library_files WHERE id = 'm1'`).get()).toEqual({
        missing_since: null,
      });
      expect(() => db.exec(`UPDATE library_folders SET source = 'cloud'`)).toThrow(
        /CHECK constraint/,
      );
    },
  },
  {
    adds: ['library_info'],
    seed: (db) => {
      db.exec(`INSERT INTO library_info (file_id, version, object_mtime, sealed, read_at)
               VALUES ('m1', 1, 0, x'00', 0)`);
    },
    check: (db) => {
      db.exec(`DELETE FROM library_files WHERE id = 'm1'`);
      expect(count(db, 'library_info')).toBe(0);
    },
  },
  {
    adds: ['library_previews', 'library_preview_state'],
    seed: (db) => {
      db.exec(`INSERT INTO library_previews (file_id, kind, name, vault_file_id, width, height)
               VALUES ('m1', 'poster', 'n1', 'v1', 320, 240);
               INSERT INTO library_preview_state (file_id, version, object_mtime, outcome, made_at)
               VALUES ('m1', 1, 0, 'made', 0)`);
    },
    check: (db) => {
      expect(db.prepare(`SELECT frames FROM library_previews`).get()).toEqual({ frames: 1 });
      expect(() => db.exec(`UPDATE library_previews SET kind = 'movie'`)).toThrow(/CHECK/);
      expect(() => db.exec(`UPDATE library_preview_state SET reason = 'odd'`)).toThrow(/CHECK/);
      db.exec(`DELETE FROM library_files WHERE id = 'm1'`);
      expect(count(db, 'library_previews')).toBe(0);
      expect(count(db, 'library_preview_state')).toBe(0);
    },
  },
  {
    adds: [],
    seed: (db) => {
      db.exec(`INSERT INTO jobs (id, preset, params, options, input_kind, input_path, output_dir,
                                 state, created_at)
               VALUES ('j11', 'web-h264', '{}', '{"libraryFile":"m11"}', 'vault', 'm11.ksv',
                       'outputs', 'succeeded', 11)`);
    },
    check: (db) => {
      // The library's two questions of the queue (job-reads.ts) go through the index, the
      // second without reading the table at all.
      const plan = (sql: string, ...args: unknown[]) =>
        (db.prepare(`EXPLAIN QUERY PLAN ${sql}`).all(...args) as { detail: string }[])
          .map((row) => row.detail)
          .join('\n');
      expect(plan(FILE_JOBS_SQL, '["m11"]')).toMatch(/USING INDEX jobs_by_library_file/);
      expect(plan(ENCODED_FILES_SQL)).toMatch(/USING COVERING INDEX jobs_by_library_file/);
      expect(db.prepare(FILE_JOBS_SQL).all('["m11"]')).toEqual([
        { file: 'm11', id: 'j11', preset: 'web-h264', state: 'succeeded' },
      ]);
      expect(db.prepare(ENCODED_FILES_SQL).pluck().all()).toEqual(['m11']);
    },
  },
  {
    adds: ['library_labels'],
    seed: (db) => {
      db.exec(`INSERT INTO library_labels (file_id, sealed, set_at) VALUES ('m1', x'00', 12)`);
    },
    check: (db) => {
      expect(() =>
        db.exec(`INSERT INTO library_labels (file_id, sealed, set_at) VALUES ('nobody', x'00', 1)`),
      ).toThrow(/FOREIGN KEY/);
      db.exec(`DELETE FROM library_files WHERE id = 'm1'`);
      expect(count(db, 'library_labels')).toBe(0);
    },
  },
  {
    adds: ['tape_cut_lists'],
    seed: (db) => {
      db.exec(
        `INSERT INTO tape_cut_lists (file_id, version, sealed, saved_at) VALUES ('m1', 1, x'00', 13)`,
      );
    },
    check: (db) => {
      expect(() =>
        db.exec(
          `INSERT INTO tape_cut_lists (file_id, version, sealed, saved_at) VALUES ('m1', 1, x'00', 2)`,
        ),
      ).toThrow(/UNIQUE/);
      expect(() =>
        db.exec(
          `INSERT INTO tape_cut_lists (file_id, version, sealed, saved_at) VALUES ('nobody', 1, x'00', 1)`,
        ),
      ).toThrow(/FOREIGN KEY/);
      db.exec(`DELETE FROM library_files WHERE id = 'm1'`);
      expect(count(db, 'tape_cut_lists')).toBe(0);
    },
  },
  {
    adds: ['library_watched'],
    seed: (db) => {
      db.exec(`INSERT INTO library_watched (file_id, watched_at) VALUES ('m1', 14)`);
    },
    check: (db) => {
      expect(() =>
        db.exec(`INSERT INTO library_watched (file_id, watched_at) VALUES ('nobody', 1)`),
      ).toThrow(/FOREIGN KEY/);
      db.exec(`DELETE FROM library_files WHERE id = 'm1'`);
      expect(count(db, 'library_watched')).toBe(0);
    },
  },
  {
    adds: ['job_deliveries'],
    seed: (db) => {
      db.exec(
        `INSERT INTO job_deliveries (job_id, state, path, at) VALUES ('j1', 'saved', '/o/a.mp4', 15)`,
      );
    },
    check: (db) => {
      expect(() => db.exec(`UPDATE job_deliveries SET state = 'bogus'`)).toThrow(
        /CHECK constraint/,
      );
      expect(() =>
        db.exec(`INSERT INTO job_deliveries (job_id, state, at) VALUES ('nobody', 'saving', 1)`),
      ).toThrow(/FOREIGN KEY/);
      db.exec(`DELETE FROM jobs WHERE id = 'j1'`);
      expect(count(db, 'job_deliveries')).toBe(0);
    },
  },
  {
    adds: ['tape_clips'],
    seed: (db) => {
      db.exec(
        `INSERT INTO tape_clips (item_id, tape_id, job_id, start_s, end_s) VALUES ('m1', NULL, 'j9', 0, 5)`,
      );
    },
    check: (db) => {
      expect(() => db.exec(`UPDATE tape_clips SET end_s = 0`)).toThrow(/CHECK constraint/);
      expect(() =>
        db.exec(
          `INSERT INTO tape_clips (item_id, tape_id, job_id, start_s, end_s) VALUES ('nobody', NULL, 'j8', 0, 1)`,
        ),
      ).toThrow(/FOREIGN KEY/);
      db.exec(`DELETE FROM library_files WHERE id = 'm1'`);
      expect(count(db, 'tape_clips')).toBe(0);
    },
  },
  {
    adds: ['tape_analyses'],
    seed: (db) => {
      db.exec(`INSERT INTO tape_analyses (file_id, job_id, sealed, pictures, vault_file_id, kept_at)
               VALUES ('m1', 'j1', x'0102', NULL, NULL, 1)`);
    },
    check: (db) => {
      expect(() =>
        db.exec(`INSERT INTO tape_analyses (file_id, job_id, sealed, kept_at)
                 VALUES ('nobody', 'j2', x'00', 1)`),
      ).toThrow(/FOREIGN KEY/);
      expect(() =>
        db.exec(`INSERT INTO tape_analyses (file_id, job_id, sealed, kept_at)
                 VALUES ('m1', 'j3', x'00', 2)`),
      ).toThrow(/UNIQUE/);
      db.exec(`DELETE FROM library_files WHERE id = 'm1'`);
      expect(count(db, 'tape_analyses')).toBe(0);
    },
  },
  {
    adds: [],
    seed: () => {},
    check: (db) => {
      // A video's info (m1, read by version 1) is left to be read again.
      expect(db.prepare(`SELECT version FROM library_info`).pluck().all()).toEqual([1]);
    },
  },
];

function count(db: Db, table: string): number {
  return db.prepare(`SELECT COUNT(*) FROM ${table}`).pluck().get() as number;
}

/** Every table (and its columns), from sqlite_master. */
function schema(db: Db): Map<string, string[]> {
  const tables = db
    .prepare(`SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'`)
    .pluck()
    .all() as string[];
  return new Map(
    tables.map((table) => [
      table,
      (db.prepare(`PRAGMA table_info(${table})`).all() as { name: string }[]).map((c) => c.name),
    ]),
  );
}

/** Every row of every table, read by the columns `tables` names. */
function contents(db: Db, tables: Map<string, string[]>): Record<string, unknown[]> {
  const out: Record<string, unknown[]> = {};
  for (const [table, cols] of tables) {
    out[table] = db
      .prepare(`SELECT ${cols.map((c) => `"${c}"`).join(', ')} FROM ${table} ORDER BY rowid`)
      .all();
  }
  return out;
}

describe('migrations', () => {
  it('has one case per migration, each numbered by its place and named by its file', () => {
    expect(cases).toHaveLength(MIGRATIONS.length);
    expect(MIGRATIONS.map((m) => m.version)).toEqual(MIGRATIONS.map((_, i) => i + 1));
    const files = readdirSync(__dirname)
      .filter((name) => /^\d{3}-.*\.ts$/.test(name) && !name.endsWith('.test.ts'))
      .sort();
    expect(files).toEqual(
      MIGRATIONS.map((m) => `${String(m.version).padStart(3, '0')}-${m.name}.ts`),
    );
  });

  it('18 keeps photos and sounds read by info version 2 current, and videos to be read again', async () => {
    const path = join(await freshDir(), 'engine.db');
    const old = openDatabase(path, 17);
    old.exec(
      `INSERT INTO library_folders (id, path, added_at, scanned_at) VALUES ('f1', '/m', 0, 0)`,
    );
    const kinds = { v2: 'video', p2: 'photo', a2: 'audio', p1: 'photo' } as const;
    for (const [id, kind] of Object.entries(kinds)) {
      old
        .prepare(
          `INSERT INTO library_files (id, folder_id, rel, size, mtime_ms, kind) VALUES (?, 'f1', ?, 1, 0, ?)`,
        )
        .run(id, `${id}.x`, kind);
      old
        .prepare(
          `INSERT INTO library_info (file_id, version, object_mtime, sealed, read_at) VALUES (?, ?, 0, x'00', 0)`,
        )
        .run(id, Number(id.slice(1)));
    }
    old.close();
    const db = openDatabase(path, 18);
    expect(db.prepare(`SELECT file_id, version FROM library_info ORDER BY file_id`).all()).toEqual([
      { file_id: 'a2', version: 3 },
      { file_id: 'p1', version: 1 },
      { file_id: 'p2', version: 3 },
      { file_id: 'v2', version: 2 },
    ]);
    db.close();
  });

  it.each(MIGRATIONS.map((m, i) => [m.version, m.name, cases[i]!] as const))(
    'migration %i (%s) upgrades a database holding data from the version before',
    async (version, _name, migration) => {
      const path = join(await freshDir(), 'engine.db');
      const old = openDatabase(path, version - 1);
      expect(schemaVersion(old)).toBe(version - 1);
      for (const earlier of cases.slice(0, version - 1)) earlier.seed(old);
      const before = schema(old);
      const held = contents(old, before);
      old.close();

      const db = openDatabase(path, version);
      expect(schemaVersion(db)).toBe(version);
      const after = schema(db);
      const added = [...after].flatMap(([table, cols]) => {
        const had = before.get(table);
        if (!had) return [table];
        expect(cols.slice(0, had.length)).toEqual(had);
        return cols.slice(had.length).map((col) => `${table}.${col}`);
      });
      expect(added.sort()).toEqual([...migration.adds].sort());
      expect(contents(db, before)).toEqual(held);
      migration.seed(db);
      migration.check(db);
      db.close();

      // Opening it again applies nothing more.
      const again = openDatabase(path, version);
      expect(schemaVersion(again)).toBe(version);
      again.close();
    },
  );
});
