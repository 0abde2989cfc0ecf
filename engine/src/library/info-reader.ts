// Reads what the library knows of each item (item-info.ts) in the background, after the
// item is in the vault: a few at a time, while the vault is open. It keeps no list of its
// own: the database says which items have a vault copy with nothing read from it yet (or
// read from an older copy, or by an older reader), so an engine that stops half way, or
// a vault locked mid-way, simply goes on where it was at the next start or unlock.

import { runConcurrently } from '../batch/concurrency';
import { stmt, type Db } from '../jobs/db';
import type { Vault } from '../vault/keyring';
import { sortKey } from './capture-date';
import {
  ITEM_INFO_VERSION,
  readItemInfo,
  type InfoTools,
  type ItemInfo,
  type ItemToRead,
} from './item-info';
import { objectPath } from './library';
import type { MediaKind } from './media-kind';
import type { Attention } from './photo-info';

export interface InfoProgress {
  /** Items read since this run began. */
  done: number;
  /** Items still to read, as last counted. */
  left: number;
}

interface PendingRow {
  id: string;
  rel: string;
  kind: MediaKind;
  mtime_ms: number;
  object_path: string;
  object_mtime: number;
}

interface InfoRow {
  file_id: string;
  captured_at: string;
  captured_from: ItemInfo['capturedFrom'];
  duration: number | null;
  width: number | null;
  height: number | null;
  rotation: number;
  display_aspect: string | null;
  video_codec: string | null;
  audio_codec: string | null;
  has_audio: number;
  make: string | null;
  model: string | null;
  attention: Attention | null;
  attention_detail: string | null;
}

const PENDING_WHERE = `f.object_path IS NOT NULL AND f.kind IN ('video', 'photo', 'audio')
  AND (i.file_id IS NULL OR i.version < ? OR i.object_mtime != f.object_mtime)`;

export class InfoReader {
  private running: Promise<InfoProgress> | undefined;
  private stopped = false;
  private progressNow: InfoProgress | undefined;

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

  /** What was read of these items (those read so far), by file id. */
  infoFor(fileIds: readonly string[]): Map<string, ItemInfo> {
    const found = new Map<string, ItemInfo>();
    const select = stmt(this.db, 'SELECT * FROM library_info WHERE file_id = ?');
    for (const id of fileIds) {
      const row = select.get(id) as InfoRow | undefined;
      if (row) found.set(id, toInfo(row));
    }
    return found;
  }

  private async readAll(vault: Vault, onItem?: () => void): Promise<InfoProgress> {
    const progress: InfoProgress = { done: 0, left: this.leftToRead() };
    this.progressNow = progress;
    const tools = await this.tools();
    for (;;) {
      const batch = stmt(
        this.db,
        `SELECT f.id, f.rel, f.kind, f.mtime_ms, f.object_path, f.object_mtime
         FROM library_files f LEFT JOIN library_info i ON i.file_id = f.id
         WHERE ${PENDING_WHERE} ORDER BY f.rowid LIMIT 64`,
      ).all(ITEM_INFO_VERSION) as PendingRow[];
      if (batch.length === 0 || this.stopped) break;
      await runConcurrently(batch, this.concurrency, async (row) => {
        if (this.stopped) return;
        const item: ItemToRead = {
          objectPath: objectPath(this.dataDir, row.object_path),
          rel: row.rel,
          kind: row.kind,
          mtimeMs: row.mtime_ms,
        };
        let info: ItemInfo;
        try {
          info = await readItemInfo(item, vault, tools);
        } catch (err) {
          // The vault copy itself cannot be read (damaged on disk, gone): recorded, so the
          // reader does not try it forever; a new copy is read again.
          info = {
            ...readFailed(item),
            attention: 'damaged',
            attentionDetail: `The vault copy of this file cannot be read (${(err as Error).message}).`,
          };
        }
        this.save(row, info);
        progress.done += 1;
        progress.left = Math.max(0, progress.left - 1);
        onItem?.();
      });
    }
    progress.left = this.leftToRead();
    return { ...progress };
  }

  private save(row: PendingRow, info: ItemInfo): void {
    stmt(
      this.db,
      `INSERT OR REPLACE INTO library_info (file_id, version, object_mtime, captured_at,
         captured_from, captured_key, duration, width, height, rotation, display_aspect,
         video_codec, audio_codec, has_audio, make, model, attention, attention_detail, read_at)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
    ).run(
      row.id,
      ITEM_INFO_VERSION,
      row.object_mtime,
      info.capturedAt,
      info.capturedFrom,
      sortKey(info.capturedAt),
      info.durationSeconds ?? null,
      info.width ?? null,
      info.height ?? null,
      info.rotation,
      info.displayAspect ?? null,
      info.videoCodec ?? null,
      info.audioCodec ?? null,
      info.hasAudio ? 1 : 0,
      info.make ?? null,
      info.model ?? null,
      info.attention ?? null,
      info.attentionDetail ?? null,
      Date.now(),
    );
  }
}

function readFailed(
  item: ItemToRead,
): Pick<ItemInfo, 'capturedAt' | 'capturedFrom' | 'rotation' | 'hasAudio'> {
  return {
    capturedAt: new Date(item.mtimeMs).toISOString(),
    capturedFrom: 'mtime',
    rotation: 0,
    hasAudio: false,
  };
}

function toInfo(row: InfoRow): ItemInfo {
  const info: ItemInfo = {
    capturedAt: row.captured_at,
    capturedFrom: row.captured_from,
    rotation: row.rotation,
    hasAudio: row.has_audio === 1,
  };
  if (row.duration !== null) info.durationSeconds = row.duration;
  if (row.width !== null) info.width = row.width;
  if (row.height !== null) info.height = row.height;
  if (row.display_aspect !== null) info.displayAspect = row.display_aspect;
  if (row.video_codec !== null) info.videoCodec = row.video_codec;
  if (row.audio_codec !== null) info.audioCodec = row.audio_codec;
  if (row.make !== null) info.make = row.make;
  if (row.model !== null) info.model = row.model;
  if (row.attention !== null) info.attention = row.attention;
  if (row.attention_detail !== null) info.attentionDetail = row.attention_detail;
  return info;
}
