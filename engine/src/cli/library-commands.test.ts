// `keepsake library …` end to end through the real CLI on a real data folder: add protects,
// files reports what the vault holds and whether each source is still there, remove keeps
// the copies unless told, export gives the original back.

import { randomBytes } from 'node:crypto';
import { mkdir, readFile, readdir, rm, stat, utimes, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import sharp from 'sharp';
import { describe, expect, it } from 'vitest';
import { databasePath, openDatabase } from '../jobs/db';
import { localTime } from '../library/capture-date';
import { cliVault, runCli } from '../testing/cli';
import { filesContaining } from '../testing/marker';
import { makeClip } from '../testing/media';
import { freshDir } from '../testing/tmp';

describe('keepsake library', () => {
  it('adds, lists, exports, survives a deleted source, and removes without loss', async () => {
    const { env } = await cliVault('correct horse battery staple');
    const media = await freshDir();
    await mkdir(join(media, 'Tapes'));
    const tape = randomBytes(70_000);
    await writeFile(join(media, 'Tapes', 'tape 1.mp4'), tape);
    const when = new Date('2001-05-06T07:08:09Z');
    await utimes(join(media, 'Tapes', 'tape 1.mp4'), when, when);
    await writeFile(join(media, 'beach.jpg'), randomBytes(2000));
    await writeFile(join(media, 'readme.txt'), 'notes');

    const added = await runCli(['library', 'add', media, '--json'], { env });
    expect(added.stderr).not.toMatch(/keepsake:/);
    expect(added.code).toBe(0);
    const { folder, encrypted } = JSON.parse(added.stdout) as {
      folder: { id: string; files: number; encrypted: number; pending: number };
      encrypted: { done: number; failed: number; read: number };
    };
    expect(folder).toMatchObject({ files: 3, encrypted: 2, pending: 0 });
    // Protected, then read (dates and details) from the vault copies.
    expect(encrypted).toMatchObject({ done: 2, failed: 0, read: 2 });

    const again = await runCli(['library', 'add', media, '--json'], { env });
    expect(JSON.parse(again.stdout).notice).toMatch(/already in your library/);

    const list = JSON.parse((await runCli(['library', 'list', '--json'], { env })).stdout) as {
      folders: { id: string }[];
    };
    expect(list.folders.map((f) => f.id)).toEqual([folder.id]);

    await rm(join(media, 'Tapes', 'tape 1.mp4'));
    expect((await runCli(['library', 'rescan', folder.id], { env })).code).toBe(0);
    const files = JSON.parse(
      (await runCli(['library', 'files', folder.id, '--json'], { env })).stdout,
    ) as {
      files: {
        id: string;
        rel: string;
        size: number;
        kind: string;
        encrypted: boolean;
        sourceExists: boolean;
      }[];
    };
    const gone = files.files.find((f) => f.rel === 'Tapes/tape 1.mp4')!;
    expect(gone).toMatchObject({
      size: 70_000,
      kind: 'video',
      encrypted: true,
      sourceExists: false,
      // Random bytes are no video: dated by the file's time, and flagged.
      capturedAt: localTime(when.getTime()),
      capturedFrom: 'mtime',
      damaged: true,
      attention: 'damaged',
      durationSeconds: null,
      width: null,
      height: null,
    });
    expect(files.files.find((f) => f.rel === 'readme.txt')).toMatchObject({
      kind: 'other',
      encrypted: false,
      sourceExists: true,
      capturedAt: null,
      damaged: false,
    });

    const out = await freshDir();
    const exported = await runCli(['library', 'export', gone.id, out, '--json'], { env });
    expect(exported.code).toBe(0);
    const path = (JSON.parse(exported.stdout.trim().split('\n').pop()!) as { path: string }).path;
    expect(path).toBe(join(out, 'tape 1.mp4'));
    expect((await readFile(path)).equals(tape)).toBe(true);
    expect((await stat(path)).mtimeMs).toBe(when.getTime());

    const removed = await runCli(['library', 'remove', folder.id, '--json'], { env });
    expect(JSON.parse(removed.stdout)).toMatchObject({ deletedEncrypted: false });
    const kept = JSON.parse(
      (await runCli(['library', 'files', folder.id, '--json'], { env })).stdout,
    ) as { files: unknown[] };
    expect(kept.files).toHaveLength(2);

    const deleted = await runCli(['library', 'remove', folder.id, '--delete-encrypted', '--json'], {
      env,
    });
    expect(JSON.parse(deleted.stdout)).toMatchObject({
      deletedEncrypted: true,
      impact: { encrypted: { files: 2 }, onlyCopies: { files: 1 } },
    });
    expect(
      (await readdir(join(env.KEEPSAKE_HOME, 'library'), { recursive: true })).filter((n) =>
        n.endsWith('.ksv'),
      ),
    ).toEqual([]);
  });

  it('set gives an item a title and a date that files then reports, and clears them', async () => {
    const { env } = await cliVault('correct horse battery staple');
    const media = await freshDir();
    await writeFile(join(media, 'tape 3.mp4'), randomBytes(5000));
    const added = await runCli(['library', 'add', media, '--json'], { env });
    const { folder } = JSON.parse(added.stdout) as { folder: { id: string } };
    const files = async () =>
      (
        JSON.parse((await runCli(['library', 'files', folder.id, '--json'], { env })).stdout) as {
          files: { id: string; title: string | null; capturedAt: string; capturedFrom: string }[];
        }
      ).files[0]!;
    const item = await files();
    expect(item).toMatchObject({ title: null, capturedFrom: 'mtime' });

    const set = await runCli(
      ['library', 'set', item.id, '--title', 'Christmas 1989', '--date', '1989-12-24'],
      { env },
    );
    expect(set.code, set.stderr).toBe(0);
    expect(set.stdout).toBe('tape 3.mp4 is now titled "Christmas 1989" and dated 1989-12-24.\n');
    expect(await files()).toMatchObject({
      title: 'Christmas 1989',
      capturedAt: '1989-12-24T00:00:00',
      capturedFrom: 'user',
    });

    // A tape dated only by its year keeps just that.
    const year = await runCli(['library', 'set', item.id, '--date', '1989'], { env });
    expect(year.code, year.stderr).toBe(0);
    expect(await files()).toMatchObject({ capturedAt: '1989', capturedFrom: 'user' });

    const bad = await runCli(['library', 'set', item.id, '--date', '24/12/1989'], { env });
    expect(bad.code).not.toBe(0);
    expect(bad.stderr).toMatch(/is not a date: write it year-month-day/);
    const unknown = await runCli(['library', 'set', 'fi_nobody', '--title', 'x'], { env });
    expect(unknown.stderr).toMatch(/no library file/);

    const cleared = await runCli(
      ['library', 'set', item.id, '--clear-date', '--clear-title', '--json'],
      { env },
    );
    expect(JSON.parse(cleared.stdout)).toMatchObject({ title: null, date: null });
    expect(await files()).toMatchObject({ title: null, capturedFrom: 'mtime' });
  });

  it('add makes pictures, files reports them, and preview saves one decrypted', async () => {
    const { env } = await cliVault('correct horse battery staple');
    const media = await freshDir();
    // Noise, not one colour: a flat picture's JPEG holds byte runs any file may hold.
    const noise = { type: 'gaussian' as const, mean: 128, sigma: 40 };
    await sharp({ create: { width: 640, height: 480, channels: 3, background: '#996633', noise } })
      .jpeg()
      .toFile(join(media, 'garden.jpg'));
    await makeClip(media, 'party.mp4', { seconds: 1 });
    await writeFile(join(media, 'notes.txt'), 'shopping list');
    const added = await runCli(['library', 'add', media, '--json'], { env });
    expect(added.code, added.stderr).toBe(0);
    const { folder, encrypted } = JSON.parse(added.stdout) as {
      folder: { id: string };
      encrypted: { done: number; read: number; pictured: number };
    };
    expect(encrypted).toMatchObject({ done: 2, read: 2, pictured: 2 });
    const { files } = JSON.parse(
      (await runCli(['library', 'files', folder.id, '--json'], { env })).stdout,
    ) as { files: { id: string; rel: string; preview: boolean }[] };
    const id = (rel: string) => files.find((f) => f.rel === rel)!.id;
    expect(Object.fromEntries(files.map((f) => [f.rel, f.preview]))).toEqual({
      'garden.jpg': true,
      'party.mp4': true,
      'notes.txt': false,
    });

    const outDir = await freshDir();
    const out = join(outDir, 'garden thumb.jpg');
    const saved = await runCli(['library', 'preview', id('garden.jpg'), out], { env });
    expect(saved.code, saved.stderr).toBe(0);
    expect(await sharp(out).metadata()).toMatchObject({ format: 'jpeg', width: 320, height: 240 });
    const thumb = await readFile(out);
    // Never replaced unless asked.
    const again = await runCli(['library', 'preview', id('garden.jpg'), out], { env });
    expect(again.code).not.toBe(0);
    expect(again.stderr).toMatch(/already exists/);
    expect((await readFile(out)).equals(thumb)).toBe(true);
    const forced = await runCli(
      ['library', 'preview', id('garden.jpg'), out, '--kind', 'preview', '--force', '--json'],
      { env },
    );
    expect(JSON.parse(forced.stdout)).toMatchObject({ kind: 'preview', width: 640, height: 480 });
    expect(await sharp(out).metadata()).toMatchObject({ width: 640, height: 480 });

    // A video gives its poster, or its sprite of ten frames when asked.
    const poster = join(outDir, 'poster.jpg');
    expect((await runCli(['library', 'preview', id('party.mp4'), poster], { env })).code).toBe(0);
    expect(await sharp(poster).metadata()).toMatchObject({ width: 320, height: 240 });
    const sprite = await runCli(
      [
        'library',
        'preview',
        id('party.mp4'),
        join(outDir, 'sprite.jpg'),
        '--kind',
        'sprite',
        '--json',
      ],
      { env },
    );
    expect(JSON.parse(sprite.stdout)).toMatchObject({ kind: 'sprite', frames: 10, width: 1600 });

    // Clear errors: an unknown id, a file Keepsake makes no picture of, an unknown kind.
    const unknown = await runCli(['library', 'preview', 'fi_nobody', join(outDir, 'x.jpg')], {
      env,
    });
    expect(unknown.code).not.toBe(0);
    expect(unknown.stderr).toMatch(/no library file/);
    const text = await runCli(['library', 'preview', id('notes.txt'), join(outDir, 'y.jpg')], {
      env,
    });
    expect(text.stderr).toMatch(/pictures of photos and videos only/);
    const kind = await runCli(
      ['library', 'preview', id('garden.jpg'), join(outDir, 'z.jpg'), '--kind', 'movie'],
      { env },
    );
    expect(kind.code).toBe(2);
    expect(kind.stderr).toMatch(/--kind is one of thumb, preview, poster, sprite/);

    // The data folder holds the pictures only encrypted.
    const shown = await readFile(out);
    const needle = shown.subarray(shown.length / 2, shown.length / 2 + 32);
    expect(await filesContaining(outDir, needle)).toHaveLength(1);
    expect(await filesContaining(env.KEEPSAKE_HOME, needle)).toEqual([]);
  });

  it('--no-encrypt only scans, and a missing folder is a clear error', async () => {
    const { env } = await cliVault('correct horse battery staple');
    const media = await freshDir();
    await writeFile(join(media, 'a.mp4'), randomBytes(100));
    const added = await runCli(['library', 'add', media, '--no-encrypt', '--json'], {
      env: { ...env, KEEPSAKE_PASSWORD: undefined },
    });
    expect(added.code).toBe(0);
    expect(JSON.parse(added.stdout).folder).toMatchObject({ encrypted: 0, pending: 1 });

    const missing = await runCli(['library', 'add', join(media, 'nope')], { env });
    expect(missing.code).not.toBe(0);
    expect(missing.stderr).toMatch(/nope.*\[NOT_FOUND\]/);
  });

  it('prints names holding control characters and line breaks escaped, never raw', async () => {
    const { env } = await cliVault('correct horse battery staple');
    const media = await freshDir();
    // Linux allows both in a file name; a listing must not turn them into a forged line
    // or a terminal escape.
    const crafted = 'clip\nab12cd34  fake.mp4  protected\u001b[2J.mp4';
    await writeFile(join(media, crafted), randomBytes(500));
    const added = await runCli(['library', 'add', media, '--json'], { env });
    expect(added.code, added.stderr).toBe(0);
    const { folder } = JSON.parse(added.stdout) as { folder: { id: string } };

    const listed = await runCli(['library', 'files', folder.id], { env });
    expect(listed.code).toBe(0);
    expect(listed.stdout).not.toContain('\u001b');
    expect(listed.stdout.trimEnd().split('\n')).toHaveLength(1);
    expect(listed.stdout).toContain('clip\\nab12cd34  fake.mp4  protected\\x1b[2J.mp4');
    // JSON keeps the name exact: it is escaped by JSON itself.
    const json = await runCli(['library', 'files', folder.id, '--json'], { env });
    expect((JSON.parse(json.stdout) as { files: { rel: string }[] }).files[0]!.rel).toBe(crafted);
  });

  it('says what it left out, rescans the folder a nested add is part of, refuses a removed one', async () => {
    const { env } = await cliVault('correct horse battery staple');
    const media = await freshDir();
    await writeFile(join(media, 'ok.jpg'), randomBytes(800));
    // An old camera card's Latin-1 name (not UTF-8), a hidden folder and a hidden file.
    const latin1 = Buffer.concat([
      Buffer.from(`${media}/No`),
      Buffer.from([0xeb]),
      Buffer.from('l.jpg'),
    ]);
    await writeFile(latin1, randomBytes(800));
    await mkdir(join(media, '.album'));
    await writeFile(join(media, '.album', 'h.jpg'), randomBytes(800));
    const added = await runCli(['library', 'add', media], { env });
    expect(added.code, added.stderr).toBe(0);
    expect(added.stdout).toContain(
      'Left out 2: 1 file with a name Keepsake cannot read, 1 hidden file or folder (names starting with a dot).',
    );
    expect(added.stdout).toContain('  No\uFFFDl.jpg');
    const json = await runCli(['library', 'add', media, '--json'], { env });
    const { folder, leftOut } = JSON.parse(json.stdout) as {
      folder: { id: string };
      leftOut: { total: number; hidden: number; byReason: Record<string, number> };
    };
    expect(leftOut).toMatchObject({ total: 2, hidden: 1, byReason: { name: 1 } });

    // A folder inside it, added after a new file came: the file is taken in at once.
    await mkdir(join(media, 'inner'));
    await writeFile(join(media, 'inner', 'i.jpg'), randomBytes(800));
    const inner = await runCli(['library', 'add', join(media, 'inner')], { env });
    expect(inner.stdout).toContain('as part of');
    const files = JSON.parse(
      (await runCli(['library', 'files', folder.id, '--json'], { env })).stdout,
    ) as { files: { rel: string; encrypted: boolean }[] };
    expect(files.files.find((f) => f.rel === 'inner/i.jpg')).toMatchObject({ encrypted: true });

    expect((await runCli(['library', 'remove', folder.id], { env })).code).toBe(0);
    const rescan = await runCli(['library', 'rescan', folder.id], { env });
    expect(rescan.code).not.toBe(0);
    expect(rescan.stderr).toContain('is no longer watched');
    expect(rescan.stderr).toContain(`keepsake library add ${media}`);
  });

  it('a wrong password adds nothing: no folder is left added and unprotected', async () => {
    const { env } = await cliVault('correct horse battery staple');
    const media = await freshDir();
    await writeFile(join(media, 'a.jpg'), randomBytes(800));
    const wrong = await runCli(['library', 'add', media], {
      env: { ...env, KEEPSAKE_PASSWORD: 'not the password at all' },
    });
    expect(wrong.code).not.toBe(0);
    expect(wrong.stderr).toContain('[WRONG_PASSWORD]');
    expect((await runCli(['library', 'list'], { env })).stdout).toBe('The library is empty.\n');
  });

  it('a folder whose first scan never finished is nobody’s parent and protects nothing', async () => {
    const { env } = await cliVault('correct horse battery staple');
    const media = await freshDir();
    await mkdir(join(media, 'kids'));
    await writeFile(join(media, 'kids', 'k.jpg'), randomBytes(800));
    await writeFile(join(media, 'elsewhere.jpg'), randomBytes(800));
    // What a `library add` killed mid-scan leaves: the folder, its first files, no scan time.
    const db = openDatabase(databasePath(env.KEEPSAKE_HOME));
    db.prepare(
      `INSERT INTO library_folders (id, path, added_at, scanned_at, source, watching)
       VALUES ('fghost', ?, 1, 0, 'disk', 1)`,
    ).run(media);
    db.prepare(
      `INSERT INTO library_files (id, folder_id, rel, size, mtime_ms, kind)
       VALUES ('mghost', 'fghost', 'elsewhere.jpg', 800, 1, 'photo')`,
    ).run();
    db.close();

    const list = await runCli(['library', 'list'], { env });
    expect(list.stdout).toContain('(its first scan has not finished)');
    const added = await runCli(['library', 'add', join(media, 'kids'), '--json'], { env });
    expect(added.code, added.stderr).toBe(0);
    const result = JSON.parse(added.stdout) as { folder: { id: string; encrypted: number } };
    expect(result.folder).toMatchObject({ encrypted: 1 });
    expect(result.folder.id).not.toBe('fghost');
    // Nothing of the unfinished folder was protected.
    expect(await readdir(join(env.KEEPSAKE_HOME, 'library'))).toEqual([result.folder.id]);
  });

  it('export: a changed file gives the copy held, a file that is not media says why', async () => {
    const { env } = await cliVault('correct horse battery staple');
    const media = await freshDir();
    await writeFile(join(media, 'a.jpg'), 'the photo as it was');
    await writeFile(join(media, 'notes.txt'), 'notes');
    const added = await runCli(['library', 'add', media, '--json'], { env });
    const { folder } = JSON.parse(added.stdout) as { folder: { id: string } };
    await writeFile(join(media, 'a.jpg'), 'changed on disk');
    expect((await runCli(['library', 'rescan', folder.id, '--no-encrypt'], { env })).code).toBe(0);
    const files = JSON.parse(
      (await runCli(['library', 'files', folder.id, '--json'], { env })).stdout,
    ) as { files: { id: string; rel: string }[] };
    const id = (rel: string) => files.files.find((f) => f.rel === rel)!.id;

    const out = await freshDir();
    // What an export killed midway leaves: partial plaintext under a temporary name.
    await writeFile(join(out, '.ks-tmp-4194303-0123abcd'), 'partial plaintext');
    const exported = await runCli(['library', 'export', id('a.jpg'), out], { env });
    expect(exported.code, exported.stderr).toBe(0);
    expect(await readdir(out)).toEqual(['a.jpg']);
    expect(exported.stdout).toContain('the file as it was before it changed on disk');
    expect(await readFile(join(out, 'a.jpg'), 'utf8')).toBe('the photo as it was');

    const notes = await runCli(['library', 'export', id('notes.txt'), out], { env });
    expect(notes.code).not.toBe(0);
    expect(notes.stderr).toContain('is not a photo, video or sound recording');
    // Into a file instead of a folder: said in words.
    const intoFile = await runCli(['library', 'export', id('a.jpg'), join(out, 'a.jpg')], { env });
    expect(intoFile.stderr).toContain('that is a file, not a folder');

    // A damaged copy, then a missing one: told of the family's file, not of the copy's name.
    const copies = join(env.KEEPSAKE_HOME, 'library', folder.id);
    const [copy] = await readdir(copies);
    const bytes = await readFile(join(copies, copy!));
    bytes[bytes.length - 20]! ^= 1;
    await writeFile(join(copies, copy!), bytes);
    const damaged = await runCli(['library', 'export', id('a.jpg'), await freshDir()], { env });
    expect(damaged.code).not.toBe(0);
    expect(damaged.stderr).toMatch(
      /^keepsake: a\.jpg: its protected copy is damaged \(.+\); nothing was saved/,
    );
    expect(damaged.stderr).toContain('[PAYLOAD_CORRUPT]');
    await rm(join(copies, copy!));
    const missing = await runCli(['library', 'export', id('a.jpg'), await freshDir()], { env });
    expect(missing.stderr).toMatch(/^keepsake: a\.jpg: its protected copy is missing/);
  });
});
