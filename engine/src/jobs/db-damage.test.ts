// A damaged, empty or busy engine.db, on real SQLite files: refused with a registry code
// and what to do, never taken as a new database; `repairDatabase` moves it aside and
// keeps what can be read; the file is private to its user.

import Database from 'better-sqlite3';
import { randomBytes } from 'node:crypto';
import {
  chmodSync,
  closeSync,
  openSync,
  readdirSync,
  statSync,
  writeFileSync,
  writeSync,
} from 'node:fs';
import { spawn } from 'node:child_process';
import { mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { processStart } from '../ffmpeg/strays';
import { fromSqliteError, type KeepsakeError } from '../core/errors';
import { freshDir } from '../testing/tmp';
import { openDatabase } from './db';
import { checkDatabase, repairDatabase } from './db-repair';
import { SqliteJobQueue } from './sqlite-queue';

const spec = (i: number) => ({
  preset: 'remux',
  params: { note: 'x'.repeat(200) },
  input: { kind: 'plain' as const, path: `/in/${i}.mp4` },
  outputDir: '/out',
});

/** A database holding `n` jobs, closed (so its WAL is checkpointed into the file). */
async function withJobs(n: number): Promise<string> {
  const path = join(await freshDir(), 'engine.db');
  const queue = new SqliteJobQueue(path);
  for (let i = 0; i < n; i++) await queue.submit(spec(i));
  await queue.close();
  return path;
}

function overwrite(path: string, offset: number, length: number): void {
  const fd = openSync(path, 'r+');
  try {
    writeSync(fd, randomBytes(length), 0, length, offset);
  } finally {
    closeSync(fd);
  }
}

/**
 * Overwrites `count` leaf pages of the jobs table, from the middle of it: pages holding job
 * rows only, wherever the schema's growth has put them (SQLite's dbstat table says which).
 */
function damageJobRows(path: string, count: number): void {
  const db = new Database(path, { readonly: true });
  const leaves = db
    .prepare(`SELECT pageno FROM dbstat WHERE name = 'jobs' AND pagetype = 'leaf' ORDER BY pageno`)
    .pluck()
    .all() as number[];
  const pageSize = db.pragma('page_size', { simple: true }) as number;
  db.close();
  const middle = Math.floor((leaves.length - count) / 2);
  for (const page of leaves.slice(middle, middle + count)) {
    overwrite(path, (page - 1) * pageSize, pageSize);
  }
}

function caught(fn: () => unknown): KeepsakeError {
  try {
    fn();
  } catch (err) {
    return err as KeepsakeError;
  }
  throw new Error('expected an error');
}

describe('a damaged engine.db', () => {
  it('an existing zero-byte file is refused as damaged, not taken as a new database', async () => {
    const dir = await freshDir();
    const path = join(dir, 'engine.db');
    writeFileSync(path, '');
    const err = caught(() => openDatabase(path));
    expect(err.code).toBe('DATABASE_CORRUPT');
    expect(err.message).toContain(path);
    expect(err.message).toContain('empty (0 bytes)');
    expect(err.message).toContain('keepsake db repair');
    // Left exactly as found: no schema written into it.
    expect(statSync(path).size).toBe(0);
  });

  it('a file whose header was overwritten is refused with DATABASE_CORRUPT', async () => {
    const path = await withJobs(3);
    overwrite(path, 0, 100);
    const err = caught(() => openDatabase(path));
    expect(err.code).toBe('DATABASE_CORRUPT');
    expect(err.message).toContain('keepsake db repair');
  });

  it('damaged pages surface as DATABASE_CORRUPT when they are read', async () => {
    const path = await withJobs(300);
    expect(statSync(path).size).toBeGreaterThan(50 * 4096);
    // Pages of the jobs table itself: a fixed offset lands elsewhere as the schema grows.
    damageJobRows(path, 3);
    const queue = new SqliteJobQueue(path);
    try {
      const err = await queue.list({ limit: 1000 }).then(
        () => undefined,
        (e: unknown) => fromSqliteError(e),
      );
      expect(err?.code).toBe('DATABASE_CORRUPT');
    } finally {
      await queue.close();
    }
  });

  it('repair moves the damaged file aside, keeps the readable rows and starts afresh', async () => {
    const path = await withJobs(300);
    damageJobRows(path, 3);
    expect(checkDatabase(path)).toBeDefined();
    const report = repairDatabase(path);
    expect(report.repaired).toBe(true);
    expect(readdirSync(join(path, '..'))).toContain(report.movedTo!.split('/').pop());
    expect(report.damaged).toContain('jobs');
    // Most of the 300 jobs were on undamaged pages.
    expect(report.kept.jobs).toBeGreaterThan(100);
    expect(report.kept.jobs).toBeLessThan(300);
    const queue = new SqliteJobQueue(path);
    expect((await queue.list({ limit: 1000 })).length).toBe(report.kept.jobs);
    await queue.close();
    expect(checkDatabase(path)).toBeUndefined();
    // A healthy database is left alone.
    expect(repairDatabase(path).repaired).toBe(false);
  });

  it('repair refuses a healthy database that another program holds, and leaves it as it is', async () => {
    const path = await withJobs(5);
    const holder = new Database(path);
    holder.pragma('locking_mode = EXCLUSIVE');
    holder.exec('BEGIN EXCLUSIVE; UPDATE jobs SET priority = priority;');
    try {
      const before = readFileSync(path);
      const err = caught(() => repairDatabase(path));
      expect(err.code).toBe('DATABASE_BUSY');
      expect(readdirSync(join(path, '..')).filter((n) => n.includes('damaged'))).toEqual([]);
      expect(readFileSync(path).equals(before)).toBe(true);
    } finally {
      holder.exec('ROLLBACK');
      holder.close();
    }
    const queue = new SqliteJobQueue(path);
    expect((await queue.list({ limit: 10 })).length).toBe(5);
    await queue.close();
  });

  it('repair refuses while an engine runs on the data folder', async () => {
    const path = await withJobs(1);
    writeFileSync(path, '');
    // A running engine's record of its FFmpeg children (ffmpeg/strays.ts).
    const engine = spawn('sleep', ['30'], { stdio: 'ignore' });
    try {
      await new Promise((r) => setTimeout(r, 100));
      const dir = join(path, '..', 'cache', 'children');
      mkdirSync(dir, { recursive: true });
      writeFileSync(
        join(dir, `${engine.pid}.json`),
        JSON.stringify({ pid: engine.pid, start: processStart(engine.pid!), children: [] }),
      );
      const err = caught(() => repairDatabase(path));
      expect(err.code).toBe('DATABASE_BUSY');
      expect(err.message).toMatch(/Keepsake is running on this data folder/);
      expect(statSync(path).size).toBe(0);
    } finally {
      engine.kill();
    }
    // Once it is gone, the repair goes ahead.
    await new Promise((r) => engine.once('exit', r));
    expect(repairDatabase(path).repaired).toBe(true);
  });

  it('repair keeps the library, including what was read of each item', async () => {
    const path = join(await freshDir(), 'engine.db');
    const db = openDatabase(path);
    db.exec(`INSERT INTO library_folders (id, path, added_at, scanned_at) VALUES ('f1', '/m', 1, 1);
      INSERT INTO library_files (id, folder_id, rel, size, mtime_ms, kind) VALUES ('m1', 'f1', 'a.jpg', 1, 1, 'photo');`);
    db.prepare(
      'INSERT INTO library_info (file_id, version, object_mtime, sealed, read_at) VALUES (?, 1, 1, ?, 1)',
    ).run('m1', randomBytes(64));
    db.close();
    // Damage the file past the library's pages: a page of many jobs.
    const queue = new SqliteJobQueue(path);
    for (let i = 0; i < 300; i++) await queue.submit(spec(i));
    await queue.close();
    damageJobRows(path, 3);
    const report = repairDatabase(path);
    expect(report.repaired).toBe(true);
    expect(report.kept).toMatchObject({ library_folders: 1, library_files: 1, library_info: 1 });
  });

  it('repair of a zero-byte file gives a fresh database that opens', async () => {
    const dir = await freshDir();
    const path = join(dir, 'engine.db');
    writeFileSync(path, '');
    const report = repairDatabase(path);
    expect(report).toMatchObject({ repaired: true, kept: {} });
    expect(statSync(report.movedTo!).size).toBe(0);
    openDatabase(path).close();
  });
});

describe('SQLite errors in registry terms', () => {
  it('a read-only file is DATABASE_UNAVAILABLE; a constraint (a bug, not the file) stays unmapped', async () => {
    const path = join(await freshDir(), 'engine.db');
    openDatabase(path).close();
    const readonly = new Database(path, { readonly: true });
    const ro = caught(() => readonly.exec(`INSERT INTO queue_settings VALUES ('k', 'v')`));
    readonly.close();
    expect(fromSqliteError(ro)?.code).toBe('DATABASE_UNAVAILABLE');
    const db = openDatabase(path);
    db.exec(`INSERT INTO queue_settings VALUES ('k', 'v')`);
    const dup = caught(() => db.exec(`INSERT INTO queue_settings VALUES ('k', 'w')`));
    db.close();
    expect(fromSqliteError(dup)).toBeUndefined();
    expect(fromSqliteError(new Error('plain'))).toBeUndefined();
  });
});

describe('engine.db is private', () => {
  it('a new database and its WAL are 0600 whatever the umask', async () => {
    const path = join(await freshDir(), 'engine.db');
    const old = process.umask(0o022);
    try {
      const db = openDatabase(path);
      db.exec(`INSERT INTO queue_settings (key, value) VALUES ('k', 'v')`);
      expect(statSync(path).mode & 0o777).toBe(0o600);
      expect(statSync(`${path}-wal`).mode & 0o777).toBe(0o600);
      db.close();
    } finally {
      process.umask(old);
    }
  });

  it('an existing 0644 database (made before this check) is made 0600 when opened', async () => {
    const path = join(await freshDir(), 'engine.db');
    const made = new Database(path);
    made.exec('CREATE TABLE t (x)');
    made.close();
    chmodSync(path, 0o644);
    openDatabase(path).close();
    expect(statSync(path).mode & 0o777).toBe(0o600);
  });
});
