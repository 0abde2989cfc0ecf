// The batch walk keeps to the folder it is given: links are named and left, wherever they
// point (a link to `/` once took it through the whole computer, /proc and /sys included,
// listing every file in memory), and the computer's own folders are never entered.

import { execFileSync } from 'node:child_process';
import { mkdir, mkdtemp, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { isKeepsakeError } from '../core/errors';
import { walkTree } from './walk';

const dirs: string[] = [];
afterEach(async () => {
  for (const dir of dirs.splice(0)) {
    try {
      execFileSync('umount', [join(dir, 'src/kernel')], { stdio: 'ignore' });
    } catch {
      // Not mounted.
    }
    await rm(dir, { recursive: true, force: true });
  }
});

async function tree(): Promise<{ dir: string; src: string }> {
  const dir = await mkdtemp(join(tmpdir(), 'keepsake-walk-'));
  dirs.push(dir);
  const src = join(dir, 'src');
  await mkdir(join(src, 'kids/summer'), { recursive: true });
  await writeFile(join(src, 'kids/k.mp4'), 'k');
  await writeFile(join(src, 'kids/summer/s.jpg'), 's');
  await mkdir(join(dir, 'elsewhere'));
  await writeFile(join(dir, 'elsewhere/private.txt'), 'not part of the batch');
  return { dir, src };
}

const names = (bufs: { rel: Buffer }[]) => bufs.map((b) => b.rel.toString('utf8')).sort();

describe('the batch walk', () => {
  it('names links and leaves them, wherever they point, and skips special files', async () => {
    const { dir, src } = await tree();
    await symlink('/', join(src, 'whole-computer'));
    await symlink(join(dir, 'elsewhere'), join(src, 'shortcut'));
    await symlink('kids/k.mp4', join(src, 'k-again.mp4'));
    await symlink('..', join(src, 'kids/back-up'));
    execFileSync('mkfifo', [join(src, 'kids/pipe')]);

    const walk = await walkTree(src);
    expect(names(walk.files)).toEqual(['kids/k.mp4', 'kids/summer/s.jpg']);
    expect(names(walk.dirs)).toEqual(['kids', 'kids/summer']);
    expect(walk.errors).toEqual([]);
    expect(walk.skipped.map((s) => `${s.rel.toString('utf8')} ${s.kind}`).sort()).toEqual([
      'k-again.mp4 link',
      'kids/back-up link',
      'kids/pipe special',
      'shortcut link',
      'whole-computer link',
    ]);
    expect(walk.skipped.find((s) => s.kind === 'link')!.reason).toContain('not followed');
  });

  it('walks a source given through a link, and refuses a file or a system folder as the source', async () => {
    const { dir, src } = await tree();
    await symlink(src, join(dir, 'via-link'));
    expect(names((await walkTree(join(dir, 'via-link'))).files)).toEqual([
      'kids/k.mp4',
      'kids/summer/s.jpg',
    ]);
    for (const [source, message] of [
      [join(src, 'kids/k.mp4'), 'that is a file'],
      ['/proc', "one of the computer's system folders"],
      [join(dir, 'missing'), 'no such file'],
    ] as const) {
      const err = await walkTree(source).catch((e: unknown) => e);
      expect(isKeepsakeError(err), source).toBe(true);
      expect(String((err as Error).message).toLowerCase()).toContain(message.toLowerCase());
    }
  });

  it.skipIf(process.getuid?.() !== 0 || process.platform !== 'linux')(
    'skips a pseudo file system mounted inside the source (needs root to mount proc)',
    async () => {
      const { src } = await tree();
      await mkdir(join(src, 'kernel'));
      execFileSync('mount', ['-t', 'proc', 'proc', join(src, 'kernel')]);
      const walk = await walkTree(src);
      expect(names(walk.files)).toEqual(['kids/k.mp4', 'kids/summer/s.jpg']);
      expect(walk.skipped.map((s) => `${s.rel.toString('utf8')} ${s.kind}`)).toEqual([
        'kernel system',
      ]);
    },
  );
});
