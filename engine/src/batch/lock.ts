// One process at a time per batch folder: two runs saving their own manifests would
// lose each other's entries. The lock holds the owner's pid, so a lock left by a killed
// run (the resume case) is recognised as stale and taken over.
//
// Both steps are atomic, so two runs that start together never both hold the lock:
// - taking a free lock links a complete lock file into place (a link fails if the name
//   exists; the content is written before, so nobody ever reads a half-written lock);
// - taking over a stale lock renames it to a name private to this run and checks that
//   what it moved is the very lock it judged stale. If another run got there first, what
//   was moved is that run's fresh lock: it is linked back, and this run is the one busy.

import { link, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { KeepsakeError, fromFsError } from '../core/errors';
import { hexId, tempSuffix } from '../core/ids';

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

const read = (path: string) => readFile(path, 'utf8').catch(() => undefined);

function busy(dest: string, owner: string | undefined): KeepsakeError {
  const pid = owner?.split(' ')[0];
  return new KeepsakeError(
    'BATCH_BUSY',
    pid
      ? `another keepsake process (pid ${pid}) is working on this batch`
      : 'another keepsake process is working on this batch',
    { file: dest },
  );
}

export async function lockBatch(dest: string): Promise<() => Promise<void>> {
  const path = join(dest, LOCK_FILE);
  // The pid says who holds it; the nonce makes each lock file's content unique.
  const mine = `${process.pid} ${hexId(8)}`;
  const staged = join(dest, `${LOCK_FILE}.${tempSuffix()}`);
  try {
    await writeFile(staged, mine, { mode: 0o600, flag: 'wx' });
  } catch (err) {
    throw fromFsError(err, dest, 'write');
  }
  try {
    for (let attempt = 0; attempt < 3; attempt++) {
      try {
        await link(staged, path);
        const unlock = async () => {
          // Only our own lock: never one that another run holds.
          if ((await read(path)) === mine) await rm(path, { force: true });
        };
        return unlock;
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw fromFsError(err, dest, 'write');
      }
      const seen = await read(path);
      if (seen === undefined) continue; // released meanwhile: try again
      const owner = Number(seen.trim().split(' ')[0]);
      if (Number.isInteger(owner) && owner > 0 && owner !== process.pid && alive(owner)) {
        throw busy(dest, seen);
      }
      // Stale: its owner is gone. Move it aside, then check that it is what was judged.
      const aside = join(dest, `${LOCK_FILE}.stale-${tempSuffix()}`);
      try {
        await rename(path, aside);
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code === 'ENOENT') continue; // another took it
        throw fromFsError(err, dest, 'write');
      }
      const moved = await read(aside);
      if (moved !== seen) {
        // A fresh lock of another run, taken between our read and rename: put it back.
        await link(aside, path).catch(() => undefined);
        await rm(aside, { force: true });
        throw busy(dest, moved);
      }
      await rm(aside, { force: true });
    }
    throw new KeepsakeError('BATCH_BUSY', 'could not take the batch lock', { file: dest });
  } finally {
    await rm(staged, { force: true });
  }
}
