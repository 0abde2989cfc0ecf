// The desktop library: folders a family added, the media found in them, and which files
// are encrypted into the vault. Sources are only ever read. Each file's vault copy lives
// at `<data>/library/<folder id>/<file id>.ksv`, a name that reveals nothing; the
// database remembers the source's size and mtime at encryption, so an edited source
// shows as pending again instead of silently keeping a stale copy.

import { randomBytes } from 'node:crypto';
import { mkdir, realpath, rm, stat } from 'node:fs/promises';
import { isAbsolute, join, relative, resolve, sep } from 'node:path';
import { availableParallelism } from 'node:os';
import { runConcurrently } from '../batch/concurrency';
import { walkTree } from '../batch/walk';
import { KeepsakeError, fromFsError, type ErrorCode } from '../errors';
import { stmt, type Db } from '../jobs/db';
import { encryptFile } from '../vault/file-ops';
import type { Vault } from '../vault/keyring';
import { mediaKindOf, type MediaKind } from './media-kind';

export interface LibraryFolder {
  id: string;
  path: string;
  addedAt: number;
  scannedAt: number;
}

export interface LibraryFile {
  id: string;
  folderId: string;
  rel: string;
  size: number;
  mtimeMs: number;
  kind: MediaKind;
  /** The vault copy, when one matches the source as it is now. */
  encryptedPath: string | undefined;
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
  encrypting?: EncryptProgress;
  lastError?: { code: ErrorCode; message: string };
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
}

const ALPHABET = 'abcdefghijklmnopqrstuvwxyz234567';
const newId = (prefix: string) =>
  prefix + [...randomBytes(12)].map((b) => ALPHABET[b & 31]).join('');

/** Uploaded files (a plain browser cannot name paths) live in this engine folder. */
export const UPLOADS_DIR = 'uploads';

export class Library {
  private readonly encrypting = new Map<string, EncryptProgress>();
  private readonly lastErrors = new Map<string, { code: ErrorCode; message: string }>();

  constructor(
    private readonly db: Db,
    private readonly dataDir: string,
  ) {}

  get uploadsPath(): string {
    return join(this.dataDir, UPLOADS_DIR);
  }

  /** Adds a folder (or returns it if already added) and scans it. */
  async addFolder(path: string): Promise<LibraryFolder> {
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
    if (isInside(real, data) && real !== join(data, UPLOADS_DIR)) {
      throw new KeepsakeError('USAGE', "that folder is Keepsake's own data folder", {
        file: path,
      });
    }
    let folder = this.folderByPath(real);
    if (!folder) {
      folder = { id: newId('f'), path: real, addedAt: Date.now(), scannedAt: 0 };
      stmt(
        this.db,
        `INSERT INTO library_folders (id, path, added_at, scanned_at)
         VALUES (@id, @path, @addedAt, @scannedAt)`,
      ).run(folder);
    }
    return this.rescan(folder.id);
  }

  /** Re-reads a folder: new files appear, vanished ones go, changed ones turn pending. */
  async rescan(id: string): Promise<LibraryFolder> {
    const folder = this.folder(id);
    const walked = await walkTree(folder.path);
    const known = new Map(this.fileRows(id).map((row) => [row.rel, row]));
    const seen = new Set<string>();
    const now = Date.now();
    this.db.transaction(() => {
      for (const file of walked.files) {
        const rel = file.rel.toString('utf8');
        // A name that is not valid UTF-8 cannot round-trip through the API; skip it
        // rather than show a name that opens nothing.
        if (!Buffer.from(rel, 'utf8').equals(file.rel) || rel.startsWith('.')) continue;
        if (rel.split('/').some((part) => part.startsWith('.'))) continue;
        seen.add(rel);
        const row = known.get(rel);
        if (row) {
          stmt(this.db, 'UPDATE library_files SET size = ?, mtime_ms = ? WHERE id = ?').run(
            file.size,
            file.mtimeMs,
            row.id,
          );
        } else {
          stmt(
            this.db,
            `INSERT INTO library_files (id, folder_id, rel, size, mtime_ms, kind)
             VALUES (?, ?, ?, ?, ?, ?)`,
          ).run(newId('m'), id, rel, file.size, file.mtimeMs, mediaKindOf(rel));
        }
      }
      for (const [rel, row] of known) {
        if (!seen.has(rel)) stmt(this.db, 'DELETE FROM library_files WHERE id = ?').run(row.id);
      }
      stmt(this.db, 'UPDATE library_folders SET scanned_at = ? WHERE id = ?').run(now, id);
    })();
    return { ...folder, scannedAt: now };
  }

  folders(): LibraryFolder[] {
    return (
      stmt(
        this.db,
        `SELECT id, path, added_at AS addedAt, scanned_at AS scannedAt
         FROM library_folders ORDER BY added_at`,
      ).all() as LibraryFolder[]
    ).map((f) => ({ ...f }));
  }

  folder(id: string): LibraryFolder {
    const folder = stmt(
      this.db,
      `SELECT id, path, added_at AS addedAt, scanned_at AS scannedAt
       FROM library_folders WHERE id = ?`,
    ).get(id) as LibraryFolder | undefined;
    if (!folder) throw new KeepsakeError('NOT_FOUND', `no library folder "${id}"`);
    return folder;
  }

  /** `files`: the folder's files when the caller has them already. */
  summary(folder: LibraryFolder, files = this.files(folder.id)): FolderSummary {
    const kinds: FolderSummary['kinds'] = {};
    let bytes = 0;
    for (const file of files) {
      bytes += file.size;
      const k = (kinds[file.kind] ??= { files: 0, bytes: 0 });
      k.files += 1;
      k.bytes += file.size;
    }
    const media = files.filter((f) => f.kind !== 'other');
    const encrypted = media.filter((f) => f.encryptedPath).length;
    return {
      ...folder,
      total: { files: files.length, bytes },
      kinds,
      encrypted,
      pending: media.length - encrypted,
      encrypting: this.encrypting.get(folder.id),
      lastError: this.lastErrors.get(folder.id),
    };
  }

  files(folderId: string): LibraryFile[] {
    return this.fileRows(folderId).map(toFile);
  }

  file(id: string): LibraryFile {
    const row = stmt(this.db, 'SELECT * FROM library_files WHERE id = ?').get(id) as
      FileRow | undefined;
    if (!row) throw new KeepsakeError('NOT_FOUND', `no library file "${id}"`);
    return toFile(row);
  }

  /** Forgets a folder and deletes its vault copies (and, for uploads, the copies made). */
  async remove(id: string): Promise<void> {
    const folder = this.folder(id);
    if (this.encrypting.has(id)) {
      throw new KeepsakeError('USAGE', 'this folder is being encrypted; wait for it to finish');
    }
    stmt(this.db, 'DELETE FROM library_folders WHERE id = ?').run(id);
    this.lastErrors.delete(id);
    await rm(this.objectDir(id), { recursive: true, force: true });
    if (folder.path === this.uploadsPath) {
      await rm(this.uploadsPath, { recursive: true, force: true });
    }
  }

  /**
   * Encrypts the folder's pending media into the vault, a few files at once. Progress is
   * in `summary().encrypting` until it ends; one unreadable file does not stop the rest.
   */
  async encrypt(id: string, vault: Vault): Promise<EncryptProgress> {
    if (this.encrypting.has(id)) return this.encrypting.get(id)!;
    const pending = this.files(id).filter((f) => f.kind !== 'other' && !f.encryptedPath);
    const progress: EncryptProgress = { done: 0, total: pending.length, failed: 0 };
    this.encrypting.set(id, progress);
    this.lastErrors.delete(id);
    try {
      const folder = this.folder(id);
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
          ).run(dest, info.size, info.mtimeMs, file.id);
          progress.done += 1;
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
    }
  }

  private folderByPath(path: string): LibraryFolder | undefined {
    return stmt(
      this.db,
      `SELECT id, path, added_at AS addedAt, scanned_at AS scannedAt
       FROM library_folders WHERE path = ?`,
    ).get(path) as LibraryFolder | undefined;
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

function toFile(row: FileRow): LibraryFile {
  const current =
    row.object_path !== null && row.object_size === row.size && row.object_mtime === row.mtime_ms;
  return {
    id: row.id,
    folderId: row.folder_id,
    rel: row.rel,
    size: row.size,
    mtimeMs: row.mtime_ms,
    kind: row.kind,
    encryptedPath: current ? (row.object_path ?? undefined) : undefined,
  };
}

function isInside(path: string, dir: string): boolean {
  const rel = relative(dir, path);
  return rel === '' || (!rel.startsWith('..') && !isAbsolute(rel) && !rel.startsWith(sep));
}
