// The engine's SQLite database (better-sqlite3, WAL) and its schema migrations.
//
// Migrations are append-only, one file each in ./migrations (listed in order by its
// index): each moves the schema from version i to i + 1 inside one transaction, and
// `PRAGMA user_version` records how far a file has come. A database written by a newer
// Keepsake is refused rather than guessed at.

import Database from 'better-sqlite3';
import {
  chmodSync,
  closeSync,
  linkSync,
  mkdirSync,
  openSync,
  readdirSync,
  renameSync,
  rmSync,
  statSync,
} from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { DATABASE_REPAIR_HINT, KeepsakeError, fromSqliteError } from '../core/errors';
import { hexId } from '../core/ids';
import { MIGRATIONS } from './migrations';

export type Db = Database.Database;

export { MIGRATIONS } from './migrations';

const cache = new WeakMap<Db, Map<string, Database.Statement>>();

/**
 * A prepared statement, made once per connection and SQL text: preparing costs more
 * than running a small query, and the server runs the same few on every request.
 */
export function stmt(db: Db, sql: string): Database.Statement {
  let statements = cache.get(db);
  if (!statements) cache.set(db, (statements = new Map()));
  let statement = statements.get(sql);
  if (!statement) statements.set(sql, (statement = db.prepare(sql)));
  return statement;
}

// data_version per connection, read at most once per turn of the event loop (the map is
// cleared in the next check phase). Each read is a read transaction, with two lock
// syscalls in WAL mode; every signed request consults two memos built on it, and in a
// profile of the server under load those reads took a fifth of its time. Requests
// handled in one turn were read from their sockets in that turn, so a commit that this
// misses is at most one turn late for them, as if it had landed just after they arrived.
const versions = new Map<Db, number>();
let clearing = false;

/**
 * SQLite's data_version of `db`: it moves whenever another connection commits. Caches
 * built on it clear themselves on their own writes, which do not move it.
 */
export function dataVersion(db: Db): number {
  let version = versions.get(db);
  if (version === undefined) {
    version = stmt(db, 'PRAGMA data_version').pluck().get() as number;
    versions.set(db, version);
    if (!clearing) {
      clearing = true;
      setImmediate(() => {
        versions.clear();
        clearing = false;
      });
    }
  }
  return version;
}

export function databasePath(dataDir: string): string {
  return join(dataDir, 'engine.db');
}

/**
 * Opens (creating if needed) the database and brings its schema up to `target`. A new
 * database is built under a temporary name and linked into place only once migrated, so
 * an `engine.db` that exists always held a schema: an existing file that is empty or
 * unreadable is refused (DATABASE_CORRUPT, with what to do), never taken as a new one,
 * which would silently drop the job history, credentials and library index.
 */
export function openDatabase(path: string, target = MIGRATIONS.length): Db {
  if (path === ':memory:') return configure(new Database(path), path, target);
  mkdirSync(dirname(path), { recursive: true, mode: 0o700 });
  let info = statSync(path, { throwIfNoEntry: false });
  if (!info) {
    createDatabase(path, target);
    info = statSync(path);
  }
  if (info.size === 0) {
    throw new KeepsakeError(
      'DATABASE_CORRUPT',
      `the engine database is empty (0 bytes), so the job history and library index it held are gone from it; ${DATABASE_REPAIR_HINT}`,
      { file: path },
    );
  }
  // Job history, library paths and sealed credentials are nobody else's business; files
  // from before this check were made 0644. SQLite gives -wal and -shm the main file's mode.
  for (const file of [path, `${path}-wal`, `${path}-shm`]) tightenMode(file);
  let db: Db;
  try {
    // fileMustExist: a file removed meanwhile must not come back empty.
    db = new Database(path, { fileMustExist: true });
  } catch (err) {
    throw fromSqliteError(err, path) ?? err;
  }
  return configure(db, path, target);
}

function configure(db: Db, path: string, target: number): Db {
  try {
    db.pragma('journal_mode = WAL');
    // WAL + NORMAL is durable against a crashed process; only power loss can drop the
    // last transactions, never corrupt the file.
    db.pragma('synchronous = NORMAL');
    db.pragma('foreign_keys = ON');
    // Another process (the CLI beside a running engine) may hold the write lock briefly.
    db.pragma(`busy_timeout = ${BUSY_TIMEOUT_MS}`);
    migrate(db, target, path);
    return db;
  } catch (err) {
    db.close();
    throw fromSqliteError(err, path === ':memory:' ? undefined : path) ?? err;
  }
}

/** How long a statement waits for another process's write lock before DATABASE_BUSY. */
export const BUSY_TIMEOUT_MS = 5000;

/** Builds a new database beside `path` and links it into place (the first creator wins). */
function createDatabase(path: string, target: number): void {
  const temp = `${path}${CREATING}${process.pid}-${hexId(4)}`;
  removeAbandonedCreations(path);
  closeSync(openSync(temp, 'wx', 0o600));
  try {
    // Closing the only connection checkpoints the WAL into the file and removes it.
    configure(new Database(temp, { fileMustExist: true }), temp, target).close();
    try {
      linkSync(temp, path);
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      // Another process created it meanwhile: theirs is the database.
      if (code === 'EEXIST') return;
      // A file system without hard links (exFAT, some network shares): a rename, which
      // could only replace a database another process created in these same milliseconds.
      if (code === 'EPERM' || code === 'ENOTSUP' || code === 'EOPNOTSUPP') {
        renameSync(temp, path);
        return;
      }
      throw err;
    }
  } finally {
    for (const file of [temp, `${temp}-wal`, `${temp}-shm`]) rmSync(file, { force: true });
  }
}

const CREATING = '.creating-';

/** Temporary databases of creators that were killed (their pid is gone). */
function removeAbandonedCreations(path: string): void {
  const prefix = `${basename(path)}${CREATING}`;
  let names: string[];
  try {
    names = readdirSync(dirname(path));
  } catch {
    return;
  }
  for (const name of names) {
    if (!name.startsWith(prefix)) continue;
    const pid = Number(name.slice(prefix.length).split('-')[0]);
    if (Number.isInteger(pid) && pid > 0 && processAlive(pid)) continue;
    rmSync(join(dirname(path), name), { force: true });
  }
}

function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

function tightenMode(file: string): void {
  try {
    const info = statSync(file, { throwIfNoEntry: false });
    if (info && (info.mode & 0o077) !== 0) chmodSync(file, info.mode & 0o700);
  } catch {
    // Not ours to change (another user's file): SQLite will say if it cannot open it.
  }
}

export function schemaVersion(db: Db): number {
  return db.pragma('user_version', { simple: true }) as number;
}

function migrate(db: Db, target: number, path: string): void {
  const current = schemaVersion(db);
  if (current > MIGRATIONS.length) {
    throw new KeepsakeError(
      'UNSUPPORTED_VERSION',
      `the database is at schema version ${current}, written by a newer Keepsake (this one knows ${MIGRATIONS.length})`,
      { file: path },
    );
  }
  // Each step re-reads the version under the write lock: two processes opening a new
  // database at once must not both apply the same migration.
  const step = db.transaction((): boolean => {
    const version = schemaVersion(db);
    if (version >= target) return false;
    db.exec(MIGRATIONS[version]!.sql);
    db.pragma(`user_version = ${version + 1}`);
    return true;
  });
  while (step.immediate()) {
    /* one migration per transaction */
  }
}
