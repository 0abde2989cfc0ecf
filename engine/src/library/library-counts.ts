// A folder's counts (files, bytes, vault copies, pending) for its summary, by SQL so that
// a folder of a million files is not loaded to be summarised, and kept for a moment.

import type { Db } from '../jobs/db';
import { countRows, type CountRow } from './library-queries';
import type { FolderSummary, LibraryFolder } from './library-types';

export type FolderCounts = Pick<
  FolderSummary,
  'total' | 'kinds' | 'encrypted' | 'pending' | 'vaultOnly'
>;

/**
 * The last counts of each folder. Counting a folder of a million files takes about a
 * second, and the UI asks every second while a scan or encryption runs: a count is
 * reused for five times as long as it took to make (at most 10 s), and dropped at once
 * when this process changes the folder. Small folders are always counted afresh.
 */
export class CountCache {
  private readonly counts = new Map<
    string,
    { key: string; at: number; took: number; rows: CountRow[] }
  >();

  constructor(private readonly db: Db) {}

  of(folder: LibraryFolder): FolderCounts {
    return totals(this.rows(folder));
  }

  /** This process changed the folder. */
  forget(folderId: string): void {
    this.counts.delete(folderId);
  }

  clear(): void {
    this.counts.clear();
  }

  private rows(folder: LibraryFolder): CountRow[] {
    const key = `${folder.source}|${folder.watching}`;
    const cached = this.counts.get(folder.id);
    const now = Date.now();
    if (cached?.key === key && now - cached.at < Math.min(cached.took * 5, 10_000)) {
      return cached.rows;
    }
    const rows = countRows(this.db, folder);
    this.counts.set(folder.id, { key, at: Date.now(), took: Date.now() - now, rows });
    return rows;
  }
}

function totals(rows: CountRow[]): FolderCounts {
  const kinds: FolderSummary['kinds'] = {};
  let files = 0;
  let bytes = 0;
  let encrypted = 0;
  let media = 0;
  let vaultOnly = 0;
  for (const row of rows) {
    kinds[row.kind] = { files: row.files, bytes: row.bytes };
    files += row.files;
    bytes += row.bytes;
    vaultOnly += row.vaultOnly;
    if (row.kind === 'other') continue;
    media += row.files;
    encrypted += row.encrypted;
  }
  return { total: { files, bytes }, kinds, encrypted, pending: media - encrypted, vaultOnly };
}
