// `keepsake db repair`: what to do with a damaged or empty engine.db. The damaged file is
// moved aside (never deleted: it may matter to someone who can do more with it), a fresh
// database takes its place, and every row that can still be read is copied across, table
// by table. What the database indexes (vault files, job outputs) lives on disk, so what
// is lost is history and the library's list of files, which a rescan rebuilds.

import Database from 'better-sqlite3';
import { readFileSync, readdirSync, renameSync, statSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { KeepsakeError, fromSqliteError, isKeepsakeError } from '../core/errors';
import { processStart } from '../ffmpeg/strays';
import { openDatabase, type Db } from './db';

/** Tables in an order that puts parents before the rows that refer to them. */
const TABLES = [
  'keystore',
  'credentials',
  'audit',
  'uploads',
  'pairing_codes',
  'queue_settings',
  'jobs',
  'job_events',
  'job_deliveries',
  'library_folders',
  'library_files',
  'library_info',
  'library_watched',
  'desktop_settings',
] as const;

export interface RepairReport {
  /** Whether the database needed repair at all. */
  repaired: boolean;
  /** Where the damaged file went (its -wal and -shm beside it). */
  movedTo?: string;
  /** Rows copied into the fresh database, per table. */
  kept: Record<string, number>;
  /** Tables that could not be read to the end (some or all of their rows are lost). */
  damaged: string[];
}

/**
 * Why the database at `path` is damaged, or undefined if it is healthy. Only damage
 * counts: a database another program holds (busy), or one that cannot be opened at all
 * (permissions, a disk error), throws its own registry error, since moving a healthy
 * file aside would lose everything it holds.
 */
export function checkDatabase(path: string): string | undefined {
  const info = statSync(path, { throwIfNoEntry: false });
  if (!info) return undefined; // none yet: the first start creates it
  if (info.size === 0) return 'it is empty (0 bytes)';
  let db: Db | undefined;
  try {
    db = new Database(path, { fileMustExist: true, timeout: 2000 });
    const result = db.pragma('quick_check', { simple: true }) as string;
    return result === 'ok' ? undefined : `SQLite's check found damage (${result})`;
  } catch (err) {
    const code = (err as { code?: unknown }).code;
    if (code === 'SQLITE_CORRUPT' || code === 'SQLITE_NOTADB') return (err as Error).message;
    throw fromSqliteError(err, path) ?? err;
  } finally {
    db?.close();
  }
}

/**
 * Engines that run on this data folder now, from the records each writes of its FFmpeg
 * children (ffmpeg/strays.ts): a running desktop with its vault open, `keepsake serve`,
 * `job work`. Repairing under one of them would move its database away as it writes.
 */
function runningEngines(dataDir: string): number[] {
  const dir = join(dataDir, 'cache', 'children');
  let names: string[];
  try {
    names = readdirSync(dir).filter((n) => /^\d+\.json$/.test(n));
  } catch {
    return [];
  }
  const running: number[] = [];
  for (const name of names) {
    try {
      const record = JSON.parse(readFileSync(join(dir, name), 'utf8')) as {
        pid?: unknown;
        start?: unknown;
      };
      const pid = Number(record.pid);
      if (pid === process.pid || !Number.isInteger(pid)) continue;
      if (processStart(pid) === record.start) running.push(pid);
    } catch {
      // A record half written or gone: not a running engine's.
    }
  }
  return running;
}

export function repairDatabase(path: string, now = new Date()): RepairReport {
  const problem = checkDatabase(path);
  if (problem === undefined) return { repaired: false, kept: {}, damaged: [] };
  const engines = runningEngines(dirname(path));
  if (engines.length > 0) {
    throw new KeepsakeError(
      'DATABASE_BUSY',
      `Keepsake is running on this data folder (process ${engines.join(', ')}): close the app, keepsake serve and job workers, then run db repair again`,
      { file: path },
    );
  }
  const stamp = now.toISOString().replace(/[:.]/g, '-');
  const aside = `${path}.damaged-${stamp}`;
  // The WAL may hold the newest rows; it moves with its file so SQLite can still read it.
  renameSync(path, aside);
  for (const suffix of ['-wal', '-shm']) {
    try {
      renameSync(`${path}${suffix}`, `${aside}${suffix}`);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
    }
  }
  const fresh = openDatabase(path);
  try {
    const { kept, damaged } = salvage(aside, fresh);
    return { repaired: true, movedTo: aside, kept, damaged };
  } finally {
    fresh.close();
  }
}

function salvage(from: string, to: Db): { kept: Record<string, number>; damaged: string[] } {
  const kept: Record<string, number> = {};
  const damaged: string[] = [];
  let old: Db;
  try {
    old = new Database(from, { fileMustExist: true });
  } catch {
    return { kept, damaged: [...TABLES] };
  }
  // Rows whose parent was lost are dropped after the copy, not refused one by one.
  to.pragma('foreign_keys = OFF');
  try {
    for (const table of TABLES) {
      const columns = commonColumns(old, to, table);
      if (!columns) {
        damaged.push(table);
        continue;
      }
      const list = columns.map((c) => `"${c}"`).join(', ');
      const insert = to.prepare(
        `INSERT OR IGNORE INTO ${table} (${list}) VALUES (${columns.map(() => '?').join(', ')})`,
      );
      let rows = 0;
      const copy = to.transaction(() => {
        try {
          for (const row of old.prepare(`SELECT ${list} FROM ${table}`).raw().iterate()) {
            insert.run(...(row as unknown[]));
            rows++;
          }
        } catch {
          // Read up to the damage: what came before it is kept.
          damaged.push(table);
        }
      });
      copy();
      kept[table] = rows;
    }
    to.exec(`DELETE FROM job_events WHERE job_id NOT IN (SELECT id FROM jobs);
             DELETE FROM library_files WHERE folder_id NOT IN (SELECT id FROM library_folders);`);
  } finally {
    to.pragma('foreign_keys = ON');
    old.close();
  }
  return { kept, damaged };
}

/** Columns `table` has in both databases, or undefined if the old one cannot say. */
function commonColumns(old: Db, to: Db, table: string): string[] | undefined {
  try {
    const have = new Set(
      (old.pragma(`table_info(${table})`) as { name: string }[]).map((c) => c.name),
    );
    if (have.size === 0) return undefined;
    return (to.pragma(`table_info(${table})`) as { name: string }[])
      .map((c) => c.name)
      .filter((name) => have.has(name));
  } catch (err) {
    if (isKeepsakeError(err)) throw err;
    return undefined;
  }
}
