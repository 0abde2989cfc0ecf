// Whole-file encrypt and decrypt between plain files and vault files, shared by the CLI
// and batches. Sources are opened read-only; outputs appear atomically or not at all.

import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import { basename } from 'node:path';
import { Transform, Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { KeepsakeError, fromFsError } from '../errors';
import { checkReplaceable, openAtomic } from '../fs/atomic';
import { fileSink } from '../fs/sink';
import { displayPath, toBuffer, type FsPath } from '../fs/paths';
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
  const nameBytes = toBuffer(path).subarray(toBuffer(path).lastIndexOf('/') + 1);
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
): Promise<{ fileId: string; meta: FileMeta }> {
  const file = displayPath(src);
  let info;
  try {
    info = await stat(src);
  } catch (err) {
    throw fromFsError(err, file, 'read');
  }
  if (!info.isFile()) {
    throw new KeepsakeError('SOURCE_UNREADABLE', 'not a regular file', { file });
  }
  const meta = metaFor(src, info.size, info.mtimeMs);
  const input = createReadStream(src, { highWaterMark: 1 << 20 });
  // Surface open/read errors (EACCES, EIO) as errors about the source, not the output.
  const readError = new Promise<never>((_, reject) =>
    input.once('error', (err) => reject(fromFsError(err, file, 'read'))),
  );
  readError.catch(() => undefined);
  const written = await Promise.race([
    writeVaultFile(input, dest, vault, meta, options),
    readError,
  ]);
  if (written.size !== info.size) {
    throw new KeepsakeError('SOURCE_UNREADABLE', 'the file changed size while it was being read', {
      file,
    });
  }
  return { fileId: written.fileId, meta };
}

/** Decrypts a vault file to `dest` with its original modification time. */
export async function decryptFile(
  src: FsPath,
  dest: FsPath,
  source: FileKeySource,
  options: FileOpOptions & { expectFileId?: string } = {},
): Promise<FileMeta> {
  const vf = await VaultFile.open(src, source);
  try {
    checkFileId(vf, options.expectFileId);
    await checkReplaceable(dest, options.overwrite ?? false);
    const out = await openAtomic(dest, { durable: options.durable ?? false, mode: 0o644 });
    try {
      let counted = 0;
      const count = new Transform({
        transform(chunk: Buffer, _enc, done) {
          counted += chunk.length;
          options.onBytes?.(chunk.length);
          done(null, chunk);
        },
      });
      await pipeline(vf.decryptStream(), count, fileSink(out.handle));
      if (counted !== vf.size)
        throw new KeepsakeError('TRUNCATED', 'decrypted size differs', { file: vf.path });
      // Seconds as a number keep sub-millisecond precision that a Date would drop.
      await out.handle.utimes(Date.now() / 1000, vf.meta.mtimeMs / 1000);
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
  options: { expectFileId?: string } = {},
): Promise<FileMeta> {
  const vf = await VaultFile.open(src, source);
  try {
    checkFileId(vf, options.expectFileId);
    let counted = 0;
    await pipeline(
      vf.decryptStream(),
      new Writable({
        highWaterMark: 1 << 20,
        write(chunk: Buffer, _enc, done) {
          counted += chunk.length;
          done();
        },
      }),
    );
    if (counted !== vf.meta.size) {
      throw new KeepsakeError(
        'PAYLOAD_CORRUPT',
        `holds ${counted} bytes, its header says ${vf.meta.size}`,
        {
          file: vf.path,
        },
      );
    }
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

export const defaultVaultName = (src: string) => `${basename(src)}.ksv`;
