// Reads what the library knows of each item (item-info.ts) in the background, after the
// item is in the vault: a few at a time, while the vault is open. It keeps no list of its
// own: the database says which items have a vault copy with nothing read from it yet (or
// read from an older copy, or by an older reader), so an engine that stops half way, or
// a vault locked mid-way, simply goes on where it was at the next start or unlock.

import { runConcurrently } from '../core/concurrency';
import { stmt, type Db } from '../jobs/db';
import type { Vault } from '../vault/keyring';
import {
  ITEM_INFO_VERSION,
  readItemInfo,
  type InfoTools,
  type ItemInfo,
  type ItemToRead,
} from './item-info';
import { openInfo, sealInfo } from './info-seal';
import { objectPath } from './library';
import type { MediaKind } from '../vault/media-kind';

export interface InfoProgress {
  /** Items read since this run began. */
  done: number;
  /**
   * Items that could not be read now for a reason that is not theirs (FFmpeg missing or
   * crashed, the vault copy unreadable): left unread, to be tried at the next run.
   */
  failed: number;
  /** Items still to read, as last counted. */
  left: number;
}

interface PendingRow {
  rowid: number;
  id: string;
  rel: string;
  kind: MediaKind;
  mtime_ms: number;
  object_path: string;
  object_mtime: number;
}

const PENDING_WHERE = `f.object_path IS NOT NULL AND f.kind IN ('video', 'photo', 'audio')
  AND (i.file_id IS NULL OR i.version < ? OR i.object_mtime != f.object_mtime)`;

export class InfoReader {
  private running: Promise<InfoProgress> | undefined;
  private stopped = false;
  private progressNow: InfoProgress | undefined;
  /** Why the last item that could not be read was not (for the log and the CLI). */
  lastError: string | undefined;

  constructor(
    private readonly db: Db,
    private readonly dataDir: string,
    private readonly tools: () => Promise<InfoTools>,
    private readonly concurrency = 2,
  ) {}

  /** Items with a vault copy and nothing (or something stale) read from it. */
  leftToRead(): number {
    return stmt(
      this.db,
      `SELECT COUNT(*) FROM library_files f LEFT JOIN library_info i ON i.file_id = f.id
       WHERE ${PENDING_WHERE}`,
    )
      .pluck()
      .get(ITEM_INFO_VERSION) as number;
  }

  /** The current run's progress, or undefined when nothing is being read. */
  progress(): InfoProgress | undefined {
    return this.progressNow && { ...this.progressNow };
  }

  /**
   * Reads every item left to read; resolves when none is left or `stop()` was called. A
   * call while a run is going joins it (its `onItem` is then not called); that run reads
   * items added meanwhile too, as it asks the database for more until none is left.
   */
  run(vault: Vault, onItem?: () => void): Promise<InfoProgress> {
    this.stopped = false;
    // The running loop asks the database for more until none is left: it finds new items.
    if (this.running) return this.running;
    this.running = this.readAll(vault, onItem).finally(() => {
      this.running = undefined;
      this.progressNow = undefined;
    });
    return this.running;
  }

  /** Stops after the items being read now (the vault is locking, the engine stopping). */
  async stop(): Promise<void> {
    this.stopped = true;
    await this.running?.catch(() => undefined);
  }

  /**
   * What was read of these items (those read so far), by file id; it opens only with the
   * vault (sealed, see info-seal.ts), so a locked vault shows none.
   */
  infoFor(fileIds: readonly string[], vault: Vault | undefined): Map<string, ItemInfo> {
    const found = new Map<string, ItemInfo>();
    if (!vault) return found;
    const select = stmt(this.db, 'SELECT sealed FROM library_info WHERE file_id = ?').pluck();
    for (const id of fileIds) {
      const sealed = select.get(id) as Buffer | undefined;
      const info = sealed && openInfo(vault, id, sealed);
      if (info) found.set(id, info);
    }
    return found;
  }

  /** Whether anything was read of any of these items (without opening it). */
  anyRead(fileIds: readonly string[]): boolean {
    const select = stmt(this.db, 'SELECT 1 FROM library_info WHERE file_id = ?').pluck();
    return fileIds.some((id) => select.get(id) !== undefined);
  }

  private async readAll(vault: Vault, onItem?: () => void): Promise<InfoProgress> {
    const progress: InfoProgress = { done: 0, failed: 0, left: this.leftToRead() };
    this.progressNow = progress;
    const tools = await this.tools();
    // Passes over the table in rowid order, so an item that fails is passed over, not met
    // again at once; another pass picks up items added meanwhile, until a pass reads none.
    for (let readThisPass = 1; readThisPass > 0 && !this.stopped;) {
      readThisPass = 0;
      for (let after = 0; !this.stopped;) {
        const batch = stmt(
          this.db,
          `SELECT f.rowid, f.id, f.rel, f.kind, f.mtime_ms, f.object_path, f.object_mtime
           FROM library_files f LEFT JOIN library_info i ON i.file_id = f.id
           WHERE ${PENDING_WHERE} AND f.rowid > ? ORDER BY f.rowid LIMIT 64`,
        ).all(ITEM_INFO_VERSION, after) as PendingRow[];
        if (batch.length === 0) break;
        after = batch[batch.length - 1]!.rowid;
        await runConcurrently(batch, this.concurrency, async (row) => {
          if (this.stopped) return;
          const item: ItemToRead = {
            objectPath: objectPath(this.dataDir, row.object_path),
            rel: row.rel,
            kind: row.kind,
            mtimeMs: row.mtime_ms,
          };
          try {
            this.save(vault, row, await readItemInfo(item, vault, tools));
            progress.done += 1;
            readThisPass += 1;
            progress.left = Math.max(0, progress.left - 1);
          } catch (err) {
            progress.failed += 1;
            this.lastError = err instanceof Error ? err.message : String(err);
          }
          onItem?.();
        });
      }
      // Items that failed stay pending; only new ones make another pass worth it.
      if (progress.failed > 0 && readThisPass === 0) break;
      readThisPass = Math.min(readThisPass, this.leftToRead() - progress.failed);
    }
    progress.left = this.leftToRead();
    return { ...progress };
  }

  private save(vault: Vault, row: PendingRow, info: ItemInfo): void {
    stmt(
      this.db,
      `INSERT OR REPLACE INTO library_info (file_id, version, object_mtime, sealed, read_at)
       VALUES (?, ?, ?, ?, ?)`,
    ).run(row.id, ITEM_INFO_VERSION, row.object_mtime, sealInfo(vault, row.id, info), Date.now());
  }
}
