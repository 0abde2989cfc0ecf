// `keepsake library …` end to end through the real CLI on a real data folder: add protects,
// files reports what the vault holds and whether each source is still there, remove keeps
// the copies unless told, export gives the original back.

import { randomBytes } from 'node:crypto';
import { mkdir, readFile, readdir, rm, stat, utimes, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { localTime } from '../library/capture-date';
import { cliVault, runCli } from '../testing/cli';
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
});
