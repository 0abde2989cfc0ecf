// A copied data folder's library works on its own vault copies: it reads them, and a
// removal that deletes copies deletes its own, never those of the folder it came from.
// Real folders, a real SQLite file and a real vault.

import { cp, mkdir, readdir, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { databasePath, openDatabase, stmt } from '../jobs/db';
import { freshDir, TEST_SCRYPT } from '../testing/tmp';
import { decryptFile } from '../vault/file-ops';
import { createVault, type Vault } from '../vault/keyring';
import { Library } from './library';

async function snapshot(dir: string): Promise<Record<string, string>> {
  const out: Record<string, string> = {};
  for (const e of await readdir(dir, { recursive: true, withFileTypes: true })) {
    const path = join(e.parentPath, e.name);
    out[path] = e.isDirectory() ? 'dir' : `${(await stat(path)).size}`;
  }
  return out;
}

/** A data folder whose library protected two files; the engine is stopped. */
async function protectedLibrary() {
  const root = await freshDir();
  const dataDir = join(root, 'data');
  const media = join(root, 'media');
  await mkdir(media, { recursive: true });
  await writeFile(join(media, 'tape.mp4'), 'tape one');
  await writeFile(join(media, 'beach.jpg'), 'beach');
  const { vault } = await createVault(join(dataDir, 'vault'), 'pw', { scrypt: TEST_SCRYPT });
  const db = openDatabase(databasePath(dataDir));
  const library = new Library(db, dataDir);
  const { folder } = await library.addFolder(media);
  expect((await library.encrypt(folder.id, vault)).failed).toBe(0);
  db.close();
  return { root, dataDir, vault, folderId: folder.id };
}

/** Copies the data folder, reads and removes (copies too) in the copy; the original stays. */
async function checkCopy(root: string, dataDir: string, folderId: string, vault: Vault) {
  const copy = join(root, 'copy');
  await cp(dataDir, copy, { recursive: true });
  const before = await snapshot(dataDir);
  const db = openDatabase(databasePath(copy));
  const library = new Library(db, copy);
  const files = library.files(folderId);
  expect(files).toHaveLength(2);
  for (const f of files) {
    expect(f.encryptedPath?.startsWith(`${copy}/`), f.encryptedPath).toBe(true);
    await decryptFile(f.encryptedPath!, join(root, `out-${f.rel}`), { vault });
  }
  await library.remove(folderId, { deleteEncrypted: true });
  db.close();
  expect(await snapshot(dataDir)).toEqual(before);
}

describe('a copied data folder’s library', () => {
  it('reads its own copies and deletes only its own', async () => {
    const { root, dataDir, vault, folderId } = await protectedLibrary();
    await checkCopy(root, dataDir, folderId, vault);
  });

  it('also when older versions stored the copies’ paths absolute', async () => {
    const { root, dataDir, vault, folderId } = await protectedLibrary();
    const db = openDatabase(databasePath(dataDir));
    stmt(
      db,
      `UPDATE library_files SET object_path = ? || '/' || object_path
        WHERE object_path IS NOT NULL AND substr(object_path, 1, 1) <> '/'`,
    ).run(dataDir);
    const stored = stmt(db, 'SELECT object_path FROM library_files').pluck().all() as string[];
    expect(stored.every((p) => p.startsWith(`${dataDir}/library/`))).toBe(true);
    db.close();
    await checkCopy(root, dataDir, folderId, vault);
  });
});
