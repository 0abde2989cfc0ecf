// The desktop library: folders a family added, the media found in them, and their vault
// copies. The library is an archive: it keeps what it was given until the user deletes it
// on purpose. Sources are only ever read; a source that disappears leaves its item in the
// library ("in the vault only"), and a folder the user stops watching keeps its vault
// copies unless the user also asks for those to go.
//
// Each vault copy lives at `<data>/library/<folder id>/<file id>.ksv`, a name that
// reveals nothing; the database remembers the source's size and mtime at encryption, so
// an edited source shows as pending again instead of silently keeping a stale copy.
// Uploads (a browser cannot name paths) have no source on disk at all: they are encrypted
// as they stream in (see http/uploads.ts).

import { mkdir, realpath, rm, stat } from 'node:fs/promises';
import { basename, isAbsolute, join, relative, resolve, sep } from 'node:path';
import { availableParallelism } from 'node:os';
import { runConcurrently } from '../core/concurrency';
import { KeepsakeError, fromFsError, type ErrorCode } from '../core/errors';
import { newLibraryId as newId } from '../core/ids';
import { stmt, type Db } from '../jobs/db';
import { encryptFile } from '../vault/file-ops';
import type { Vault } from '../vault/keyring';
import { mediaKindOf, type MediaKind } from '../vault/media-kind';
import { scanFolder, type ScanOptions, type ScanProgress, type ScannedFile } from './scan';

export type FolderSource = 'disk' | 'upload';

export interface LibraryFolder {
  id: string;
  path: string;
  addedAt: number;
  scannedAt: number;
  source: FolderSource;
  /** False once the user removed the folder but kept its vault copies. */
  watching: boolean;
}

export interface LibraryFile {
  id: string;
  folderId: string;
  rel: string;
  size: number;
  mtimeMs: number;
  kind: MediaKind;
  /**
   * The vault copy when it is the file as the family has it: it matches the source as it
   * is now, or the source is gone (or was an upload) and the copy is all there is.
   */
  encryptedPath: string | undefined;
  /** Whether the source was on disk at the last scan; uploads have none. */
  sourceExists: boolean;
  /** When a scan first found the source gone. */
  missingSince: number | undefined;
}

export interface EncryptProgress {
  done: number;
  total: number;
  failed: number;
}

export interface FolderSummary extends LibraryFolder {
  total: { files: number; bytes: number };
  kinds: Partial<Record<MediaKind, { files: number; bytes: number }>>;
  encrypted: number;
  pending: number;
  /** Items whose only copy is the vault's: source gone, or uploaded. */
  vaultOnly: number;
  scanning?: ScanProgress;
  encrypting?: EncryptProgress;
  lastError?: { code: ErrorCode; message: string };
}

/** What removing a folder would affect, said before the user confirms. */
export interface RemovalImpact {
  /** Vault copies that "also delete the encrypted copies" would delete. */
  encrypted: { files: number; bytes: number };
  /** Of those, the ones that are the only copy left (source gone, or an upload). */
  onlyCopies: { files: number; bytes: number };
}

export interface AddResult {
  folder: LibraryFolder;
  /** Set when nothing new was added, or folders were merged: says what happened. */
  notice?: string;
}

interface FileRow {
  id: string;
  folder_id: string;
  rel: string;
  size: number;
  mtime_ms: number;
  kind: MediaKind;
  object_path: string | null;
  object_size: number | null;
  object_mtime: number | null;
  missing_since: number | null;
}

interface CountRow {
  kind: MediaKind;
  files: number;
  bytes: number;
  encrypted: number;
  vaultOnly: number;
}

interface FolderRow {
  id: string;
  path: string;
  addedAt: number;
  scannedAt: number;
  source: FolderSource;
  watching: number;
}

const FOLDER_COLUMNS = `id, path, added_at AS addedAt, scanned_at AS scannedAt, source, watching`;

/** The engine folder of the uploads folder (older versions kept plain copies there). */
export const UPLOADS_DIR = 'uploads';

export type { ScanProgress, ScannedFile } from './scan';

/** The folder walk (scan.ts); tests pass a controllable one. */
export type Scanner = (
  root: string,
  opts: Pick<ScanOptions, 'signal' | 'onProgress' | 'onBatch' | 'excludeFolders'>,
) => Promise<unknown>;

export class Library {
  private readonly encrypting = new Map<string, EncryptProgress>();
  private readonly scans = new Map<string, { progress: ScanProgress; abort: AbortController }>();
  private readonly lastErrors = new Map<string, { code: ErrorCode; message: string }>();
  /**
   * The last counts of each folder. Counting a folder of a million files takes about a
   * second, and the UI asks every second while a scan or encryption runs: a count is
   * reused for five times as long as it took to make (at most 10 s), and dropped at once
   * when this process changes the folder. Small folders are always counted afresh.
   */
  private readonly counts = new Map<
    string,
    { key: string; at: number; took: number; rows: CountRow[] }
  >();

  constructor(
    private readonly db: Db,
    private readonly dataDir: string,
    private readonly scan: Scanner = scanFolder,
  ) {
    // Older versions kept uploads as plain copies in a folder of their own.
    stmt(this.db, `UPDATE library_folders SET source = 'upload' WHERE path = ?`).run(
      this.uploadsPath,
    );
  }

  /**
   * Forgets folders whose first scan never finished (the engine was stopped mid-scan):
   * they were never added, so no ghost entry survives a restart. Only for the process
   * that owns the library (the desktop engine at start): a CLI run beside it must not
   * drop the folder the desktop is scanning right now.
   */
  dropUnfinishedScans(): void {
    stmt(this.db, 'DELETE FROM library_folders WHERE scanned_at = 0').run();
  }

  get uploadsPath(): string {
    return join(this.dataDir, UPLOADS_DIR);
  }

  /**
   * Adds a folder and scans it. Adding a folder already in the library (or inside one)
   * adds nothing and says so; adding a folder that holds folders already added takes them
   * in, with their vault copies, so nothing is stored twice.
   */
  async addFolder(path: string, options: { signal?: AbortSignal } = {}): Promise<AddResult> {
    if (!isAbsolute(path)) {
      throw new KeepsakeError('USAGE', 'a library folder must be an absolute path', {
        file: path,
      });
    }
    const real = await realpath(resolve(path)).catch((err: unknown) => {
      throw fromFsError(err, path, 'read');
    });
    if (!(await stat(real)).isDirectory()) {
      throw new KeepsakeError('USAGE', 'that is a file; add the folder that holds it', {
        file: path,
      });
    }
    const data = await realpath(this.dataDir).catch(() => this.dataDir);
    if (isInside(real, data)) {
      throw new KeepsakeError('USAGE', "that folder is Keepsake's own data folder", {
        file: path,
      });
    }
    // A first scan of this folder that never finished (a run stopped midway) is retried.
    const ghost = this.folders().find((f) => f.path === real && f.scannedAt === 0);
    if (ghost && !this.scans.has(ghost.id)) {
      stmt(this.db, 'DELETE FROM library_folders WHERE id = ?').run(ghost.id);
    }
    const disk = this.folders().filter((f) => f.source === 'disk');
    const same = disk.find((f) => f.path === real);
    if (same?.watching) {
      return {
        folder: await this.rescan(same.id, options),
        notice: `“${folderName(same)}” is already in your library.`,
      };
    }
    if (same) {
      // Removed earlier with its copies kept: watch it again; the copies still match.
      stmt(this.db, 'UPDATE library_folders SET watching = 1 WHERE id = ?').run(same.id);
      return {
        folder: await this.rescan(same.id, options),
        notice: `“${folderName(same)}” is back in your library; its protected copies were kept.`,
      };
    }
    const parent = disk.find((f) => f.watching && isInside(real, f.path));
    if (parent) {
      return {
        folder: parent,
        notice: `That folder is already in your library, as part of “${folderName(parent)}”.`,
      };
    }

    const folder = this.insertFolder(real, 'disk');
    let scanned: LibraryFolder;
    try {
      scanned = await this.rescan(folder.id, options);
    } catch (err) {
      // A cancelled or failed first scan leaves no entry behind.
      stmt(this.db, 'DELETE FROM library_folders WHERE id = ?').run(folder.id);
      throw err;
    }
    const merged = this.adopt(scanned, disk);
    return merged.length
      ? {
          folder: scanned,
          notice: `${merged.map((f) => `“${folderName(f)}”`).join(', ')} ${merged.length === 1 ? 'was' : 'were'} already in your library; now part of “${folderName(scanned)}”.`,
        }
      : { folder: scanned };
  }

  /**
   * Re-reads a watched folder: new files appear, changed ones turn pending, and a file
   * whose source is gone stays when the vault holds a copy of it ("in the vault only").
   * Files are written in batches as the scan streams; only a finished scan marks files
   * missing, so a cancelled one changes nothing that was there.
   */
  async rescan(id: string, options: { signal?: AbortSignal } = {}): Promise<LibraryFolder> {
    const folder = this.folder(id);
    if (folder.source !== 'disk' || !folder.watching) return folder;
    if (this.scans.has(id)) {
      throw new KeepsakeError('USAGE', 'this folder is being scanned already');
    }
    const abort = new AbortController();
    const onAbort = () => abort.abort(options.signal?.reason);
    options.signal?.addEventListener('abort', onAbort, { once: true });
    const scan = { progress: { files: 0, dirs: 0, bytes: 0, skipped: 0 }, abort };
    this.scans.set(id, scan);
    const mark = Date.now();
    const upsert = stmt(
      this.db,
      `INSERT INTO library_files (id, folder_id, rel, size, mtime_ms, kind, seen_scan)
       VALUES (?, ?, ?, ?, ?, ?, ?)
       ON CONFLICT (folder_id, rel) DO UPDATE SET
         size = excluded.size, mtime_ms = excluded.mtime_ms,
         seen_scan = excluded.seen_scan, missing_since = NULL`,
    );
    const writeBatch = this.db.transaction((files: ScannedFile[]) => {
      for (const f of files) {
        upsert.run(newId('m'), id, f.rel, f.size, f.mtimeMs, mediaKindOf(f.rel), mark);
      }
    });
    try {
      const data = await realpath(this.dataDir).catch(() => this.dataDir);
      await this.scan(folder.path, {
        excludeFolders: [data],
        signal: abort.signal,
        onProgress: (p) => (scan.progress = { ...p }),
        // Each batch is its own turn of the event loop: the scanner may have several
        // ready, and writing them back to back would keep every request (the UI's
        // progress poll, its Stop) waiting until the whole folder is in.
        onBatch: async (files) => {
          writeBatch(files);
          await new Promise((resolve) => setImmediate(resolve));
        },
      });
      this.db.transaction(() => {
        stmt(
          this.db,
          `DELETE FROM library_files
           WHERE folder_id = ? AND seen_scan IS NOT ? AND object_path IS NULL`,
        ).run(id, mark);
        stmt(
          this.db,
          `UPDATE library_files SET missing_since = COALESCE(missing_since, ?)
           WHERE folder_id = ? AND seen_scan IS NOT ?`,
        ).run(mark, id, mark);
        stmt(this.db, 'UPDATE library_folders SET scanned_at = ? WHERE id = ?').run(mark, id);
      })();
      this.counts.delete(id);
    } finally {
      options.signal?.removeEventListener('abort', onAbort);
      this.scans.delete(id);
    }
    return { ...folder, scannedAt: mark };
  }

  /** Stops a scan in progress (the first scan of a new folder then adds nothing). */
  cancelScan(id: string): boolean {
    const scan = this.scans.get(id);
    scan?.abort.abort(
      new KeepsakeError('SCAN_CANCELLED', 'the scan was stopped; nothing new was added'),
    );
    return scan !== undefined;
  }

  /** Every folder, including one whose first scan is still running. */
  folders(): LibraryFolder[] {
    return (
      stmt(
        this.db,
        `SELECT ${FOLDER_COLUMNS} FROM library_folders ORDER BY added_at`,
      ).all() as FolderRow[]
    ).map(toFolder);
  }

  folder(id: string): LibraryFolder {
    const row = stmt(this.db, `SELECT ${FOLDER_COLUMNS} FROM library_folders WHERE id = ?`).get(
      id,
    ) as FolderRow | undefined;
    if (!row) throw new KeepsakeError('NOT_FOUND', `no library folder "${id}"`);
    return toFolder(row);
  }

  /** Counts by SQL, so a folder of a million files is not loaded to be summarised. */
  summary(folder: LibraryFolder): FolderSummary {
    const rows = this.countRows(folder);
    const kinds: FolderSummary['kinds'] = {};
    let files = 0;
    let bytes = 0;
    let encrypted = 0;
    let media = 0;
    let vaultOnly = 0;
    for (const row of rows) {
      kinds[row.kind] = { files: row.files, bytes: row.bytes };
      files += row.files;
      bytes += row.bytes;
      vaultOnly += row.vaultOnly;
      if (row.kind === 'other') continue;
      media += row.files;
      encrypted += row.encrypted;
    }
    return {
      ...folder,
      total: { files, bytes },
      kinds,
      encrypted,
      pending: media - encrypted,
      vaultOnly,
      scanning: this.scans.get(folder.id)?.progress,
      encrypting: this.encrypting.get(folder.id),
      lastError: this.lastErrors.get(folder.id),
    };
  }

  private countRows(folder: LibraryFolder): CountRow[] {
    const key = `${folder.source}|${folder.watching}`;
    const cached = this.counts.get(folder.id);
    const now = Date.now();
    if (cached?.key === key && now - cached.at < Math.min(cached.took * 5, 10_000)) {
      return cached.rows;
    }
    const rows = stmt(
      this.db,
      `SELECT kind, COUNT(*) AS files, COALESCE(SUM(size), 0) AS bytes,
         SUM(object_path IS NOT NULL AND (missing_since IS NOT NULL OR ? OR
             (object_size = size AND object_mtime = mtime_ms))) AS encrypted,
         SUM(object_path IS NOT NULL AND (missing_since IS NOT NULL OR ?)) AS vaultOnly
       FROM library_files WHERE folder_id = ? GROUP BY kind`,
    ).all(
      folder.source === 'upload' || !folder.watching ? 1 : 0,
      folder.source === 'upload' ? 1 : 0,
      folder.id,
    ) as CountRow[];
    this.counts.set(folder.id, { key, at: Date.now(), took: Date.now() - now, rows });
    return rows;
  }

  files(folderId: string): LibraryFile[] {
    const folder = this.folder(folderId);
    return this.fileRows(folderId).map((row) => toFile(row, folder, this.dataDir));
  }

  file(id: string): LibraryFile {
    const row = stmt(this.db, 'SELECT * FROM library_files WHERE id = ?').get(id) as
      FileRow | undefined;
    if (!row) throw new KeepsakeError('NOT_FOUND', `no library file "${id}"`);
    return toFile(row, this.folder(row.folder_id), this.dataDir);
  }

  /** How many of `fileIds` each folder holds (one query, however big the folders). */
  countByFolder(fileIds: Iterable<string>): Map<string, number> {
    const rows = stmt(
      this.db,
      `SELECT folder_id AS folderId, COUNT(*) AS n FROM library_files
       WHERE id IN (SELECT value FROM json_each(?)) GROUP BY folder_id`,
    ).all(JSON.stringify([...fileIds])) as { folderId: string; n: number }[];
    return new Map(rows.map((r) => [r.folderId, r.n]));
  }

  /** What "Remove" would touch, with sources checked now, for an honest confirmation. */
  async removalImpact(id: string): Promise<RemovalImpact> {
    const folder = this.folder(id);
    const impact: RemovalImpact = {
      encrypted: { files: 0, bytes: 0 },
      onlyCopies: { files: 0, bytes: 0 },
    };
    const rows = stmt(
      this.db,
      `SELECT rel, object_size FROM library_files
       WHERE folder_id = ? AND object_path IS NOT NULL`,
    ).all(id) as { rel: string; object_size: number }[];
    await runConcurrently(rows, 16, async (row) => {
      impact.encrypted.files += 1;
      impact.encrypted.bytes += row.object_size;
      const present =
        folder.source === 'disk' &&
        (await stat(join(folder.path, ...row.rel.split('/'))).then(
          (s) => s.isFile(),
          () => false,
        ));
      if (!present) {
        impact.onlyCopies.files += 1;
        impact.onlyCopies.bytes += row.object_size;
      }
    });
    return impact;
  }

  /**
   * Stops watching a folder. Its vault copies stay in the library unless
   * `deleteEncrypted` asks for them to go too; files that were never encrypted are simply
   * forgotten (their sources are untouched either way).
   */
  async remove(id: string, options: { deleteEncrypted?: boolean } = {}): Promise<void> {
    const folder = this.folder(id);
    if (this.encrypting.has(id) || this.scans.has(id)) {
      throw new KeepsakeError(
        'USAGE',
        'this folder is being scanned or protected; wait for it to finish',
      );
    }
    this.lastErrors.delete(id);
    this.counts.delete(id);
    if (!options.deleteEncrypted) {
      this.db.transaction(() => {
        stmt(this.db, 'DELETE FROM library_files WHERE folder_id = ? AND object_path IS NULL').run(
          id,
        );
        const kept = stmt(this.db, 'SELECT COUNT(*) FROM library_files WHERE folder_id = ?')
          .pluck()
          .get(id) as number;
        if (kept === 0) stmt(this.db, 'DELETE FROM library_folders WHERE id = ?').run(id);
        else stmt(this.db, 'UPDATE library_folders SET watching = 0 WHERE id = ?').run(id);
      })();
      return;
    }
    const objects = stmt(
      this.db,
      'SELECT object_path FROM library_files WHERE folder_id = ? AND object_path IS NOT NULL',
    )
      .pluck()
      .all(id)
      .map((stored) => objectPath(this.dataDir, stored as string));
    // The rows go first: a crash midway leaves unlisted ciphertext, never a listed item
    // whose copy is gone.
    stmt(this.db, 'DELETE FROM library_folders WHERE id = ?').run(id);
    await runConcurrently(objects, 8, (path) => rm(path, { force: true }));
    await rm(this.objectDir(id), { recursive: true, force: true });
    if (folder.source === 'upload') {
      await rm(this.uploadsPath, { recursive: true, force: true });
    }
  }

  /**
   * Encrypts the folder's pending media into the vault, a few files at once. Progress is
   * in `summary().encrypting` until it ends; one unreadable file does not stop the rest.
   */
  async encrypt(
    id: string,
    vault: Vault,
    options: { onFile?: () => void } = {},
  ): Promise<EncryptProgress> {
    if (this.encrypting.has(id)) return this.encrypting.get(id)!;
    const folder = this.folder(id);
    const pending = this.files(id).filter(
      (f) => f.kind !== 'other' && !f.encryptedPath && f.sourceExists,
    );
    const progress: EncryptProgress = { done: 0, total: pending.length, failed: 0 };
    this.encrypting.set(id, progress);
    this.lastErrors.delete(id);
    try {
      await mkdir(this.objectDir(id), { recursive: true, mode: 0o700 });
      await runConcurrently(pending, Math.min(4, availableParallelism()), async (file) => {
        const source = join(folder.path, ...file.rel.split('/'));
        const dest = join(this.objectDir(id), `${file.id}.ksv`);
        try {
          const info = await stat(source);
          await encryptFile(source, dest, vault, { overwrite: true });
          stmt(
            this.db,
            `UPDATE library_files SET object_path = ?, object_size = ?, object_mtime = ?
             WHERE id = ?`,
          ).run(relative(this.dataDir, dest), info.size, info.mtimeMs, file.id);
          progress.done += 1;
          options.onFile?.();
        } catch (err) {
          progress.failed += 1;
          const error = err instanceof KeepsakeError ? err : fromFsError(err, source, 'read');
          this.lastErrors.set(id, {
            code: error.code,
            message: `${file.rel}: ${error.message}`,
          });
        }
      });
      return { ...progress };
    } finally {
      this.encrypting.delete(id);
      this.counts.delete(id);
    }
  }

  /** The folder that holds browser uploads, made on first use. */
  uploadFolder(): LibraryFolder {
    const existing = this.folders().find((f) => f.source === 'upload');
    if (existing) return existing;
    return this.insertFolder(this.uploadsPath, 'upload');
  }

  /** A new watched folder; a disk folder counts as added once its first scan ends. */
  private insertFolder(path: string, source: FolderSource): LibraryFolder {
    const now = Date.now();
    const folder: LibraryFolder = {
      id: newId('f'),
      path,
      addedAt: now,
      scannedAt: source === 'upload' ? now : 0,
      source,
      watching: true,
    };
    stmt(
      this.db,
      `INSERT INTO library_folders (id, path, added_at, scanned_at, source, watching)
       VALUES (@id, @path, @addedAt, @scannedAt, @source, 1)`,
    ).run(folder);
    return folder;
  }

  /** The uploaded file at `rel`, if any. */
  uploaded(rel: string): LibraryFile | undefined {
    const folder = this.uploadFolder();
    const row = stmt(this.db, 'SELECT * FROM library_files WHERE folder_id = ? AND rel = ?').get(
      folder.id,
      rel,
    ) as FileRow | undefined;
    return row && toFile(row, folder, this.dataDir);
  }

  /** Where an upload's vault copy goes: a new id and its object path. */
  newUploadObject(): { fileId: string; path: string } {
    const fileId = newId('m');
    return { fileId, path: join(this.objectDir(this.uploadFolder().id), `${fileId}.ksv`) };
  }

  /** Lists a finished upload; its vault copy is already in place. */
  recordUpload(
    object: { fileId: string; path: string },
    file: { rel: string; size: number; mtimeMs: number },
  ): LibraryFile {
    const folder = this.uploadFolder();
    stmt(
      this.db,
      `INSERT INTO library_files (id, folder_id, rel, size, mtime_ms, kind,
         object_path, object_size, object_mtime)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`,
    ).run(
      object.fileId,
      folder.id,
      file.rel,
      file.size,
      file.mtimeMs,
      mediaKindOf(file.rel),
      relative(this.dataDir, object.path),
      file.size,
      file.mtimeMs,
    );
    this.counts.delete(folder.id);
    return this.file(object.fileId);
  }

  /** Folder ids with media still to protect: what "encrypt on add" resumes after unlock. */
  foldersWithPending(): string[] {
    return this.folders()
      .filter((f) => f.scannedAt > 0 && this.summary(f).pending > 0)
      .map((f) => f.id);
  }

  /**
   * Takes into `folder` the files of folders inside it (and of removed folders around it
   * whose files lie inside it), keeping their ids (jobs refer to them) and vault copies.
   * Returns the folders merged away entirely.
   */
  private adopt(folder: LibraryFolder, others: LibraryFolder[]): LibraryFolder[] {
    const merged: LibraryFolder[] = [];
    const findNew = stmt(
      this.db,
      'SELECT id, size, mtime_ms, seen_scan FROM library_files WHERE folder_id = ? AND rel = ?',
    );
    this.db.transaction(() => {
      for (const other of others) {
        if (other.id === folder.id) continue;
        let prefix: string;
        let strip = '';
        if (isInside(other.path, folder.path)) {
          prefix = relative(folder.path, other.path).split(sep).join('/') + '/';
        } else if (!other.watching && isInside(folder.path, other.path)) {
          prefix = '';
          strip = relative(other.path, folder.path).split(sep).join('/') + '/';
        } else {
          continue;
        }
        for (const row of this.fileRows(other.id)) {
          if (strip && !row.rel.startsWith(strip)) continue;
          const rel = prefix + row.rel.slice(strip.length);
          const found = findNew.get(folder.id, rel) as
            { id: string; size: number; mtime_ms: number; seen_scan: number | null } | undefined;
          if (found) stmt(this.db, 'DELETE FROM library_files WHERE id = ?').run(found.id);
          stmt(
            this.db,
            `UPDATE library_files SET folder_id = ?, rel = ?, size = ?, mtime_ms = ?,
               seen_scan = ?, missing_since = ? WHERE id = ?`,
          ).run(
            folder.id,
            rel,
            found?.size ?? row.size,
            found?.mtime_ms ?? row.mtime_ms,
            found?.seen_scan ?? null,
            found ? null : (row.missing_since ?? Date.now()),
            row.id,
          );
        }
        const left = stmt(this.db, 'SELECT COUNT(*) FROM library_files WHERE folder_id = ?')
          .pluck()
          .get(other.id) as number;
        if (left === 0) {
          stmt(this.db, 'DELETE FROM library_folders WHERE id = ?').run(other.id);
          merged.push(other);
        }
      }
    })();
    this.counts.clear();
    return merged;
  }

  private fileRows(folderId: string): FileRow[] {
    return stmt(this.db, 'SELECT * FROM library_files WHERE folder_id = ? ORDER BY rel').all(
      folderId,
    ) as FileRow[];
  }

  private objectDir(folderId: string): string {
    return join(this.dataDir, 'library', folderId);
  }
}

/** The name a family knows a folder by. */
export function folderName(folder: Pick<LibraryFolder, 'path' | 'source'>): string {
  return folder.source === 'upload' ? 'Uploaded files' : basename(folder.path) || folder.path;
}

function toFolder(row: FolderRow): LibraryFolder {
  return { ...row, watching: row.watching === 1 };
}

/**
 * A vault copy's stored path, made absolute. Stored relative to the data folder, so a
 * copied or restored data folder reads (and removes) its own copies, never those of the
 * folder it came from. Older versions stored `<data folder>/library/<folder>/<file>.ksv`
 * absolute: its last three parts are taken, in this data folder.
 */
export function objectPath(dataDir: string, stored: string): string {
  return isAbsolute(stored)
    ? join(dataDir, ...stored.split(/[\\/]/).slice(-3))
    : join(dataDir, stored);
}

function toFile(row: FileRow, folder: LibraryFolder, dataDir: string): LibraryFile {
  const sourceExists = folder.source === 'disk' && row.missing_since === null;
  const current =
    row.object_path !== null &&
    (!sourceExists ||
      !folder.watching ||
      (row.object_size === row.size && row.object_mtime === row.mtime_ms));
  return {
    id: row.id,
    folderId: row.folder_id,
    rel: row.rel,
    size: row.size,
    mtimeMs: row.mtime_ms,
    kind: row.kind,
    encryptedPath: current && row.object_path ? objectPath(dataDir, row.object_path) : undefined,
    sourceExists,
    missingSince: row.missing_since ?? undefined,
  };
}

export function isInside(path: string, dir: string): boolean {
  const rel = relative(dir, path);
  return rel === '' || (!rel.startsWith('..') && !isAbsolute(rel) && !rel.startsWith(sep));
}
