// Reads what the library knows of each item (item-info.ts) in the background, after the
// item is in the vault: a few at a time, while the vault is open. It keeps no list of its
// own: the database says which items have a vault copy with nothing read from it yet (or
// read from an older copy, or by an older reader), so an engine that stops half way, or
// a vault locked mid-way, simply goes on where it was at the next start or unlock.

import { stmt } from '../jobs/db';
import type { Vault } from '../vault/keyring';
import { ITEM_INFO_VERSION, readItemInfo, type ItemInfo, type ItemToRead } from './item-info';
import { openInfo, sealInfo } from './info-seal';
import { ItemPasses, type ItemHandler, type WaitingItem, type WaitingItems } from './item-passes';
import { objectPath } from './library';

/**
 * `run(vault, onItem)` reads every item left to read (see ItemPasses, which also gives
 * `stop()`, `progress()` and `lastError`).
 */
export class InfoReader extends ItemPasses {
  protected readonly waiting: WaitingItems = {
    doneIn: 'library_info',
    kinds: ['video', 'photo', 'audio'],
    version: ITEM_INFO_VERSION,
  };

  /** Items with a vault copy and nothing (or something stale) read from it. */
  leftToRead(): number {
    return this.waitingNow();
  }

  protected async start(vault: Vault): Promise<ItemHandler> {
    const tools = await this.tools();
    return async (row) => {
      const item: ItemToRead = {
        objectPath: objectPath(this.dataDir, row.object_path),
        rel: row.rel,
        kind: row.kind,
        mtimeMs: row.mtime_ms,
      };
      this.save(vault, row, await readItemInfo(item, vault, tools));
    };
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

  private save(vault: Vault, row: WaitingItem, info: ItemInfo): void {
    stmt(
      this.db,
      `INSERT OR REPLACE INTO library_info (file_id, version, object_mtime, sealed, read_at)
       VALUES (?, ?, ?, ?, ?)`,
    ).run(row.id, ITEM_INFO_VERSION, row.object_mtime, sealInfo(vault, row.id, info), Date.now());
  }
}
