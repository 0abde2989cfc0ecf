// The folder scanner on real temporary trees: links never followed (to `/`, to a parent),
// FIFOs, sockets and hidden files left out, system folders refused or skipped, cancel,
// progress, batches and backpressure, unreadable folders (as `nobody` when run as root).

import { execFileSync, spawn } from 'node:child_process';
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { chmod, lstat, mkdir, symlink, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { isKeepsakeError } from '../core/errors';
import { nobodyCannotRunCheckout } from '../testing/as-nobody';
import { engineRoot } from '../testing/paths';
import { freshDir } from '../testing/tmp';
import {
  scanFolder,
  type ScanOptions,
  type ScanProgress,
  type ScanSummary,
  type ScannedFile,
} from './scan';

const isRoot = process.getuid?.() === 0;
const linux = process.platform === 'linux';

/** Scans and collects every file, sorted by rel. */
async function scanAll(root: string, options: Partial<ScanOptions> = {}) {
  const files: ScannedFile[] = [];
  const batches: number[] = [];
  const summary = await scanFolder(root, {
    ...options,
    onBatch: async (batch) => {
      batches.push(batch.length);
      files.push(...batch);
      await options.onBatch?.(batch);
    },
  });
  files.sort((a, b) => (a.rel < b.rel ? -1 : 1));
  return { files, batches, summary, rels: files.map((f) => f.rel) };
}

/** `n` small files spread over `n / per` folders. */
async function makeTree(root: string, n: number, per = 100): Promise<void> {
  for (let d = 0; d * per < n; d++) {
    const dir = join(root, `album-${d}`);
    await mkdir(dir, { recursive: true });
    const count = Math.min(per, n - d * per);
    await Promise.all(
      Array.from({ length: count }, (_, i) => writeFile(join(dir, `photo-${i}.jpg`), 'x')),
    );
  }
}

function canMount(): boolean {
  if (!isRoot || !linux) return false;
  const dir = mkdtempSync(join(tmpdir(), 'keepsake-mount-probe-'));
  try {
    execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=64k', 'tmpfs', dir], { stdio: 'ignore' });
    execFileSync('umount', [dir], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
const mountable = canMount();

const openFds = () => readdirSync('/proc/self/fd').length;

async function settleFds(baseline: number): Promise<number> {
  for (let i = 0; i < 100 && openFds() > baseline; i++) await new Promise((r) => setTimeout(r, 20));
  return openFds();
}

describe('scanFolder', () => {
  it('finds every file with size and time, as /-separated paths, leaving hidden ones out', async () => {
    const root = await freshDir();
    await mkdir(join(root, 'Holidays/1994'), { recursive: true });
    await mkdir(join(root, '.cache/thumbs'), { recursive: true });
    await writeFile(join(root, 'Holidays/1994/beach.mov'), 'moving pictures');
    await writeFile(join(root, 'Holidays/1994/.DS_Store'), 'junk');
    await writeFile(join(root, 'Holidays/cake.jpg'), 'cake');
    await writeFile(join(root, '.cache/thumbs/t.jpg'), 'thumb');
    await writeFile(join(root, 'top.png'), '');
    const { files, summary } = await scanAll(root);
    const info = await lstat(join(root, 'Holidays/1994/beach.mov'));
    expect(files).toEqual([
      { rel: 'Holidays/1994/beach.mov', size: 15, mtimeMs: info.mtimeMs },
      { rel: 'Holidays/cake.jpg', size: 4, mtimeMs: expect.any(Number) },
      { rel: 'top.png', size: 0, mtimeMs: expect.any(Number) },
    ]);
    expect(summary).toMatchObject({
      root,
      files: 3,
      dirs: 2,
      bytes: 19,
      skipped: 0,
      hidden: 2,
      examples: [],
    });
  });

  it('never follows links: not to /, not back to a parent, not to a file outside', async () => {
    const root = await freshDir();
    const outside = await freshDir();
    await writeFile(join(outside, 'secret.txt'), 'not family');
    await mkdir(join(root, 'a/b'), { recursive: true });
    await writeFile(join(root, 'a/b/clip.mp4'), 'clip');
    await symlink('/', join(root, 'whole-computer'));
    await symlink('../..', join(root, 'a/b/up-again'));
    await symlink(root, join(root, 'a/myself'));
    await symlink(join(outside, 'secret.txt'), join(root, 'a/secret-link.txt'));
    await symlink(outside, join(root, 'elsewhere'));
    const { rels, summary } = await scanAll(root);
    expect(rels).toEqual(['a/b/clip.mp4']);
    expect(summary).toMatchObject({ files: 1, dirs: 2, skipped: 5, skippedBy: { link: 5 } });
    expect(summary.examples.map((e) => e.rel).sort()).toEqual([
      'a/b/up-again',
      'a/myself',
      'a/secret-link.txt',
      'elsewhere',
      'whole-computer',
    ]);
  });

  it('skips FIFOs and sockets instead of reading them', async () => {
    const root = await freshDir();
    await writeFile(join(root, 'real.jpg'), 'jpg');
    execFileSync('mkfifo', [join(root, 'pipe.mov')]);
    const server = createServer();
    await new Promise<void>((resolve) => server.listen(join(root, 'socket.mp4'), resolve));
    try {
      const { rels, summary } = await scanAll(root);
      expect(rels).toEqual(['real.jpg']);
      expect(summary.skippedBy).toEqual({ special: 2 });
    } finally {
      server.close();
    }
  });

  it('skips names that are not valid UTF-8 (and keeps a real U+FFFD)', async () => {
    const root = await freshDir();
    const latin1 = Buffer.concat([Buffer.from(root + '/'), Buffer.from('caf\xe9.avi', 'latin1')]);
    await writeFile(latin1, 'old camera');
    await writeFile(join(root, 'odd \uFFFD name.jpg'), 'ok');
    await mkdir(Buffer.concat([Buffer.from(root + '/'), Buffer.from('d\xefr', 'latin1')]));
    await writeFile(join(root, 'plain.jpg'), 'ok');
    const { rels, summary } = await scanAll(root);
    expect(rels).toEqual(['odd \uFFFD name.jpg', 'plain.jpg']);
    expect(summary.skippedBy).toEqual({ name: 2 });
    expect(summary.dirs).toBe(0);
  });

  it('refuses a missing folder, a file and the system folders as a start', async () => {
    const root = await freshDir();
    await writeFile(join(root, 'file.jpg'), 'x');
    const error = (path: string) =>
      scanFolder(path, { onBatch: () => {} }).then(
        () => undefined,
        (err: unknown) => err,
      );
    expect(await error(join(root, 'nope'))).toMatchObject({ code: 'NOT_FOUND' });
    expect(await error(join(root, 'file.jpg'))).toMatchObject({ code: 'USAGE' });
    if (linux) {
      for (const path of ['/proc', '/proc/self', '/sys/kernel', '/dev', '/run', '/sys/fs/../']) {
        const err = await error(path);
        expect(err, path).toMatchObject({ code: 'USAGE' });
        expect(String((err as Error).message)).toContain('system folders');
      }
    }
  });

  it('skips system folders it crosses, by path', async () => {
    const root = await freshDir();
    await mkdir(join(root, 'proc/1'), { recursive: true });
    await writeFile(join(root, 'proc/1/status'), 'x');
    await mkdir(join(root, 'home'));
    await writeFile(join(root, 'home/me.jpg'), 'x');
    const { rels, summary } = await scanAll(root, { systemFolders: [join(root, 'proc')] });
    expect(rels).toEqual(['home/me.jpg']);
    expect(summary.skippedBy).toEqual({ system: 1 });
    expect(summary.examples).toEqual([{ rel: 'proc', reason: 'system' }]);
  });

  it("leaves out the folders it is told to (Keepsake's own data folder)", async () => {
    const root = await freshDir();
    await mkdir(join(root, 'keepsake-data/library'), { recursive: true });
    await writeFile(join(root, 'keepsake-data/library/m1.ksv'), 'sealed');
    await writeFile(join(root, 'family.jpg'), 'x');
    await symlink(root, join(root, 'via-link'));
    const { rels, summary } = await scanAll(root, {
      // Named through a link: compared as real paths.
      excludeFolders: [join(root, 'via-link/keepsake-data')],
    });
    expect(rels).toEqual(['family.jpg']);
    expect(summary.skippedBy).toEqual({ excluded: 1, link: 1 });
  });

  // Needs root and mount (a locked-down container has neither).
  it.skipIf(!mountable)(
    'skips pseudo file systems mounted inside the tree, but crosses into real ones',
    async () => {
      const root = await freshDir();
      for (const d of ['kernel', 'devices', 'usb-stick', 'cgroups']) await mkdir(join(root, d));
      const mounted: string[] = [];
      try {
        execFileSync('mount', ['-t', 'proc', 'proc', join(root, 'kernel')]);
        mounted.push(join(root, 'kernel'));
        execFileSync('mount', ['-t', 'devtmpfs', 'devtmpfs', join(root, 'devices')]);
        mounted.push(join(root, 'devices'));
        execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=1m', 'tmpfs', join(root, 'usb-stick')]);
        mounted.push(join(root, 'usb-stick'));
        execFileSync('mount', ['-t', 'cgroup2', 'cgroup2', join(root, 'cgroups')]);
        mounted.push(join(root, 'cgroups'));
        await writeFile(join(root, 'usb-stick/wedding.mp4'), 'vows');
        const { rels, summary } = await scanAll(root);
        expect(rels).toEqual(['usb-stick/wedding.mp4']);
        expect(summary.skippedBy).toEqual({ system: 3 });
        // And a pseudo file system is refused as a start wherever it is mounted.
        await expect(scanFolder(join(root, 'kernel'), { onBatch: () => {} })).rejects.toMatchObject(
          { code: 'USAGE' },
        );
        await expect(
          scanFolder(join(root, 'devices'), { onBatch: () => {} }),
        ).rejects.toMatchObject({ code: 'USAGE' });
      } finally {
        for (const m of mounted.reverse()) execFileSync('umount', ['-l', m]);
      }
    },
  );

  it.skipIf(!mountable)('does not loop through a bind mount of a parent folder', async () => {
    const root = await freshDir();
    await mkdir(join(root, 'a/again'), { recursive: true });
    await writeFile(join(root, 'a/x.jpg'), 'x');
    execFileSync('mount', ['--bind', root, join(root, 'a/again')]);
    try {
      const { rels, summary } = await scanAll(root);
      expect(rels).toEqual(['a/x.jpg']);
      expect(summary.skippedBy).toEqual({ loop: 1 });
    } finally {
      execFileSync('umount', ['-l', join(root, 'a/again')]);
    }
  });

  it('walks trees deeper than it keeps folders open for', async () => {
    const root = await freshDir();
    const parts = Array.from({ length: 90 }, (_, i) => `d${i}`);
    await mkdir(join(root, ...parts), { recursive: true });
    await writeFile(join(root, ...parts, 'deep.jpg'), 'x');
    await writeFile(join(root, ...parts.slice(0, 70), 'mid.jpg'), 'x');
    const { rels, summary } = await scanAll(root);
    expect(rels).toEqual([
      [...parts, 'deep.jpg'].join('/'),
      [...parts.slice(0, 70), 'mid.jpg'].join('/'),
    ]);
    expect(summary.dirs).toBe(90);
  });

  it('stops going down past 1,000 folders deep', async () => {
    const root = await freshDir();
    const deep = join(root, ...Array.from({ length: 1030 }, () => 'd'));
    await mkdir(deep, { recursive: true });
    await writeFile(join(root, 'd/top.jpg'), 'x');
    const { rels, summary } = await scanAll(root);
    expect(rels).toEqual(['d/top.jpg']);
    expect(summary.skippedBy).toEqual({ 'too-deep': 1 });
    expect(summary.dirs).toBe(1023); // the start and 1,023 below it
  });

  it('hands out batches of at most batchSize, and waits while the caller is busy', async () => {
    const root = await freshDir();
    await makeTree(root, 2500);
    const batchSize = 300;
    let taken = 0;
    let furthestAhead = 0;
    const { batches, summary, files } = await scanAll(root, {
      batchSize,
      threads: 1,
      progressMs: 5,
      onProgress: (p) => (furthestAhead = Math.max(furthestAhead, p.files - taken)),
      onBatch: async (batch) => {
        await new Promise((r) => setTimeout(r, 40));
        taken += batch.length;
      },
    });
    expect(files).toHaveLength(2500);
    expect(new Set(files.map((f) => f.rel)).size).toBe(2500);
    expect(Math.max(...batches)).toBeLessThanOrEqual(batchSize);
    expect(batches.reduce((a, b) => a + b)).toBe(2500);
    expect(summary.files).toBe(2500);
    // One batch with the caller, one waiting, one being filled: never more.
    expect(furthestAhead).toBeGreaterThan(0);
    expect(furthestAhead).toBeLessThanOrEqual(3 * batchSize);
  });

  it('finds the same files with several threads handing folders to each other', async () => {
    const root = await freshDir();
    await makeTree(root, 2000, 20);
    await mkdir(join(root, 'album-3/deeper/still'), { recursive: true });
    await writeFile(join(root, 'album-3/deeper/still/x.jpg'), 'x');
    await symlink('..', join(root, 'album-5/up'));
    // Entries a thread reads ahead while looking for a folder to hand out: all kinds.
    for (const dir of ['', 'album-0', 'album-7']) {
      await writeFile(join(root, dir, '.hidden'), 'x');
      await writeFile(Buffer.from(join(root, dir, 'caf\xe9.avi'), 'latin1'), 'x');
      await writeFile(join(root, dir, 'odd \uFFFD.jpg'), 'x');
    }
    const one = await scanAll(root, { threads: 1 });
    const three = await scanAll(root, { threads: 3, batchSize: 64 });
    expect(three.files).toEqual(one.files);
    expect(one.files).toHaveLength(2004);
    const same = ({ elapsedMs, examples, ...rest }: ScanSummary) => ({
      ...rest,
      elapsedMs: elapsedMs >= 0,
      examples: examples.map((e) => `${e.reason} ${e.rel}`).sort(),
    });
    expect(same(three.summary)).toEqual(same(one.summary));
    expect(one.summary).toMatchObject({
      files: 2004,
      dirs: 102,
      skipped: 4,
      hidden: 3,
      skippedBy: { link: 1, name: 3 },
    });
  });

  it('shares a big flat folder between threads without reading all of it ahead', async () => {
    const root = await freshDir();
    await makeTree(root, 6000, 6000);
    for (const d of ['a', 'b', 'c']) {
      await mkdir(join(root, 'album-0', d));
      await writeFile(join(root, 'album-0', d, 'x.jpg'), 'x');
    }
    const one = await scanAll(root, { threads: 1 });
    const two = await scanAll(root, { threads: 2 });
    expect(two.files).toEqual(one.files);
    expect(two.summary).toMatchObject({ files: 6003, dirs: 4 });
  });

  it('reports progress that never goes back, ending with the final counts', async () => {
    const root = await freshDir();
    await makeTree(root, 3000, 50);
    await symlink('/', join(root, 'link'));
    const seen: ScanProgress[] = [];
    const { summary } = await scanAll(root, {
      batchSize: 100,
      progressMs: 1,
      onProgress: (p) => seen.push(p),
      onBatch: () => new Promise((r) => setTimeout(r, 2)),
    });
    expect(seen.length).toBeGreaterThan(2);
    for (let i = 1; i < seen.length; i++) {
      for (const key of ['files', 'dirs', 'bytes', 'skipped'] as const) {
        expect(seen[i]![key]).toBeGreaterThanOrEqual(seen[i - 1]![key]);
      }
    }
    expect(seen.at(-1)).toEqual({ files: 3000, dirs: 60, bytes: 3000, skipped: 1 });
    expect(summary).toMatchObject({ files: 3000, dirs: 60, bytes: 3000, skipped: 1 });
  });

  it('cancels promptly with SCAN_CANCELLED, hands out nothing more and closes its folders', async () => {
    const root = await freshDir();
    await makeTree(root, 3000);
    const baseline = openFds();
    const controller = new AbortController();
    let batchesAfterAbort = 0;
    const started = Date.now();
    const scan = scanFolder(root, {
      signal: controller.signal,
      batchSize: 100,
      onBatch: () => {
        if (controller.signal.aborted) batchesAfterAbort++;
        else controller.abort();
      },
    });
    const err = await scan.then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(isKeepsakeError(err, 'SCAN_CANCELLED')).toBe(true);
    expect(Date.now() - started).toBeLessThan(5000);
    expect(batchesAfterAbort).toBe(0);
    expect(await settleFds(baseline)).toBeLessThanOrEqual(baseline);
  });

  it('cancels at once even while the caller is still working on a batch', async () => {
    const root = await freshDir();
    await makeTree(root, 500);
    const controller = new AbortController();
    const scan = scanFolder(root, {
      signal: controller.signal,
      batchSize: 10,
      onBatch: () => new Promise<void>(() => setTimeout(() => controller.abort(), 10)),
    });
    const started = Date.now();
    await expect(scan).rejects.toMatchObject({ code: 'SCAN_CANCELLED' });
    expect(Date.now() - started).toBeLessThan(2000);
    // An already aborted signal never starts a scan.
    await expect(
      scanFolder(root, { signal: AbortSignal.abort(), onBatch: () => {} }),
    ).rejects.toMatchObject({ code: 'SCAN_CANCELLED' });
  });

  it("stops with the caller's error when a batch fails", async () => {
    const root = await freshDir();
    await makeTree(root, 500);
    let calls = 0;
    await expect(
      scanFolder(root, {
        batchSize: 50,
        onBatch: () => {
          calls++;
          throw new Error('database is full');
        },
      }),
    ).rejects.toThrow('database is full');
    expect(calls).toBe(1);
  });

  // chmod 000 does not stop root: as root the scan runs in a child process as `nobody`.
  it('counts an unreadable subfolder as skipped; an unreadable start is an error', async (ctx) => {
    // Skipped (as root) when nobody cannot read this checkout, e.g. a clone in /root.
    const blocked = nobodyCannotRunCheckout();
    ctx.skip(blocked !== undefined, blocked);
    const root = await freshDir();
    await chmod(root, 0o755);
    await mkdir(join(root, 'tree/locked'), { recursive: true });
    await mkdir(join(root, 'tree/open'));
    await writeFile(join(root, 'tree/open/ok.jpg'), 'x');
    await writeFile(join(root, 'tree/locked/hidden-from-us.jpg'), 'x');
    await chmod(join(root, 'tree/locked'), 0o000);
    const script = join(root, 'scan-as-user.mts');
    await writeFile(
      script,
      `import { scanFolder } from ${JSON.stringify(join(engineRoot, 'src/library/scan.ts'))};
const rels = [];
try {
  const summary = await scanFolder(process.argv[2], { onBatch: (b) => { rels.push(...b.map((f) => f.rel)); } });
  console.log(JSON.stringify({ summary, rels }));
} catch (err) {
  console.log(JSON.stringify({ error: { code: err.code, message: err.message } }));
}
`,
    );
    await chmod(script, 0o644);
    const run = (path: string) =>
      new Promise<Record<string, unknown>>((resolve, reject) => {
        const child = spawn(process.execPath, ['--import', 'tsx', script, path], {
          cwd: engineRoot,
          stdio: ['ignore', 'pipe', 'pipe'],
          ...(isRoot ? { uid: 65534, gid: 65534 } : {}),
        });
        let out = '';
        let err = '';
        child.stdout.on('data', (d: Buffer) => (out += d.toString()));
        child.stderr.on('data', (d: Buffer) => (err += d.toString()));
        child.on('close', (code) =>
          code === 0 ? resolve(JSON.parse(out)) : reject(new Error(`exit ${code}: ${err}`)),
        );
      });
    const partial = await run(join(root, 'tree'));
    expect(partial.rels).toEqual(['open/ok.jpg']);
    expect(partial.summary).toMatchObject({
      files: 1,
      skipped: 1,
      skippedBy: { unreadable: 1 },
      examples: [{ rel: 'locked', reason: 'unreadable', detail: 'EACCES' }],
    });
    const fatal = await run(join(root, 'tree/locked'));
    expect(fatal.error).toMatchObject({ code: 'SOURCE_UNREADABLE' });
    expect((fatal.error as { message: string }).message).toContain(join(root, 'tree/locked'));
    await chmod(join(root, 'tree/locked'), 0o755);
  });
});
