// What the library does when a protected file's source changes. The vault is an archive:
// the copy it holds is never overwritten. A source whose bytes are still those of the
// copy (only its date moved: a copy, a sync tool) just has its date taken. A source that
// really changed (edited, replaced by a new photo under a reused camera name, damaged)
// is protected as a new item, and the old copy stays as an item of its own, "photo
// (earlier version).jpg", in the vault only, keeping its id and with it everything made
// from it (jobs, pictures, title and date, clips).

import { open } from 'node:fs/promises';
import { extname } from 'node:path';
import { stmt, type Db } from '../jobs/db';
import type { Vault } from '../vault/keyring';
import { VaultFile } from '../vault/vault-file';
import type { FileRow } from './library-rows';

/** Whether the source's bytes are exactly the plaintext of the vault copy at `object`. */
export async function sameAsCopy(source: string, object: string, vault: Vault): Promise<boolean> {
  const copy = await VaultFile.open(object, { vault });
  const handle = await open(source, 'r');
  try {
    if ((await handle.stat()).size !== copy.size) return false;
    let offset = 0;
    for await (const chunk of copy.rangeStream()) {
      const plain = chunk as Buffer;
      const read = Buffer.allocUnsafe(plain.length);
      const { bytesRead } = await handle.read(read, 0, read.length, offset);
      if (bytesRead !== plain.length || !read.equals(plain)) return false;
      offset += plain.length;
    }
    return offset === copy.size;
  } finally {
    await handle.close();
    await copy.close();
  }
}

/** `dir/photo (earlier version).jpg`, or `… (earlier version 2).jpg` if that is taken. */
export function earlierVersionRel(db: Db, folderId: string, rel: string): string {
  const ext = extname(rel);
  const stem = ext ? rel.slice(0, -ext.length) : rel;
  const taken = stmt(db, 'SELECT 1 FROM library_files WHERE folder_id = ? AND rel = ?');
  for (let n = 1; ; n++) {
    const candidate = `${stem} (earlier version${n === 1 ? '' : ` ${n}`})${ext}`;
    if (!taken.get(folderId, candidate)) return candidate;
  }
}

/**
 * After the changed source of `row` was protected as `fresh` (a new id, its own copy):
 * the row becomes the earlier version, with the size and date of what its copy holds,
 * and `fresh` takes the source's name. One transaction: nothing is listed twice or lost.
 */
export function keepEarlierVersion(
  db: Db,
  row: FileRow,
  fresh: { id: string; objectPath: string; size: number; mtimeMs: number },
): void {
  db.transaction(() => {
    const earlier = earlierVersionRel(db, row.folder_id, row.rel);
    stmt(
      db,
      `UPDATE library_files SET rel = ?, size = object_size, mtime_ms = object_mtime,
         missing_since = ? WHERE id = ?`,
    ).run(earlier, Date.now(), row.id);
    stmt(
      db,
      `INSERT INTO library_files (id, folder_id, rel, size, mtime_ms, kind, seen_scan,
         object_path, object_size, object_mtime)
       SELECT ?, folder_id, ?, ?, ?, kind, seen_scan, ?, ?, ? FROM library_files WHERE id = ?`,
    ).run(
      fresh.id,
      row.rel,
      fresh.size,
      fresh.mtimeMs,
      fresh.objectPath,
      fresh.size,
      fresh.mtimeMs,
      row.id,
    );
  })();
}
