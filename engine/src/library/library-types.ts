// What the library (library.ts) hands out: its folders, files, summaries and answers.

import type { ErrorCode } from '../core/errors';
import type { MediaKind } from '../vault/media-kind';
import type { ScanOptions, ScanProgress, ScanSummary } from './scan';

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
  /**
   * The vault copy held, current or not: after the source changed, until the change is
   * protected, the copy of the file as it was. What "Save a copy" saves when
   * `encryptedPath` is not set (the family's file must never be out of reach).
   */
  heldCopyPath: string | undefined;
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

/** The folder walk (scan.ts); tests pass a controllable one. */
export type Scanner = (
  root: string,
  opts: Pick<ScanOptions, 'signal' | 'onProgress' | 'onBatch' | 'excludeFolders'>,
) => Promise<ScanSummary | void>;
