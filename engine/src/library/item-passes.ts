// The background run the InfoReader and the PreviewMaker share: passes over the library's
// items that the database says are waiting, a few at a time. It keeps no list of its
// own, so a run stopped half way (a vault locked, an engine stopped) goes on where it was
// at the next run. What "waiting" means, and what is done to each item, is the caller's.

import { runConcurrently } from '../core/concurrency';
import { stmt, type Db } from '../jobs/db';
import type { Vault } from '../vault/keyring';
import type { MediaKind } from '../vault/media-kind';
import type { InfoTools } from './item-info';

export interface PassProgress {
  /** Items done (read, or given pictures or a recorded reason for none) since this run began. */
  done: number;
  /**
   * Items left waiting for a reason that is not theirs (FFmpeg missing or crashed, the
   * vault copy unreadable), to be tried at the next run.
   */
  failed: number;
  /** Items still waiting, as last counted. */
  left: number;
}

/** A library item with a vault copy, as a run hands it to the item's work. */
export interface WaitingItem {
  rowid: number;
  id: string;
  rel: string;
  kind: MediaKind;
  mtime_ms: number;
  object_path: string;
  object_mtime: number;
}

/**
 * Which items are waiting: those with a vault copy, of these kinds, with no row in
 * `doneIn` (keyed by `file_id`) made from this vault copy (`object_mtime`) by this
 * `version` of the code or later.
 */
export interface WaitingItems {
  doneIn: 'library_info' | 'library_preview_state';
  kinds: readonly MediaKind[];
  version: number;
}

/** Does an item's work; a throw leaves the item waiting (a failure that is not its own). */
export type ItemHandler = (item: WaitingItem) => Promise<void>;

/**
 * A run over the library's waiting items, for a class to extend with what is done to each
 * (`start`). Its public side (`run`, `stop`, `progress`, `lastError`) is the extending
 * class's.
 */
export abstract class ItemPasses {
  private running: Promise<PassProgress> | undefined;
  private stopped = false;
  private progressNow: PassProgress | undefined;
  /** Why the last item left waiting was (for the log and the CLI). */
  lastError: string | undefined;

  constructor(
    protected readonly db: Db,
    protected readonly dataDir: string,
    /** FFmpeg and FFprobe, asked for when an item needs them. */
    protected readonly tools: () => Promise<InfoTools>,
    private readonly concurrency = 2,
  ) {}

  /** Which items are waiting (read when a run or a count needs it, not at construction). */
  protected abstract readonly waiting: WaitingItems;

  /**
   * Runs once a run has counted what is waiting, before the first item: gives what is
   * done to each item of this run.
   */
  protected abstract start(vault: Vault): Promise<ItemHandler>;

  /** Items waiting now. */
  protected waitingNow(): number {
    return stmt(this.db, `SELECT COUNT(*) ${this.waitingSql()}`)
      .pluck()
      .get(...this.waitingParams()) as number;
  }

  private waitingSql(): string {
    const { doneIn, kinds } = this.waiting;
    return `FROM library_files f LEFT JOIN ${doneIn} d ON d.file_id = f.id
      WHERE f.object_path IS NOT NULL AND f.kind IN (${kinds.map(() => '?').join(', ')})
      AND (d.file_id IS NULL OR d.version < ? OR d.object_mtime != f.object_mtime)`;
  }

  private waitingParams(): unknown[] {
    return [...this.waiting.kinds, this.waiting.version];
  }

  /** The current run's progress, or undefined when no run is going. */
  progress(): PassProgress | undefined {
    return this.progressNow && { ...this.progressNow };
  }

  /**
   * Does every item waiting; resolves when none is left or `stop()` was called. A call
   * while a run is going joins it (its `onItem` is then not called); that run finds items
   * added meanwhile, as it asks the database for more until none is left.
   */
  run(vault: Vault, onItem?: () => void): Promise<PassProgress> {
    this.stopped = false;
    if (this.running) return this.running;
    this.running = this.all(vault, onItem).finally(() => {
      this.running = undefined;
      this.progressNow = undefined;
    });
    return this.running;
  }

  /** Stops after the items being done now (the vault is locking, the engine stopping). */
  async stop(): Promise<void> {
    this.stopped = true;
    await this.running?.catch(() => undefined);
  }

  private async all(vault: Vault, onItem?: () => void): Promise<PassProgress> {
    const progress: PassProgress = { done: 0, failed: 0, left: this.waitingNow() };
    this.progressNow = progress;
    const page = `SELECT f.rowid, f.id, f.rel, f.kind, f.mtime_ms, f.object_path, f.object_mtime
      ${this.waitingSql()} AND f.rowid > ? ORDER BY f.rowid LIMIT 64`;
    const params = this.waitingParams();
    const handle = await this.start(vault);
    // Passes over the table in rowid order, so an item that fails is passed over, not met
    // again at once; another pass picks up items added meanwhile, until a pass does none.
    for (let doneThisPass = 1; doneThisPass > 0 && !this.stopped;) {
      doneThisPass = 0;
      for (let after = 0; !this.stopped;) {
        const batch = stmt(this.db, page).all(...params, after) as WaitingItem[];
        if (batch.length === 0) break;
        after = batch[batch.length - 1]!.rowid;
        await runConcurrently(batch, this.concurrency, async (row) => {
          if (this.stopped) return;
          try {
            await handle(row);
            progress.done += 1;
            doneThisPass += 1;
            progress.left = Math.max(0, progress.left - 1);
          } catch (err) {
            progress.failed += 1;
            this.lastError = err instanceof Error ? err.message : String(err);
          }
          onItem?.();
        });
      }
      // Items that failed stay waiting; only new ones make another pass worth it.
      if (progress.failed > 0 && doneThisPass === 0) break;
      doneThisPass = Math.min(doneThisPass, this.waitingNow() - progress.failed);
    }
    progress.left = this.waitingNow();
    return { ...progress };
  }
}
