// The passes the InfoReader and the PreviewMaker share, on a real SQLite file: which
// items are waiting, an item that fails left waiting without looping, and items added
// during a run picked up by it.

import { describe, expect, it } from 'vitest';
import { databasePath, openDatabase, type Db } from '../jobs/db';
import { freshDir } from '../testing/tmp';
import type { Vault } from '../vault/keyring';
import type { MediaKind } from '../vault/media-kind';
import { ItemPasses, type ItemHandler, type WaitingItem, type WaitingItems } from './item-passes';

/** Records each item it is given in library_info, and fails those in `failing`. */
class Recorder extends ItemPasses {
  protected readonly waiting: WaitingItems = {
    doneIn: 'library_info',
    kinds: ['video', 'photo'],
    version: 2,
  };
  readonly seen: string[] = [];
  failing = new Set<string>();
  onItem: (item: WaitingItem) => void = () => undefined;

  left(): number {
    return this.waitingNow();
  }

  protected start(): Promise<ItemHandler> {
    return Promise.resolve(async (item) => {
      this.seen.push(item.id);
      this.onItem(item);
      await new Promise((resolve) => setImmediate(resolve));
      if (this.failing.has(item.id)) throw new Error(`cannot do ${item.rel}`);
      this.db
        .prepare(
          `INSERT OR REPLACE INTO library_info (file_id, version, object_mtime, sealed, read_at)
           VALUES (?, 2, ?, x'', 0)`,
        )
        .run(item.id, item.object_mtime);
    });
  }
}

// The recorder never opens the vault: a run only hands it on.
const noVault = {} as Vault;

async function library(): Promise<Db> {
  const db = openDatabase(databasePath(await freshDir()));
  db.prepare(
    `INSERT INTO library_folders (id, path, added_at, scanned_at) VALUES ('f', '/x', 0, 0)`,
  ).run();
  return db;
}

function addFile(db: Db, id: string, kind: MediaKind, inVault = true): void {
  db.prepare(
    `INSERT INTO library_files (id, folder_id, rel, size, mtime_ms, kind, object_path, object_size, object_mtime)
     VALUES (?, 'f', ?, 1, 1, ?, ?, 1, 5)`,
  ).run(id, `${id}.bin`, kind, inVault ? `objects/${id}` : null);
}

describe('ItemPasses', () => {
  it('waits on vault copies of its kinds with nothing, or something stale, done', async () => {
    const db = await library();
    addFile(db, 'video', 'video');
    addFile(db, 'photo', 'photo');
    addFile(db, 'audio', 'audio');
    addFile(db, 'not-in-vault', 'video', false);
    addFile(db, 'old-version', 'video');
    addFile(db, 'old-copy', 'photo');
    addFile(db, 'current', 'photo');
    const done = db.prepare(
      `INSERT INTO library_info (file_id, version, object_mtime, sealed, read_at) VALUES (?, ?, ?, x'', 0)`,
    );
    done.run('old-version', 1, 5);
    done.run('old-copy', 2, 4);
    done.run('current', 2, 5);
    const recorder = new Recorder(db, '/data', () => Promise.reject(new Error('no tools')));
    expect(recorder.left()).toBe(4);
    expect(await recorder.run(noVault)).toEqual({ done: 4, failed: 0, left: 0 });
    expect(recorder.seen.sort()).toEqual(['old-copy', 'old-version', 'photo', 'video']);
    expect(recorder.progress()).toBeUndefined();
    db.close();
  });

  it('leaves a failing item waiting, says why, and ends the run', async () => {
    const db = await library();
    for (const id of ['a', 'b', 'c']) addFile(db, id, 'video');
    const recorder = new Recorder(db, '/data', () => Promise.reject(new Error('no tools')));
    recorder.failing.add('b');
    let counted = 0;
    expect(await recorder.run(noVault, () => (counted += 1))).toEqual({
      done: 2,
      failed: 1,
      left: 1,
    });
    expect(counted).toBe(3);
    expect(recorder.seen.filter((id) => id === 'b')).toHaveLength(1);
    expect(recorder.lastError).toBe('cannot do b.bin');
    recorder.failing.clear();
    expect(await recorder.run(noVault)).toEqual({ done: 1, failed: 0, left: 0 });
    // lastError says why the last item left waiting was, until another one is.
    expect(recorder.lastError).toBe('cannot do b.bin');
    db.close();
  });

  it('picks up items added during a run, and a second call joins the run', async () => {
    const db = await library();
    addFile(db, 'first', 'photo');
    const recorder = new Recorder(db, '/data', () => Promise.reject(new Error('no tools')));
    recorder.onItem = (item) => {
      if (item.id === 'first') addFile(db, 'added', 'video');
    };
    const running = recorder.run(noVault);
    expect(recorder.progress()).toEqual({ done: 0, failed: 0, left: 1 });
    expect(recorder.run(noVault)).toBe(running);
    expect(await running).toEqual({ done: 2, failed: 0, left: 0 });
    expect(recorder.seen).toEqual(['first', 'added']);
    db.close();
  });

  it('stops after the items in hand, and the next run goes on from there', async () => {
    const db = await library();
    for (let i = 0; i < 10; i++) addFile(db, `item${i}`, 'video');
    const recorder = new Recorder(db, '/data', () => Promise.reject(new Error('no tools')), 1);
    let stopping: Promise<void> | undefined;
    recorder.onItem = () => {
      stopping ??= recorder.stop();
    };
    const first = await recorder.run(noVault);
    await stopping;
    expect(first.done).toBe(1);
    expect(first.left).toBe(9);
    expect(await recorder.run(noVault)).toEqual({ done: 9, failed: 0, left: 0 });
    db.close();
  });
});
