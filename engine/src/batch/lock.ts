// One process at a time per batch folder: two runs saving their own manifests would
// lose each other's entries. The lock holds the owner's pid, so a lock left by a killed
// run (the resume case) is recognised as stale and taken over.

import { open, readFile, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { KeepsakeError, fromFsError } from '../errors';

export const LOCK_FILE = '.keepsake-lock';

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    // EPERM: the process exists but belongs to someone else.
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

export async function lockBatch(dest: string): Promise<() => Promise<void>> {
  const path = join(dest, LOCK_FILE);
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      const handle = await open(path, 'wx', 0o600);
      await handle.writeFile(String(process.pid));
      await handle.close();
      return () => rm(path, { force: true });
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw fromFsError(err, dest, 'write');
    }
    const owner = Number((await readFile(path, 'utf8').catch(() => '')).trim());
    if (Number.isInteger(owner) && owner > 0 && owner !== process.pid && alive(owner)) {
      throw new KeepsakeError(
        'BATCH_BUSY',
        `another keepsake process (pid ${owner}) is working on this batch`,
        {
          file: dest,
        },
      );
    }
    await rm(path, { force: true }); // stale: its owner is gone
  }
  throw new KeepsakeError('BATCH_BUSY', 'could not take the batch lock', { file: dest });
}
