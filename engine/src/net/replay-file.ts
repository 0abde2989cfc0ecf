// The replay cache across restarts of `keepsake serve`.
//
//   replay-cache          what the cache held when the server last stopped cleanly
//   replay-cache.running  exists while a server runs on this data folder
//
// A clean stop (after the HTTP side closed) saves the cache and removes the marker; the
// next start takes the cache back, so a request the last run accepted stays refused. A
// marker found at start means the last run died (kill -9, a crash, power loss) without
// saving: whatever it accepted in its last minute is unknown, so the new cache refuses
// every timestamp up to the second it started. A client caught by that signs again a
// second later (client.ts does so by itself).

import { readFile, rm, stat } from 'node:fs/promises';
import { fromFsError } from '../core/errors';
import { writeFileAtomic } from '../fs/atomic';
import { ReplayCache, type ReplayCacheOptions } from './replay-cache';

export interface PersistentReplayCache {
  cache: ReplayCache;
  /** True when the last run did not stop cleanly (the cache refuses older timestamps). */
  afterCrash: boolean;
  /** Saves the cache and clears the marker: call once nothing more is accepted. */
  save(): Promise<void>;
}

export async function openReplayCache(
  path: string,
  options: Omit<ReplayCacheOptions, 'restore' | 'since'> = {},
): Promise<PersistentReplayCache> {
  const marker = `${path}.running`;
  const afterCrash = await exists(marker);
  let saved: Buffer | undefined;
  try {
    saved = await readFile(path);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw fromFsError(err, path, 'read');
  }
  const now = options.now ?? (() => Date.now() / 1000);
  // Whole seconds, as timestamps are; the second of the start itself is refused too, as
  // the dead run may have accepted a request stamped with it.
  const since = afterCrash ? Math.floor(now()) + 1 : 0;
  let cache: ReplayCache;
  try {
    cache = new ReplayCache({ ...options, since, restore: saved });
  } catch {
    cache = new ReplayCache({ ...options, since: Math.floor(now()) + 1 }); // damaged
  }
  // The marker first: a crash from here on is known as one at the next start.
  await writeFileAtomic(marker, `${process.pid}\n`);
  await rm(path, { force: true });
  return {
    cache,
    afterCrash,
    async save() {
      await writeFileAtomic(path, cache.snapshot());
      await rm(marker, { force: true });
    },
  };
}

async function exists(path: string): Promise<boolean> {
  try {
    await stat(path);
    return true;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return false;
    throw fromFsError(err, path, 'read');
  }
}
