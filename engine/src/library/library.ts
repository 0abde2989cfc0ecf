// The desktop library: folders a family added, the media found in them, and their vault
// copies. The library is an archive: it keeps what it was given until the user deletes it
// on purpose. Sources are only ever read; a source that disappears leaves its item in the
// library ("in the vault only"), and a folder the user stops watching keeps its vault
// copies unless the user also asks for those to go.
//
// Each vault copy lives at `<data>/library/<folder id>/<file id>.ksv`, a name that
// reveals nothing; the database remembers the source's size and mtime at encryption, so
// an edited source shows as pending again, and is then protected as a new item while the
// copy already held stays as its earlier version (library-versions.ts): never overwritten.
// Uploads (a browser cannot name paths) have no source on disk at all: they are encrypted
// as they stream in (see http/uploads.ts).
//
// This module holds the operations (add, scan, encrypt, remove, uploads) and what is in
// progress; the reads, one SQL query each, are library-queries.ts, and the other parts
// are the library-*.ts beside it, each named for what it holds.

import { mkdir, realpath, rm, stat } from 'node:fs/promises';
import { isAbsolute, join, relative, resolve } from 'node:path';
import { availableParallelism } from 'node:os';
import { runConcurrently } from '../core/concurrency';
import { KeepsakeError, fromFsError, type ErrorCode } from '../core/errors';
import { newLibraryId as newId } from '../core/ids';
import { stmt, type Db } from '../jobs/db';
import { removeStaleTemps } from '../fs/stale-temps';
import { encryptFile } from '../vault/file-ops';
import type { Vault } from '../vault/keyring';
import { mediaKindOf } from '../vault/media-kind';
import { CountCache } from './library-counts';
import { adoptFolders } from './library-merge';
import { deleteFolder, removalImpact, unwatchFolder } from './library-removal';
import {
  allFolders,
  countByFolder,
  diskFolders,
  fileRowAt,
  fileRowById,
  fileRows,
  filesToEncrypt,
  folderById,
  foldersWithPending,
  unfinishedFolderAt,
  uploadsFolder,
} from './library-queries';
import { folderName, isInside, objectPath, toFile } from './library-rows';
import { scanIntoLibrary } from './library-scan';
import { leftOutOf, type LeftOut } from './library-left-out';
import { keepEarlierVersion, sameAsCopy } from './library-versions';
import type {
  AddResult,
  EncryptProgress,
  FolderSource,
  FolderSummary,
  LibraryFile,
  LibraryFolder,
  RemovalImpact,
  Scanner,
} from './library-types';
import { scanFolder, type ScanProgress } from './scan';

// Callers import the library's types and helpers from here.
export type * from './library-types';
export { folderName, objectPath } from './library-rows';
export type { ScanProgress } from './scan';

/** The engine folder of the uploads folder (older versions kept plain copies there). */
export const UPLOADS_DIR = 'uploads';

export class Library {
  private readonly encrypting = new Map<string, EncryptProgress>();
  private readonly scans = new Map<string, { progress: ScanProgress; abort: AbortController }>();
  private readonly lastErrors = new Map<string, { code: ErrorCode; message: string }>();
  private readonly lastLeftOut = new Map<string, LeftOut>();
  private readonly counts: CountCache;

  constructor(
    private readonly db: Db,
    private readonly dataDir: string,
    private readonly scan: Scanner = scanFolder,
  ) {
    this.counts = new CountCache(db);
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
    const ghost = unfinishedFolderAt(this.db, real);
    if (ghost && !this.scans.has(ghost.id)) {
      stmt(this.db, 'DELETE FROM library_folders WHERE id = ?').run(ghost.id);
    }
    // A folder whose first scan never finished (elsewhere, or a run killed mid-scan) was
    // never added: it is nobody's parent, and nothing is adopted from it.
    const disk = diskFolders(this.db).filter((f) => f.scannedAt > 0);
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
      // Whatever is new in it is wanted now: the folder it is part of is looked through again.
      return {
        folder: await this.rescan(parent.id, options),
        notice: `That folder is already in your library, as part of “${folderName(parent)}”; looked through “${folderName(parent)}” again.`,
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
    let mark: number;
    try {
      const scanned = await scanIntoLibrary(this.db, folder, this.scan, {
        dataDir: this.dataDir,
        signal: abort.signal,
        onProgress: (p) => (scan.progress = { ...p }),
      });
      mark = scanned.mark;
      this.lastLeftOut.set(id, leftOutOf(scanned.summary));
      this.counts.forget(id);
    } finally {
      options.signal?.removeEventListener('abort', onAbort);
      this.scans.delete(id);
    }
    return { ...folder, scannedAt: mark };
  }

  /** Whether a scan runs in this process. */
  get scanning(): boolean {
    return this.scans.size > 0;
  }

  /** What the last scan of a folder in this process left out (links, hidden files…). */
  leftOut(id: string): LeftOut | undefined {
    return this.lastLeftOut.get(id);
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
    return allFolders(this.db);
  }

  folder(id: string): LibraryFolder {
    return folderById(this.db, id);
  }

  /** Counts by SQL (library-counts.ts), so a big folder is not loaded to be summarised. */
  summary(folder: LibraryFolder): FolderSummary {
    return {
      ...folder,
      ...this.counts.of(folder),
      scanning: this.scans.get(folder.id)?.progress,
      encrypting: this.encrypting.get(folder.id),
      lastError: this.lastErrors.get(folder.id),
    };
  }

  files(folderId: string): LibraryFile[] {
    const folder = this.folder(folderId);
    return fileRows(this.db, folderId).map((row) => toFile(row, folder, this.dataDir));
  }

  file(id: string): LibraryFile {
    const row = fileRowById(this.db, id);
    if (!row) throw new KeepsakeError('NOT_FOUND', `no library file "${id}"`);
    return toFile(row, this.folder(row.folder_id), this.dataDir);
  }

  /** How many of `fileIds` each folder holds (one query, however big the folders). */
  countByFolder(fileIds: Iterable<string>): Map<string, number> {
    return countByFolder(this.db, fileIds);
  }

  /** What "Remove" would touch, with sources checked now, for an honest confirmation. */
  async removalImpact(id: string): Promise<RemovalImpact> {
    return removalImpact(this.db, this.folder(id));
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
    this.counts.forget(id);
    if (!options.deleteEncrypted) return unwatchFolder(this.db, id);
    await deleteFolder(this.db, this.dataDir, id, this.objectDir(id));
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
    // Asked of SQLite: a folder of a million files, nearly all encrypted, is not loaded.
    const pending = filesToEncrypt(this.db, folder);
    const progress: EncryptProgress = { done: 0, total: pending.length, failed: 0 };
    this.encrypting.set(id, progress);
    this.lastErrors.delete(id);
    try {
      await mkdir(this.objectDir(id), { recursive: true, mode: 0o700 });
      // Partial copies a run killed midway left (ciphertext, under a temporary name).
      await removeStaleTemps(this.objectDir(id));
      await runConcurrently(pending, Math.min(4, availableParallelism()), async (file) => {
        const source = join(folder.path, ...file.rel.split('/'));
        try {
          const info = await stat(source);
          if (file.object_path === null) {
            const dest = join(this.objectDir(id), `${file.id}.ksv`);
            // A copy left by a run killed before it was recorded is of this same source.
            await encryptFile(source, dest, vault, { overwrite: true });
            stmt(
              this.db,
              `UPDATE library_files SET object_path = ?, object_size = ?, object_mtime = ?
               WHERE id = ?`,
            ).run(relative(this.dataDir, dest), info.size, info.mtimeMs, file.id);
          } else if (
            // A copy that cannot be read (damaged, gone) is kept as it is too.
            await sameAsCopy(source, objectPath(this.dataDir, file.object_path), vault).catch(
              () => false,
            )
          ) {
            // Only its date moved: the copy already holds these bytes.
            stmt(
              this.db,
              'UPDATE library_files SET object_size = ?, object_mtime = ? WHERE id = ?',
            ).run(info.size, info.mtimeMs, file.id);
          } else {
            // Changed: protected anew, and the copy already held kept (library-versions.ts).
            const fresh = newId('m');
            const dest = join(this.objectDir(id), `${fresh}.ksv`);
            await encryptFile(source, dest, vault, { overwrite: false });
            keepEarlierVersion(this.db, file, {
              id: fresh,
              objectPath: relative(this.dataDir, dest),
              size: info.size,
              mtimeMs: info.mtimeMs,
            });
          }
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
      this.counts.forget(id);
    }
  }

  /** The folder that holds browser uploads, made on first use. */
  uploadFolder(): LibraryFolder {
    const existing = uploadsFolder(this.db);
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
    const row = fileRowAt(this.db, folder.id, rel);
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
    this.counts.forget(folder.id);
    return this.file(object.fileId);
  }

  /** Folder ids with media still to protect: what "encrypt on add" resumes after unlock. */
  foldersWithPending(): string[] {
    return foldersWithPending(this.db);
  }

  private adopt(folder: LibraryFolder, others: LibraryFolder[]): LibraryFolder[] {
    const merged = adoptFolders(this.db, folder, others);
    this.counts.clear();
    return merged;
  }

  private objectDir(folderId: string): string {
    return join(this.dataDir, 'library', folderId);
  }
}
