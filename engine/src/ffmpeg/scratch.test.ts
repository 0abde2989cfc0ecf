import { chmod, mkdir, readdir, rm, stat, symlink, writeFile } from 'node:fs/promises';
import { statfsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { isKeepsakeError } from '../core/errors';
import { freshDir } from '../testing/tmp';
import { jobScratch, openScratch, scratchPath, wipeJobScratch } from './scratch';

const TMPFS = 0x01021994;
// /dev/shm is tmpfs on the Linux machines we test on; the test says so when it is not.
const shmIsTmpfs = (() => {
  try {
    return statfsSync('/dev/shm').type === TMPFS;
  } catch {
    return false;
  }
})();

async function caught(promise: Promise<unknown>): Promise<unknown> {
  return promise.then(
    () => undefined,
    (e: unknown) => e,
  );
}

describe('scratch', () => {
  it('chooses KEEPSAKE_SCRATCH, then the settings file, then /dev/shm on Linux, else the temp folder', () => {
    const env = { KEEPSAKE_SCRATCH: '/mnt/ram' };
    expect(scratchPath({ configured: '/cfg', env })).toBe('/mnt/ram');
    expect(scratchPath({ configured: '/cfg', env: {} })).toBe('/cfg');
    expect(scratchPath({ env: {}, platform: 'linux' })).toBe('/dev/shm');
    // macOS and Windows have no RAM folder: no media reaches the scratch, so a disk serves.
    expect(scratchPath({ env: {}, platform: 'darwin' })).toBe(tmpdir());
    expect(scratchPath({ env: {}, platform: 'win32' })).toBe(tmpdir());
  });

  it('accepts a disk-backed scratch without being told to (it holds no media), still private', async () => {
    const disk = join(await freshDir(), 'scratch');
    const scratch = await openScratch({ configured: disk, env: {} });
    expect(scratch).toEqual({
      root: join(disk, `keepsake-${process.getuid!()}`),
      ramFs: undefined,
    });
    expect((await stat(scratch.root)).mode & 0o777).toBe(0o700);
  });

  it.skipIf(!shmIsTmpfs)('accepts tmpfs and gives each job a private, wiped folder', async () => {
    // A shared base (mode 1777, like /dev/shm itself) is fine: our folder inside is private.
    const base = `/dev/shm/keepsake-test-${process.pid}-${Date.now()}`;
    await mkdir(base, { mode: 0o1777 });
    try {
      const scratch = await openScratch({ configured: base });
      const root = scratch.root;
      expect(root).toBe(join(base, `keepsake-${process.getuid!()}`));
      expect(scratch.ramFs).toBe('tmpfs');
      expect((await stat(root)).mode & 0o777).toBe(0o700);
      const dir = await jobScratch(scratch, 'jabc');
      await writeFile(join(dir, 'leftover.mp4'), 'x');
      // A second attempt of the same job starts from an empty folder.
      expect(await readdir(await jobScratch(scratch, 'jabc'))).toEqual([]);
      await wipeJobScratch(scratch, 'jabc');
      expect(await readdir(root)).toEqual([]);
    } finally {
      await rm(base, { recursive: true, force: true });
    }
  });

  it('refuses a private folder that is a link or open to other users', async () => {
    // Another local user could plant either in a shared base such as /dev/shm.
    const base = await freshDir();
    const own = join(base, `keepsake-${process.getuid!()}`);
    const elsewhere = join(base, 'elsewhere');
    await mkdir(elsewhere, { mode: 0o700 });
    await symlink(elsewhere, own);
    const viaLink = await caught(openScratch({ configured: base }));
    expect(isKeepsakeError(viaLink, 'SCRATCH_UNSAFE')).toBe(true);
    await rm(own);
    await mkdir(own, { mode: 0o700 });
    await chmod(own, 0o777);
    const shared = await caught(openScratch({ configured: base }));
    expect(isKeepsakeError(shared, 'SCRATCH_UNSAFE')).toBe(true);
    expect(String(shared)).toMatch(/mode 0700/);
  });
});
