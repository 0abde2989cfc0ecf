// Leftovers of killed runs: a `decrypt` or `batch-decrypt` killed mid-file leaves its
// hidden `.ks-tmp-*` sibling, which holds partial plaintext (hundreds of MB). The next
// run in that folder removes those whose writer is gone, and says how much it removed.

import { lstat, readdir, rm } from 'node:fs/promises';
import { isTempName, tempOwner } from './atomic';

export interface CleanedTemps {
  files: number;
  bytes: number;
}

/** A temp file without a pid in its name (an older Keepsake) counts as gone after this. */
const UNNAMED_AGE_MS = 60 * 60 * 1000;

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    // EPERM: the process exists but belongs to someone else.
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/**
 * Removes the temp files in `dir` (not below it) that a dead process left: their writer's
 * pid no longer runs, or, for names without one, they are over an hour old. A live run's
 * file in flight is left alone. Links and folders are never touched.
 */
export async function removeStaleTemps(dir: string | Buffer): Promise<CleanedTemps> {
  const cleaned: CleanedTemps = { files: 0, bytes: 0 };
  let names: Buffer[];
  try {
    names = (await readdir(dir, { encoding: 'buffer' })) as Buffer[];
  } catch {
    return cleaned; // no folder yet: nothing left over
  }
  const base = Buffer.isBuffer(dir) ? dir : Buffer.from(dir);
  for (const raw of names) {
    const name = raw.toString('latin1');
    if (!isTempName(name)) continue;
    const path = Buffer.concat([base, Buffer.from('/'), raw]);
    const info = await lstat(path).catch(() => undefined);
    if (!info?.isFile()) continue;
    const owner = tempOwner(name);
    const gone = owner === undefined ? Date.now() - info.mtimeMs > UNNAMED_AGE_MS : !alive(owner);
    if (!gone) continue;
    await rm(path, { force: true });
    cleaned.files++;
    cleaned.bytes += info.size;
  }
  return cleaned;
}

/** Sums what several folders' cleanups removed. */
export function addCleaned(a: CleanedTemps, b: CleanedTemps): CleanedTemps {
  return { files: a.files + b.files, bytes: a.bytes + b.bytes };
}
