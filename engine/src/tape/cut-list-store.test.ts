// Cut lists on a real SQLite file with a real vault: every version kept, sealed (the
// database never holds a title in the clear), bound to its tape and version, and never
// overwritten by an editor that started from an older version.

import { readFile, mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { databasePath, openDatabase } from '../jobs/db';
import { Library } from '../library/library';
import { freshDir, TEST_SCRYPT } from '../testing/tmp';
import { createVault } from '../vault/keyring';
import { fromCuts, label, merge } from './cut-list';
import { CutListStore } from './cut-list-store';

async function twoTapes() {
  const dir = await freshDir();
  const media = join(dir, 'tapes');
  await mkdir(media);
  await writeFile(join(media, 'tape 1.mov'), Buffer.alloc(1000, 1));
  await writeFile(join(media, 'tape 2.mov'), Buffer.alloc(1000, 2));
  const dataDir = join(dir, 'data');
  const { vault } = await createVault(join(dataDir, 'vault'), 'pw', {
    scrypt: TEST_SCRYPT,
    recovery: false,
  });
  const db = openDatabase(databasePath(dataDir));
  const library = new Library(db, dataDir);
  const { folder } = await library.addFolder(media);
  const [a, b] = library.files(folder.id).map((f) => f.id);
  return { db, vault, dataDir, library, a: a!, b: b! };
}

const MARKER = 'Grandma-Birthday-7f3c';

describe('CutListStore', () => {
  it('keeps every version, sealed, and opens any of them', async () => {
    const { db, vault, dataDir, a } = await twoTapes();
    const store = new CutListStore(db);
    expect(store.get(vault, a)).toBeUndefined();
    const first = label(fromCuts(600, [120, 300], 25), 1, { title: MARKER, date: '1990-05-01' });
    expect(store.save(vault, a, first, 0).version).toBe(1);
    const second = merge(first, 0);
    expect(store.save(vault, a, second, 1).version).toBe(2);

    expect(store.get(vault, a)?.list.clips).toHaveLength(2);
    expect(store.get(vault, a, 1)?.list).toEqual(first);
    expect(store.versions(a).map((v) => v.version)).toEqual([2, 1]);

    db.pragma('wal_checkpoint(TRUNCATE)');
    const file = await readFile(databasePath(dataDir));
    expect(file.includes(MARKER)).toBe(false);
    expect(file.includes('1990-05-01')).toBe(false);
  });

  it('refuses to overwrite a version saved elsewhere in the meantime', async () => {
    const { db, vault, a } = await twoTapes();
    const store = new CutListStore(db);
    const list = fromCuts(600, [120], 25);
    store.save(vault, a, list, 0);
    // A second window, still on "no cut list yet", saves too.
    expect(() => store.save(vault, a, list, 0)).toThrow(
      expect.objectContaining({ code: 'CUT_LIST_CHANGED' }),
    );
    expect(store.versions(a)).toHaveLength(1);
  });

  it('refuses an invalid list and an unknown tape, saving nothing', async () => {
    const { db, vault, a } = await twoTapes();
    const store = new CutListStore(db);
    const bad = { duration: 600, clips: [{ start: 0, end: 700 }] };
    expect(() => store.save(vault, a, bad, 0)).toThrow(
      expect.objectContaining({ code: 'CUT_LIST_INVALID' }),
    );
    expect(() => store.save(vault, 'no-such-file', fromCuts(600, []), 0)).toThrow(
      expect.objectContaining({ code: 'NOT_FOUND' }),
    );
    expect(store.versions(a)).toEqual([]);
  });

  it('binds each version to its tape: a row copied onto another tape does not open', async () => {
    const { db, vault, a, b } = await twoTapes();
    const store = new CutListStore(db);
    store.save(vault, a, fromCuts(600, [120], 25), 0);
    db.prepare(
      `INSERT INTO tape_cut_lists (file_id, version, sealed, saved_at)
       SELECT ?, version, sealed, saved_at FROM tape_cut_lists WHERE file_id = ?`,
    ).run(b, a);
    expect(store.versions(b)).toHaveLength(1);
    expect(store.get(vault, b)).toBeUndefined();
  });

  it('goes with its tape when the tape is deleted from the library', async () => {
    const { db, vault, a } = await twoTapes();
    const store = new CutListStore(db);
    store.save(vault, a, fromCuts(600, [120], 25), 0);
    db.prepare('DELETE FROM library_files WHERE id = ?').run(a);
    expect(store.versions(a)).toEqual([]);
  });
});
