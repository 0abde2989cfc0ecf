// Batches through the real CLI: exact restore of odd trees, verify's reports by name,
// and resume after `kill -9`.

import { execFileSync, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdir, readFile, readdir, rm, stat, symlink, utimes, writeFile } from 'node:fs/promises';
import { join, relative } from 'node:path';
import { describe, expect, it } from 'vitest';
import { cliVault, runCli, startCli } from '../testing/cli';
import { isTempName } from '../fs/atomic';

const LATIN1_NAME = Buffer.from('caf\xe9 1994.avi', 'latin1'); // not valid UTF-8
const LONG_NAME =
  'Grandma and Grandpa at the lake, summer holidays '.repeat(5).slice(0, 251) + '.mp4';

interface TreeEntry {
  kind: 'file' | 'dir';
  mtimeMs: number;
  data?: string;
}

/** Every path under `root` (as bytes, latin1-keyed) with kind, mtime and content hash. */
async function snapshotTree(root: string): Promise<Map<string, TreeEntry>> {
  const out = new Map<string, TreeEntry>();
  const visit = async (dir: Buffer, rel: string) => {
    const names = (await readdir(dir, { encoding: 'buffer' })) as Buffer[];
    for (const name of names) {
      const full = Buffer.concat([dir, Buffer.from('/'), name]);
      const key = `${rel}/${name.toString('latin1')}`;
      const info = await stat(full);
      if (info.isDirectory()) {
        await visit(full, key);
        out.set(key, { kind: 'dir', mtimeMs: Math.floor(info.mtimeMs) });
      } else {
        out.set(key, {
          kind: 'file',
          mtimeMs: Math.floor(info.mtimeMs),
          data: (await readFile(full)).toString('base64'),
        });
      }
    }
  };
  await visit(Buffer.from(root), '');
  return out;
}

async function familyTree(root: string) {
  await mkdir(join(root, 'Tapes/1990s/empty folder'), { recursive: true });
  await mkdir(join(root, 'Photos'), { recursive: true });
  await writeFile(join(root, 'Tapes/1990s/christmas.mpg'), randomBytes(200_000));
  await writeFile(join(root, 'Photos/zero-bytes.jpg'), '');
  await writeFile(join(root, 'Photos', LONG_NAME), randomBytes(20_000));
  await writeFile(
    Buffer.concat([Buffer.from(join(root, 'Tapes') + '/'), LATIN1_NAME]),
    randomBytes(17_000),
  );
  for (let i = 0; i < 20; i++)
    await writeFile(join(root, 'Photos', `IMG_${1000 + i}.JPG`), randomBytes(5_000 + i));
  await utimes(
    join(root, 'Tapes/1990s/christmas.mpg'),
    new Date('1994-12-25'),
    new Date('1994-12-25'),
  );
  // Folder times last: creating files above changed them.
  await utimes(
    join(root, 'Tapes/1990s/empty folder'),
    new Date('2001-01-01'),
    new Date('2001-01-01'),
  );
  await utimes(join(root, 'Tapes/1990s'), new Date('1999-09-09'), new Date('1999-09-09'));
}

async function allFiles(dir: string): Promise<string[]> {
  const out: string[] = [];
  for (const entry of await readdir(dir, { withFileTypes: true, recursive: true })) {
    if (entry.isFile()) out.push(join(entry.parentPath, entry.name));
  }
  return out;
}

describe('batch-encrypt / batch-decrypt / verify', () => {
  it('restores the exact tree: odd names, empty folders, zero-byte files, times', async () => {
    const { dir, env } = await cliVault();
    const src = join(dir, 'src');
    await familyTree(src);
    const before = await snapshotTree(src);
    const enc = await runCli(['batch-encrypt', src, join(dir, 'enc'), '--jobs', '2', '--json'], {
      env,
    });
    expect(enc.code).toBe(0);
    // --json: progress as JSON lines on stderr, ending with the totals.
    const progress = enc.stderr
      .trim()
      .split('\n')
      .map((line) => JSON.parse(line) as Record<string, unknown>);
    expect(progress.at(-1)).toMatchObject({
      event: 'progress',
      filesDone: 24,
      filesTotal: 24,
      bytesDone: 200_000 + 20_000 + 17_000 + 20 * 5_000 + 190,
    });
    expect(JSON.parse(enc.stdout)).toMatchObject({ ok: true, encrypted: 24, failures: [] });

    // The ciphertext tree reveals neither names nor structure: 24 objects, the manifest,
    // and the vault's keyring (wrapped keys only), which lets the backup be restored.
    const stored = await allFiles(join(dir, 'enc'));
    expect(stored.length).toBe(26);
    expect(stored).toContain(join(dir, 'enc', 'keyring.json'));
    for (const path of stored) {
      expect(relative(join(dir, 'enc'), path)).not.toMatch(/Tapes|Photos|christmas|IMG_/);
      const bytes = await readFile(path);
      for (const word of ['christmas', 'IMG_1000', 'Tapes', 'zero-bytes'])
        expect(bytes.includes(word)).toBe(false);
    }

    const res = await runCli(['batch-decrypt', join(dir, 'enc'), join(dir, 'restore')], { env });
    expect(res.code).toBe(0);
    expect(await snapshotTree(join(dir, 'restore'))).toEqual(before);
    expect(await snapshotTree(src)).toEqual(before);

    const ok = await runCli(['verify', join(dir, 'enc')], { env });
    expect(ok.code).toBe(0);
    expect(ok.stdout).toContain('OK: 24 files');
  });

  it('names the links it does not follow and the special files it skips, and encrypts the rest', async () => {
    const { dir, env } = await cliVault();
    const src = join(dir, 'src');
    await mkdir(join(src, 'a/b'), { recursive: true });
    await writeFile(join(src, 'a/b/clip.mov'), 'x');
    await symlink('../..', join(src, 'a/b/back-to-top'));
    // A link out of the folder: what it leads to is not the family's to back up here.
    await mkdir(join(dir, 'elsewhere'));
    await writeFile(join(dir, 'elsewhere/other.mov'), 'not in the batch');
    await symlink(join(dir, 'elsewhere'), join(src, 'a/shortcut'));
    await symlink('/', join(src, 'whole-computer'));
    execFileSync('mkfifo', [join(src, 'a/pipe')]);
    const res = await runCli(['batch-encrypt', src, join(dir, 'enc')], { env });
    expect(res.code).toBe(0);
    expect(res.stdout).toContain('Encrypted 1 files');
    expect(res.stdout).toContain(
      'Skipped 3 links (not followed), 1 special file (sockets, FIFOs or devices):',
    );
    expect(res.stdout).toMatch(/^ {2}a\/b\/back-to-top: a link: links are not followed/m);
    expect(res.stdout).toMatch(/^ {2}whole-computer: a link/m);
    expect(res.stdout).toMatch(/^ {2}a\/pipe: not a regular file/m);
    const restore = await runCli(['batch-decrypt', join(dir, 'enc'), join(dir, 'out')], { env });
    expect(restore.code).toBe(0);
    expect(await readFile(join(dir, 'out/a/b/clip.mov'), 'utf8')).toBe('x');
    expect((await allFiles(join(dir, 'out'))).map((f) => f.slice(join(dir, 'out').length))).toEqual(
      ['/a/b/clip.mov'],
    );
  });

  it('verify names missing, altered and extra files', async () => {
    const { dir, env } = await cliVault();
    const src = join(dir, 'src');
    await mkdir(src);
    for (const name of ['one.jpg', 'two.jpg', 'three.jpg'])
      await writeFile(join(src, name), randomBytes(40_000));
    await runCli(['batch-encrypt', src, join(dir, 'enc')], { env });
    const objects = (await allFiles(join(dir, 'enc', 'objects'))).sort();
    // Find which object is which by decrypting each one on its own.
    const names = new Map<string, string>();
    for (const path of objects) {
      await runCli(['decrypt', path, join(dir, 'probe')], { env });
      const data = await readFile(join(dir, 'probe'));
      await rm(join(dir, 'probe'));
      for (const name of ['one.jpg', 'two.jpg', 'three.jpg']) {
        if ((await readFile(join(src, name))).equals(data)) names.set(name, path);
      }
    }
    await rm(names.get('one.jpg')!);
    const altered = await readFile(names.get('two.jpg')!);
    altered[altered.length - 100]! ^= 1;
    await writeFile(names.get('two.jpg')!, altered);
    await writeFile(join(dir, 'enc/objects/00/intruder.ksv'), 'x');
    const res = await runCli(['verify', join(dir, 'enc')], { env });
    expect(res.code).toBe(4);
    expect(res.stderr).toContain('VERIFY_FAILED');
    expect(res.stdout).toMatch(/missing\s+one\.jpg/);
    expect(res.stdout).toMatch(/altered\s+two\.jpg/);
    expect(res.stdout).toMatch(/extra\s+objects\/00\/intruder\.ksv/);
    expect(res.stdout).not.toMatch(/three\.jpg/);
  });

  it('refuses an object swapped for another (both decrypt on their own)', async () => {
    const { dir, env } = await cliVault();
    const src = join(dir, 'src');
    await mkdir(src);
    await writeFile(join(src, 'a.jpg'), 'aaa');
    await writeFile(join(src, 'b.jpg'), 'bbb');
    await runCli(['batch-encrypt', src, join(dir, 'enc')], { env });
    const [x, y] = await allFiles(join(dir, 'enc', 'objects'));
    const [dx, dy] = [await readFile(x!), await readFile(y!)];
    await writeFile(x!, dy);
    await writeFile(y!, dx);
    const res = await runCli(['verify', join(dir, 'enc')], { env });
    expect(res.code).toBe(4);
    expect(res.stdout).toMatch(/altered\s+a\.jpg: .*different file/);
  });

  it('batch-decrypt names files whose object is missing or altered, and restores the rest', async () => {
    const { dir, env } = await cliVault();
    const src = join(dir, 'src');
    await mkdir(src);
    for (const name of ['a.jpg', 'b.jpg', 'c.jpg'])
      await writeFile(join(src, name), randomBytes(30_000));
    await runCli(['batch-encrypt', src, join(dir, 'enc')], { env });
    const objects = (await allFiles(join(dir, 'enc', 'objects'))).sort();
    await rm(objects[0]!);
    const damaged = await readFile(objects[1]!);
    damaged[damaged.length - 10]! ^= 1;
    await writeFile(objects[1]!, damaged);
    const res = await runCli(['batch-decrypt', join(dir, 'enc'), join(dir, 'out')], { env });
    expect(res.code).toBe(1);
    expect(res.stderr).toContain('BATCH_INCOMPLETE');
    expect(res.stdout).toMatch(/2 files failed/);
    expect(res.stdout).toMatch(/NOT_FOUND/);
    expect(res.stdout).toMatch(/PAYLOAD_CORRUPT/);
    const restored = await readdir(join(dir, 'out'));
    expect(restored).toHaveLength(1);
    expect(
      (await readFile(join(dir, 'out', restored[0]!))).equals(
        await readFile(join(src, restored[0]!)),
      ),
    ).toBe(true);
  });

  it('one process per batch: a live lock is refused, a stale one (killed run) taken over', async () => {
    const { dir, env } = await cliVault();
    const src = join(dir, 'src');
    await mkdir(src);
    await writeFile(join(src, 'a.jpg'), 'a');
    await mkdir(join(dir, 'enc'));
    // This test process is alive: its pid in the lock means "busy".
    await writeFile(join(dir, 'enc', '.keepsake-lock'), String(process.pid));
    const busy = await runCli(['batch-encrypt', src, join(dir, 'enc')], { env });
    expect(busy.code).toBe(5);
    expect(busy.stderr).toContain('BATCH_BUSY');
    // A pid that has exited: the lock is stale.
    const dead = spawnSync(process.execPath, ['-e', '0']).pid!;
    await writeFile(join(dir, 'enc', '.keepsake-lock'), String(dead));
    const ok = await runCli(['batch-encrypt', src, join(dir, 'enc')], { env });
    expect(ok.code, ok.stderr).toBe(0);
    expect(await readdir(join(dir, 'enc'))).not.toContain('.keepsake-lock');
  });

  it('a destination inside the source is not encrypted into itself', async () => {
    const { dir, env } = await cliVault();
    const src = join(dir, 'src');
    await mkdir(src);
    await writeFile(join(src, 'a.jpg'), 'a');
    const res = await runCli(['batch-encrypt', src, join(src, 'backup'), '--json'], { env });
    expect(res.code, res.stderr).toBe(0);
    expect(JSON.parse(res.stdout)).toMatchObject({ encrypted: 1, filesTotal: 1 });
  });

  it('a batch without its manifest is refused by name, not guessed at', async () => {
    const { dir, env } = await cliVault();
    await mkdir(join(dir, 'src'));
    await writeFile(join(dir, 'src', 'a.jpg'), 'a');
    await runCli(['batch-encrypt', join(dir, 'src'), join(dir, 'enc')], { env });
    await rm(join(dir, 'enc', 'manifest.ksv'));
    for (const args of [
      ['verify', join(dir, 'enc')],
      ['batch-decrypt', join(dir, 'enc'), join(dir, 'out')],
    ]) {
      const res = await runCli(args, { env });
      expect(res.code).toBe(4);
      expect(res.stderr).toContain('MANIFEST_MISSING');
      expect(res.stderr).toContain(join(dir, 'enc'));
    }
  });

  it('refuses to mix into a folder that is not an empty one or a batch', async () => {
    const { dir, env } = await cliVault();
    await mkdir(join(dir, 'src'));
    await mkdir(join(dir, 'busy'));
    await writeFile(join(dir, 'busy', 'keep.txt'), 'mine');
    const res = await runCli(['batch-encrypt', join(dir, 'src'), join(dir, 'busy')], { env });
    expect(res.code).toBe(5);
    expect(res.stderr).toContain('OUTPUT_EXISTS');
    expect(await readdir(join(dir, 'busy'))).toEqual(['keep.txt']);
    await runCli(['batch-encrypt', join(dir, 'src'), join(dir, 'enc')], { env });
    const again = await runCli(['batch-encrypt', join(dir, 'src'), join(dir, 'enc')], { env });
    expect(again.code).toBe(5);
    expect(again.stderr).toContain('--resume');
  });

  it('resumes after kill -9 without redoing finished files or leaving corrupt ones', async () => {
    const { dir, env } = await cliVault();
    const src = join(dir, 'src');
    await mkdir(src);
    const count = 60;
    for (let i = 0; i < count; i++)
      await writeFile(join(src, `tape-${String(i).padStart(2, '0')}.dv`), randomBytes(1 << 20));
    const enc = join(dir, 'enc');

    const child = startCli(['batch-encrypt', src, enc, '--jobs', '1'], { env });
    child.stdin!.end();
    const exited = new Promise((resolve) => child.on('exit', resolve));
    // Wait until some objects are finished, then kill without warning.
    const deadline = Date.now() + 30_000;
    let finished: string[] = [];
    while (Date.now() < deadline) {
      finished = (await allFiles(join(enc, 'objects')).catch(() => [])).filter(
        (f) => !isTempName(f),
      );
      if (finished.length >= 10) break;
      await new Promise((r) => setTimeout(r, 10));
    }
    child.kill('SIGKILL');
    await exited;
    expect(child.signalCode).toBe('SIGKILL');
    const survivors = (await allFiles(join(enc, 'objects'))).filter((f) => !isTempName(f));
    expect(survivors.length).toBeGreaterThanOrEqual(10);
    expect(survivors.length).toBeLessThan(count);

    // Whatever survived under a final name is whole.
    for (const path of survivors) {
      const res = await runCli(['verify', path], { env });
      expect(res.code, res.stderr).toBe(0);
    }
    const stamps = new Map(
      await Promise.all(survivors.map(async (p) => [p, (await stat(p)).ino] as const)),
    );

    const resumed = await runCli(['batch-encrypt', src, enc, '--resume', '--json'], { env });
    expect(resumed.code, resumed.stderr).toBe(0);
    const report = JSON.parse(resumed.stdout) as { encrypted: number; alreadyDone: number };
    expect(report.alreadyDone).toBe(survivors.length);
    expect(report.encrypted).toBe(count - survivors.length);
    // Finished objects were kept, not rewritten (a rewrite renames a new inode into place).
    for (const [path, ino] of stamps) expect((await stat(path)).ino).toBe(ino);
    expect((await allFiles(enc)).some(isTempName)).toBe(false);

    expect((await runCli(['verify', enc], { env })).code).toBe(0);
    const restore = await runCli(['batch-decrypt', enc, join(dir, 'out')], { env });
    expect(restore.code).toBe(0);
    expect(await snapshotTree(join(dir, 'out'))).toEqual(await snapshotTree(src));
  });
});
