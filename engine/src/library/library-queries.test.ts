// The library's reads as SQL, on a real SQLite file: each gives what the JavaScript rules
// it replaced give (toFile's "encrypted", the summary's "pending") for rows in every
// state a file can be in.

import { describe, expect, it } from 'vitest';
import { databasePath, openDatabase, type Db } from '../jobs/db';
import { freshDir } from '../testing/tmp';
import { Library } from './library';
import { fileRows, filesToEncrypt, foldersWithPending } from './library-queries';

function folder(
  db: Db,
  id: string,
  values: { source?: string; watching?: 0 | 1; scanned?: number },
) {
  db.prepare(
    `INSERT INTO library_folders (id, path, added_at, scanned_at, source, watching)
     VALUES (?, ?, ?, ?, ?, ?)`,
  ).run(
    id,
    `/media/${id}`,
    Number(id.slice(1)),
    values.scanned ?? 1,
    values.source ?? 'disk',
    values.watching ?? 1,
  );
}

interface FileState {
  kind?: string;
  /** The vault copy: none, the source as it is now, or an older source. */
  copy?: 'none' | 'current' | 'stale';
  missing?: boolean;
}

function file(db: Db, folderId: string, id: string, rel: string, state: FileState = {}) {
  const copy = state.copy ?? 'none';
  db.prepare(
    `INSERT INTO library_files (id, folder_id, rel, size, mtime_ms, kind,
       object_path, object_size, object_mtime, missing_since)
     VALUES (?, ?, ?, 100, 5.5, ?, ?, ?, ?, ?)`,
  ).run(
    id,
    folderId,
    rel,
    state.kind ?? 'video',
    copy === 'none' ? null : `library/${folderId}/${id}.ksv`,
    copy === 'none' ? null : copy === 'current' ? 100 : 90,
    copy === 'none' ? null : 5.5,
    state.missing ? 7 : null,
  );
}

async function library() {
  const dataDir = await freshDir();
  const db = openDatabase(databasePath(dataDir));
  return { db, library: new Library(db, dataDir) };
}

describe('library queries', () => {
  it('files to encrypt and folders with pending media agree with the rules they replace', async () => {
    const { db, library: lib } = await library();
    // A watched disk folder holding every state.
    folder(db, 'f1', {});
    file(db, 'f1', 'a', 'new.mp4');
    file(db, 'f1', 'b', 'done.jpg', { kind: 'photo', copy: 'current' });
    file(db, 'f1', 'c', 'edited.mov', { copy: 'stale' });
    file(db, 'f1', 'd', 'notes.txt', { kind: 'other' });
    file(db, 'f1', 'e', 'gone.mp4', { missing: true });
    file(db, 'f1', 'f', 'gone-kept.mp4', { missing: true, copy: 'stale' });
    // Stopped watching: a stale copy is all there is, a file never copied is still pending.
    folder(db, 'f2', { watching: 0 });
    file(db, 'f2', 'g', 'old.mp4', { copy: 'stale' });
    file(db, 'f2', 'h', 'never.mp4');
    // Uploads: the copy is the file.
    folder(db, 'f3', { source: 'upload' });
    file(db, 'f3', 'i', 'up.jpg', { kind: 'photo', copy: 'stale' });
    // A first scan still running.
    folder(db, 'f4', { scanned: 0 });
    file(db, 'f4', 'j', 'new.mp4');
    // Only other files, and media all encrypted.
    folder(db, 'f5', {});
    file(db, 'f5', 'k', 'a.txt', { kind: 'other' });
    file(db, 'f5', 'l', 'b.mp4', { copy: 'current' });
    folder(db, 'f6', {});

    for (const f of lib.folders()) {
      const rule = lib
        .files(f.id)
        .filter((x) => x.kind !== 'other' && !x.encryptedPath && x.sourceExists)
        .map((x) => x.id);
      expect(filesToEncrypt(db, f).map((r) => r.id)).toEqual(rule);
    }
    expect(filesToEncrypt(db, lib.folder('f1')).map((r) => r.rel)).toEqual([
      'edited.mov',
      'new.mp4',
    ]);
    expect(filesToEncrypt(db, lib.folder('f2')).map((r) => r.id)).toEqual(['h']);
    expect(filesToEncrypt(db, lib.folder('f3'))).toEqual([]);

    const rule = lib
      .folders()
      .filter((f) => f.scannedAt > 0 && lib.summary(f).pending > 0)
      .map((f) => f.id);
    expect(foldersWithPending(db)).toEqual(rule);
    expect(lib.foldersWithPending()).toEqual(['f1', 'f2']);
    db.close();
  });

  it("lists a folder's files under a path by its exact characters, not as a pattern", async () => {
    const { db } = await library();
    folder(db, 'f1', {});
    for (const [id, rel] of [
      ['a', 'Tapes/one.mp4'],
      ['b', 'Tapes/deep/two.mp4'],
      ['c', 'Tapes2/three.mp4'],
      ['d', 'tapes/four.mp4'],
      ['e', '100%_/five.mp4'],
      ['f', '100%x/six.mp4'],
    ] as const) {
      file(db, 'f1', id, rel);
    }
    const rels = (prefix: string) => fileRows(db, 'f1', prefix).map((r) => r.rel);
    expect(rels('Tapes/')).toEqual(['Tapes/deep/two.mp4', 'Tapes/one.mp4']);
    expect(rels('100%_/')).toEqual(['100%_/five.mp4']);
    expect(rels('')).toHaveLength(6);
    db.close();
  });
});
