// Browser uploads, encrypted as they stream in: the bytes go from the request straight
// through the vault's encryptor into a temporary vault file that is renamed into place
// once complete. No plaintext copy of an upload ever exists on disk, and an upload cut
// short leaves nothing (the temporary file is removed, or is ciphertext after a kill).

import { mkdir } from 'node:fs/promises';
import { dirname, extname } from 'node:path';
import type { Readable } from 'node:stream';
import { KeepsakeError } from '../core/errors';
import type { Vault } from '../vault/keyring';
import { mediaTypeFor } from '../vault/media-type';
import { writeVaultFile } from '../vault/vault-file';
import type { Library, LibraryFile } from './library';

export interface UploadInfo {
  /** Path inside the upload, `/`-separated, already checked to be safe. */
  rel: string;
  /** The exact byte count the client announced (Content-Length). */
  size: number;
  /** The file's own modification time, as the browser reports it. */
  mtimeMs: number;
}

/** Attempts at a free name before giving up. */
const MAX_SUFFIX = 100;

export async function receiveUpload(
  library: Library,
  vault: Vault,
  body: Readable,
  info: UploadInfo,
): Promise<{ file: LibraryFile; alreadyThere: boolean }> {
  const same = library.uploaded(info.rel);
  if (same && same.size === info.size && same.mtimeMs === info.mtimeMs) {
    // The same file dropped again: keep the one copy.
    body.resume();
    return { file: same, alreadyThere: true };
  }
  const rel = freeRel(library, info.rel);
  const object = library.newUploadObject();
  await mkdir(dirname(object.path), { recursive: true, mode: 0o700 });
  const name = rel.slice(rel.lastIndexOf('/') + 1);
  await writeVaultFile(body, object.path, vault, {
    name,
    size: info.size,
    mtimeMs: info.mtimeMs,
    mediaType: mediaTypeFor(name),
  }).catch((err: unknown) => {
    // writeVaultFile says the source changed size; for an upload that means it was cut.
    const cut = body.errored !== null || body.readableAborted;
    if (cut || (err instanceof KeepsakeError && err.code === 'SOURCE_UNREADABLE')) {
      throw new KeepsakeError(
        'UPLOAD_INCOMPLETE',
        `${rel} arrived incomplete; nothing was kept. Add it again.`,
      );
    }
    throw err;
  });
  return { file: library.recordUpload(object, { ...info, rel }), alreadyThere: false };
}

/** `Holiday/clip.mp4`, or `Holiday/clip 2.mp4` when a different file has that name. */
function freeRel(library: Library, rel: string): string {
  const ext = extname(rel);
  const stem = rel.slice(0, rel.length - ext.length);
  for (let n = 1; n <= MAX_SUFFIX; n++) {
    const candidate = n === 1 ? rel : `${stem} ${n}${ext}`;
    if (!library.uploaded(candidate)) return candidate;
  }
  throw new KeepsakeError('OUTPUT_EXISTS', `${rel} and ${MAX_SUFFIX - 1} numbered copies exist`);
}
