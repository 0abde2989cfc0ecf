// The library as an archive, on real folders, a real SQLite file and a real vault: it keeps
// what it was given until the user deletes it on purpose, never stores a file twice, and
// leaves no half-added folder behind.

import { mkdir, readdir, rm, stat, symlink, utimes, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { databasePath, openDatabase } from '../jobs/db';
import { freshDir, TEST_SCRYPT } from '../testing/tmp';
import { createVault, type Vault } from '../vault/keyring';
import { VaultFile } from '../vault/vault-file';
import { Library, type Scanner } from './library';

const PASSWORD = 'correct horse battery staple';

async function setup(scanner?: Scanner) {
  const dataDir = await freshDir();
  const media = await freshDir();
  const db = openDatabase(databasePath(dataDir));
  const { vault } = await createVault(join(dataDir, 'vault'), PASSWORD, { scrypt: TEST_SCRYPT });
  const library = new Library(db, dataDir, scanner);
  return { dataDir, media, db, vault, library };
}

async function tree(root: string, files: Record<string, string>): Promise<void> {
  for (const [rel, text] of Object.entries(files)) {
    await mkdir(join(root, rel, '..'), { recursive: true });
    await writeFile(join(root, rel), text);
  }
}

async function addAndProtect(library: Library, vault: Vault, path: string) {
  const { folder } = await library.addFolder(path);
  const done = await library.encrypt(folder.id, vault);
  expect(done.failed).toBe(0);
  return folder;
}

/** The plaintext of a vault copy. */
async function plainOf(vault: Vault, path: string): Promise<string> {
  const file = await VaultFile.open(path, { vault });
  try {
    return (await file.read(0, file.size)).toString('utf8');
  } finally {
    await file.close();
  }
}

const byRel = (library: Library, folderId: string) =>
  Object.fromEntries(library.files(folderId).map((f) => [f.rel, f]));

describe('Library', () => {
  it('keeps a file whose source was deleted, as in the vault only, and forgets one never protected', async () => {
    const { media, vault, library } = await setup();
    await tree(media, { 'tape1.mp4': 'tape one', 'beach.jpg': 'beach' });
    const folder = await addAndProtect(library, vault, media);
    await tree(media, { 'later.mov': 'not protected yet' });
    await library.rescan(folder.id);
    await rm(join(media, 'tape1.mp4'));
    await rm(join(media, 'later.mov'));
    await library.rescan(folder.id);

    const files = byRel(library, folder.id);
    expect(Object.keys(files).sort()).toEqual(['beach.jpg', 'tape1.mp4']);
    expect(files['tape1.mp4']).toMatchObject({ sourceExists: false });
    expect(files['tape1.mp4']!.missingSince).toBeGreaterThan(0);
    expect(files['tape1.mp4']!.encryptedPath).toBeDefined();
    await stat(files['tape1.mp4']!.encryptedPath!);
    expect(library.summary(library.folder(folder.id))).toMatchObject({
      encrypted: 2,
      pending: 0,
      vaultOnly: 1,
    });

    // The source comes back: the item is whole again, under the same id.
    await tree(media, { 'tape1.mp4': 'tape one' });
    await library.rescan(folder.id);
    const back = byRel(library, folder.id)['tape1.mp4']!;
    expect(back).toMatchObject({ id: files['tape1.mp4']!.id, sourceExists: true });
    expect(back.missingSince).toBeUndefined();
  });

  it('remove stops watching and keeps the vault copies unless asked to delete them', async () => {
    const { media, vault, library, dataDir } = await setup();
    await tree(media, { 'a.mp4': 'aaa', 'b.mp4': 'bbbb', 'notes.txt': 'not media' });
    const folder = await addAndProtect(library, vault, media);
    await rm(join(media, 'b.mp4'));
    await library.rescan(folder.id);

    expect(await library.removalImpact(folder.id)).toEqual({
      encrypted: { files: 2, bytes: expect.any(Number) as number },
      onlyCopies: { files: 1, bytes: expect.any(Number) as number },
    });

    await library.remove(folder.id);
    const kept = library.folder(folder.id);
    expect(kept.watching).toBe(false);
    expect(library.files(folder.id).map((f) => f.rel)).toEqual(['a.mp4', 'b.mp4']);
    for (const file of library.files(folder.id)) await stat(file.encryptedPath!);
    // Sources are never touched.
    expect((await readdir(media)).sort()).toEqual(['a.mp4', 'notes.txt']);
    // An unwatched folder is not rescanned: nothing changes when its source does.
    await rm(join(media, 'a.mp4'));
    await library.rescan(folder.id);
    expect(library.files(folder.id)).toHaveLength(2);

    await library.remove(folder.id, { deleteEncrypted: true });
    expect(() => library.folder(folder.id)).toThrow(/no library folder/);
    expect(await readdir(join(dataDir, 'library')).catch(() => [])).toEqual([]);
  });

  it('a folder with nothing protected is simply forgotten', async () => {
    const { media, library } = await setup();
    await tree(media, { 'a.mp4': 'aaa' });
    const { folder } = await library.addFolder(media);
    await library.remove(folder.id);
    expect(library.folders()).toEqual([]);
  });

  it('says when a folder is already there, or inside one, and watches a removed one again', async () => {
    const { media, vault, library } = await setup();
    await tree(media, { 'Tapes/t1.mp4': 'one', 'Photos/p.jpg': 'p' });
    const folder = await addAndProtect(library, vault, media);

    const again = await library.addFolder(media);
    expect(again.folder.id).toBe(folder.id);
    expect(again.notice).toMatch(/already in your library/);

    const inside = await library.addFolder(join(media, 'Tapes'));
    expect(inside.folder.id).toBe(folder.id);
    expect(inside.notice).toMatch(/as part of/);
    expect(library.folders()).toHaveLength(1);

    await library.remove(folder.id);
    const back = await library.addFolder(media);
    expect(back.folder).toMatchObject({ id: folder.id, watching: true });
    expect(back.notice).toMatch(/back in your library/);
    expect(library.summary(library.folder(folder.id))).toMatchObject({ encrypted: 2, pending: 0 });
  });

  it('adding a parent takes in the folders inside it with their ids and copies: nothing stored twice', async () => {
    const { media, vault, library } = await setup();
    await tree(media, { 'Tapes/t1.mp4': 'one', 'Tapes/t2.mp4': 'two', 'Photos/p.jpg': 'p' });
    const tapes = await addAndProtect(library, vault, join(media, 'Tapes'));
    const before = byRel(library, tapes.id);

    const added = await library.addFolder(media);
    expect(added.notice).toMatch(/“Tapes” was already in your library; now part of/);
    expect(library.folders().map((f) => f.id)).toEqual([added.folder.id]);
    const after = byRel(library, added.folder.id);
    expect(Object.keys(after).sort()).toEqual(['Photos/p.jpg', 'Tapes/t1.mp4', 'Tapes/t2.mp4']);
    expect(after['Tapes/t1.mp4']).toMatchObject({
      id: before['t1.mp4']!.id,
      encryptedPath: before['t1.mp4']!.encryptedPath,
      sourceExists: true,
    });
    // Only the photo is left to protect.
    expect(library.summary(added.folder)).toMatchObject({ encrypted: 2, pending: 1 });
  });

  it('a removed parent gives its copies to a folder added inside it', async () => {
    const { media, vault, library } = await setup();
    await tree(media, { 'Tapes/t1.mp4': 'one', 'Photos/p.jpg': 'p' });
    const home = await addAndProtect(library, vault, media);
    const t1 = byRel(library, home.id)['Tapes/t1.mp4']!;
    await library.remove(home.id);

    const { folder } = await library.addFolder(join(media, 'Tapes'));
    expect(byRel(library, folder.id)['t1.mp4']).toMatchObject({
      id: t1.id,
      encryptedPath: t1.encryptedPath,
    });
    // The photo's copy stays with the removed folder.
    expect(library.files(home.id).map((f) => f.rel)).toEqual(['Photos/p.jpg']);
  });

  it('a cancelled or failed first scan leaves no folder behind, and neither does a restart mid-scan', async () => {
    let release: () => void = () => {};
    const stuck: Scanner = async (_root, opts) => {
      await opts.onBatch([{ rel: 'a.mp4', size: 1, mtimeMs: 1 }]);
      await new Promise<void>((resolve, reject) => {
        release = resolve;
        opts.signal?.addEventListener('abort', () => reject(opts.signal!.reason as Error));
      });
    };
    const { media, library, db, dataDir } = await setup(stuck);
    const adding = library.addFolder(media);
    await new Promise((r) => setTimeout(r, 20));
    // While the scan runs the folder shows with its progress, and can be cancelled.
    expect(library.folders()).toHaveLength(1);
    expect(library.cancelScan(library.folders()[0]!.id)).toBe(true);
    await expect(adding).rejects.toMatchObject({ code: 'SCAN_CANCELLED' });
    expect(library.folders()).toEqual([]);
    expect(db.prepare('SELECT COUNT(*) AS n FROM library_files').get()).toEqual({ n: 0 });

    // An engine stopped mid-scan: the next start drops the half-added folder.
    void library.addFolder(media).catch(() => {});
    await new Promise((r) => setTimeout(r, 20));
    expect(library.folders()).toHaveLength(1);
    const restarted = new Library(db, dataDir, stuck);
    restarted.dropUnfinishedScans();
    expect(restarted.folders()).toEqual([]);
    release();
  });

  it('never follows links out of a folder, and leaves out Keepsake’s own data folder', async () => {
    const { media, library, dataDir } = await setup();
    await tree(media, { 'a.mp4': 'a', 'Sub/b.jpg': 'b' });
    await symlink('/', join(media, 'root-link'));
    await symlink(media, join(media, 'Sub', 'loop'));
    // The data folder inside an added folder (a home folder holding it, say).
    const inside = await freshDir();
    await tree(inside, { 'c.mp4': 'c' });
    const nested = new Library(
      openDatabase(databasePath(join(inside, 'data'))),
      join(inside, 'data'),
    );
    await tree(join(inside, 'data'), { 'library/x.mp4': 'not family media' });
    const { folder } = await library.addFolder(media);
    expect(library.files(folder.id).map((f) => f.rel)).toEqual(['Sub/b.jpg', 'a.mp4']);
    const outer = await nested.addFolder(inside);
    expect(nested.files(outer.folder.id).map((f) => f.rel)).toEqual(['c.mp4']);
    expect(dataDir).not.toBe(inside);
  });

  it('an edited source is protected anew and the copy held is kept as its earlier version', async () => {
    const { media, vault, library } = await setup();
    await tree(media, { 'a.mp4': 'first', 'b.jpg': 'bee' });
    const folder = await addAndProtect(library, vault, media);
    const before = byRel(library, folder.id);
    await writeFile(join(media, 'a.mp4'), 'second version');
    await utimes(join(media, 'a.mp4'), new Date(), new Date(Date.now() + 5000));
    await library.rescan(folder.id);
    expect(library.summary(library.folder(folder.id))).toMatchObject({ pending: 1 });
    // Until it is protected again, the copy held is still there to save.
    const pending = byRel(library, folder.id)['a.mp4']!;
    expect(pending.encryptedPath).toBeUndefined();
    expect(await plainOf(vault, pending.heldCopyPath!)).toBe('first');

    expect((await library.encrypt(folder.id, vault)).failed).toBe(0);
    const after = byRel(library, folder.id);
    expect(Object.keys(after).sort()).toEqual(['a (earlier version).mp4', 'a.mp4', 'b.jpg']);
    // The earlier version keeps its id (and with it what was made from it), in the vault only.
    const earlier = after['a (earlier version).mp4']!;
    expect(earlier).toMatchObject({ id: before['a.mp4']!.id, sourceExists: false, size: 5 });
    expect(await plainOf(vault, earlier.encryptedPath!)).toBe('first');
    expect(after['a.mp4']!.id).not.toBe(before['a.mp4']!.id);
    expect(await plainOf(vault, after['a.mp4']!.encryptedPath!)).toBe('second version');
    expect(library.summary(library.folder(folder.id))).toMatchObject({ pending: 0, encrypted: 3 });
    // A later rescan leaves both as they are.
    await library.rescan(folder.id);
    expect(Object.keys(byRel(library, folder.id)).sort()).toEqual(Object.keys(after).sort());
  });

  it('removes the partial copies a killed run left in the vault when it protects again', async () => {
    const { media, vault, library, dataDir } = await setup();
    await tree(media, { 'a.mp4': 'a' });
    const { folder } = await library.addFolder(media);
    const copies = join(dataDir, 'library', folder.id);
    await mkdir(copies, { recursive: true });
    // A run killed mid-file leaves its ciphertext under a temporary name with its pid.
    await writeFile(join(copies, '.ks-tmp-4194303-0123abcd'), 'partial ciphertext');
    expect((await library.encrypt(folder.id, vault)).failed).toBe(0);
    const id = byRel(library, folder.id)['a.mp4']!.id;
    expect(await readdir(copies)).toEqual([`${id}.ksv`]);
  });

  it('a source whose date alone moved keeps its copy and its id: no second copy', async () => {
    const { media, vault, library, dataDir } = await setup();
    await tree(media, { 'b.jpg': 'bee' });
    const folder = await addAndProtect(library, vault, media);
    const id = byRel(library, folder.id)['b.jpg']!.id;
    await utimes(join(media, 'b.jpg'), new Date(), new Date(Date.now() + 5000));
    await library.rescan(folder.id);
    expect(library.summary(library.folder(folder.id))).toMatchObject({ pending: 1 });
    await library.encrypt(folder.id, vault);
    expect(library.files(folder.id).map((f) => [f.rel, f.id])).toEqual([['b.jpg', id]]);
    expect(library.summary(library.folder(folder.id))).toMatchObject({ pending: 0 });
    expect(await readdir(join(dataDir, 'library', folder.id))).toEqual([`${id}.ksv`]);
  });

  it('a camera name used again for a new photo never replaces the one only the vault holds', async () => {
    const { media, vault, library } = await setup();
    await tree(media, { 'DSC0001.jpg': 'the first photo' });
    const folder = await addAndProtect(library, vault, media);
    await rm(join(media, 'DSC0001.jpg'));
    await library.rescan(folder.id);
    expect(byRel(library, folder.id)['DSC0001.jpg']).toMatchObject({ sourceExists: false });
    await tree(media, { 'DSC0001.jpg': 'a different photo' });
    await library.rescan(folder.id);
    await library.encrypt(folder.id, vault);
    const files = byRel(library, folder.id);
    expect(await plainOf(vault, files['DSC0001 (earlier version).jpg']!.encryptedPath!)).toBe(
      'the first photo',
    );
    expect(await plainOf(vault, files['DSC0001.jpg']!.encryptedPath!)).toBe('a different photo');
  });
});
