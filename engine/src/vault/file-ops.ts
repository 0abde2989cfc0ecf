// Whole-file encrypt and decrypt between plain files and vault files, shared by the CLI
// and batches. Sources are opened read-only; outputs appear atomically or not at all.

import { open, type FileHandle } from 'node:fs/promises';
import { basename } from 'node:path';
import { KeepsakeError, fromFsError } from '../core/errors';
import { checkReplaceable, openAtomic } from '../fs/atomic';
import { fileSinkParts } from './file-pump';
import { displayPath, type FsPath } from '../fs/paths';
import type { Vault } from './keyring';
import { mediaTypeFor } from './media-type';
import { VaultFile, writeVaultFile, type FileKeySource, type FileMeta } from './vault-file';

export interface FileOpOptions {
  overwrite?: boolean;
  /**
   * fsync before the rename (survives power loss, costs a full flush). Without it the
   * write is still atomic against a crashed or killed process.
   */
  durable?: boolean;
  onBytes?: (n: number) => void;
}

/** Metadata for a source file; names that are not valid UTF-8 keep their exact bytes. */
export function metaFor(path: FsPath, size: number, mtimeMs: number): FileMeta {
  // Buffer paths only occur on POSIX (see fs/paths.ts), where '/' is the only separator.
  const nameBytes =
    typeof path === 'string'
      ? Buffer.from(basename(path))
      : path.subarray(path.lastIndexOf('/') + 1);
  const name = nameBytes.toString('utf8');
  const meta: FileMeta = { name, size, mtimeMs, mediaType: mediaTypeFor(name) };
  if (!Buffer.from(name, 'utf8').equals(nameBytes)) meta.nameBytes = nameBytes.toString('base64');
  return meta;
}

export async function encryptFile(
  src: FsPath,
  dest: FsPath,
  vault: Vault,
  options: FileOpOptions = {},
): Promise<{ fileId: string; meta: FileMeta; storedSize: number }> {
  const file = displayPath(src);
  let handle: FileHandle;
  try {
    handle = await open(src, 'r');
  } catch (err) {
    throw fromFsError(err, file, 'read');
  }
  try {
    const info = await handle.stat();
    if (!info.isFile()) {
      throw new KeepsakeError('SOURCE_UNREADABLE', 'not a regular file', { file });
    }
    const meta = metaFor(src, info.size, info.mtimeMs);
    const written = await writeVaultFile({ handle, name: file }, dest, vault, meta, options);
    return { fileId: written.fileId, meta, storedSize: written.storedSize };
  } finally {
    await handle.close();
  }
}

/** Decrypts a vault file to `dest` with its original modification time. */
export async function decryptFile(
  src: FsPath,
  dest: FsPath,
  source: FileKeySource,
  options: FileOpOptions & { expectFileId?: string; mode?: number } = {},
): Promise<FileMeta> {
  const vf = await VaultFile.open(src, source);
  try {
    checkFileId(vf, options.expectFileId);
    await checkReplaceable(dest, options.overwrite ?? false);
    // Plaintext is private while it is being written (and if a kill leaves it behind);
    // it gets its final mode just before it is renamed into place.
    const out = await openAtomic(dest, { durable: options.durable ?? false, mode: 0o600 });
    try {
      await vf.decryptInto(fileSinkParts(out.handle, displayPath(dest)), options.onBytes);
      // Seconds as a number keep sub-millisecond precision that a Date would drop.
      await out.handle.utimes(Date.now() / 1000, vf.meta.mtimeMs / 1000);
      // Decrypted media is private unless the caller restores a recorded mode (a batch).
      await out.handle.chmod(options.mode ?? 0o600);
      await out.commit();
    } catch (err) {
      await out.abort();
      throw err instanceof KeepsakeError ? err : fromFsError(err, displayPath(dest), 'write');
    }
    return vf.meta;
  } finally {
    await vf.close();
  }
}

/** Decrypts every chunk and discards the plaintext: proves the file is intact. */
export async function verifyFile(
  src: FsPath,
  source: FileKeySource,
  options: { expectFileId?: string; onBytes?: (n: number) => void } = {},
): Promise<FileMeta> {
  const vf = await VaultFile.open(src, source);
  try {
    checkFileId(vf, options.expectFileId);
    await vf.decryptInto(async () => undefined, options.onBytes);
    return vf.meta;
  } finally {
    await vf.close();
  }
}

/** An object swapped for another (each decrypts fine on its own) is caught by its file id. */
function checkFileId(vf: VaultFile, expected: string | undefined): void {
  if (expected !== undefined && vf.fileId !== expected) {
    throw new KeepsakeError(
      'HEADER_CORRUPT',
      'this object holds a different file than the manifest says',
      {
        file: vf.path,
      },
    );
  }
}
