// Makes the library's pictures (a photo's thumbnail and preview, a video's poster and
// sprite) in the background, after each item is in the vault: a few at a time, while the
// vault is open. Like the InfoReader (info-reader.ts) it keeps no list of its own: the
// database says which items have a vault copy and no pictures made from it (or made from
// an older copy, or by older code), so an engine stopped half way, or a vault locked
// mid-way, goes on where it was at the next start or unlock.
//
// A file that cannot give pictures (a photo that will not decode, a video without a
// picture, a decompression bomb, HEIC in this build) gets its state recorded and is not
// tried again; a failure that is not the file's (FFmpeg missing or crashed, the vault
// copy unreadable) leaves the item waiting for the next run. Neither stops the queue.

import { runConcurrently } from '../core/concurrency';
import { stmt, type Db } from '../jobs/db';
import type { Vault } from '../vault/keyring';
import type { MediaKind } from '../vault/media-kind';
import { VaultFile } from '../vault/vault-file';
import { openInfo } from './info-seal';
import { ITEM_INFO_VERSION, PHOTO_BYTES_LIMIT, type InfoTools } from './item-info';
import { objectPath } from './library';
import { makePhotoPictures } from './preview-photo';
import {
  previewBytes,
  saveFailure,
  savePictures,
  sweepPictures,
  withGridPicture,
  type PreviewBytes,
} from './preview-store';
import {
  isFailure,
  type MadePicture,
  type PictureFailure,
  type PreviewKind,
} from './preview-types';
import { makeVideoPictures, type KnownVideo } from './preview-video';

/** Bump when the pictures made change: items made by an older version are made again. */
export const PREVIEW_VERSION = 1;

export interface PreviewProgress {
  /** Items given pictures, or a recorded reason for none, since this run began. */
  done: number;
  /** Items left waiting for a reason that is not theirs, to be tried at the next run. */
  failed: number;
  /** Items still waiting, as last counted. */
  left: number;
}

interface PendingRow {
  rowid: number;
  id: string;
  rel: string;
  kind: MediaKind;
  object_path: string;
  object_mtime: number;
}

const PENDING_WHERE = `f.object_path IS NOT NULL AND f.kind IN ('video', 'photo')
  AND (s.file_id IS NULL OR s.version < ? OR s.object_mtime != f.object_mtime)`;

export class PreviewMaker {
  private running: Promise<PreviewProgress> | undefined;
  private stopped = false;
  private progressNow: PreviewProgress | undefined;
  /** Why the last item left waiting was (for the log and the CLI). */
  lastError: string | undefined;

  constructor(
    private readonly db: Db,
    private readonly dataDir: string,
    /** FFmpeg and FFprobe, asked for at the first video (photos need neither). */
    private readonly tools: () => Promise<InfoTools>,
    private readonly concurrency = 2,
  ) {}

  /** Items with a vault copy and no pictures (nor a reason for none) made from it. */
  leftToMake(): number {
    return stmt(
      this.db,
      `SELECT COUNT(*) FROM library_files f LEFT JOIN library_preview_state s ON s.file_id = f.id
       WHERE ${PENDING_WHERE}`,
    )
      .pluck()
      .get(PREVIEW_VERSION) as number;
  }

  /** The current run's progress, or undefined when nothing is being made. */
  progress(): PreviewProgress | undefined {
    return this.progressNow && { ...this.progressNow };
  }

  /**
   * Makes the pictures of every item waiting; resolves when none is left or `stop()` was
   * called. A call while a run is going joins it (its `onItem` is then not called); that
   * run finds items added meanwhile, as it asks the database for more until none is left.
   */
  run(vault: Vault, onItem?: () => void): Promise<PreviewProgress> {
    this.stopped = false;
    if (this.running) return this.running;
    this.running = this.makeAll(vault, onItem).finally(() => {
      this.running = undefined;
      this.progressNow = undefined;
    });
    return this.running;
  }

  /** Stops after the items being made now (the vault is locking, the engine stopping). */
  async stop(): Promise<void> {
    this.stopped = true;
    await this.running?.catch(() => undefined);
  }

  /**
   * An item's picture decrypted in memory (its grid picture unless `kind` is given), for
   * the routes and the CLI to hand out; NOT_FOUND says why there is none.
   */
  picture(vault: Vault, fileId: string, kind?: PreviewKind): Promise<PreviewBytes> {
    return previewBytes(this.db, this.dataDir, vault, fileId, kind);
  }

  /** Of these items, those with a grid picture (thumbnail or poster); needs no vault. */
  withPicture(fileIds: readonly string[]): Set<string> {
    return withGridPicture(this.db, fileIds);
  }

  private async makeAll(vault: Vault, onItem?: () => void): Promise<PreviewProgress> {
    const progress: PreviewProgress = { done: 0, failed: 0, left: this.leftToMake() };
    this.progressNow = progress;
    // Pictures of items that left the library, and of runs that died before recording.
    await sweepPictures(this.db, this.dataDir).catch(() => undefined);
    let tools: Promise<InfoTools> | undefined;
    const toolsOnce = () => (tools ??= this.tools());
    // Passes over the table in rowid order, so an item that fails is passed over, not met
    // again at once; another pass picks up items added meanwhile, until a pass makes none.
    for (let madeThisPass = 1; madeThisPass > 0 && !this.stopped;) {
      madeThisPass = 0;
      for (let after = 0; !this.stopped;) {
        const batch = stmt(
          this.db,
          `SELECT f.rowid, f.id, f.rel, f.kind, f.object_path, f.object_mtime
           FROM library_files f LEFT JOIN library_preview_state s ON s.file_id = f.id
           WHERE ${PENDING_WHERE} AND f.rowid > ? ORDER BY f.rowid LIMIT 64`,
        ).all(PREVIEW_VERSION, after) as PendingRow[];
        if (batch.length === 0) break;
        after = batch[batch.length - 1]!.rowid;
        await runConcurrently(batch, this.concurrency, async (row) => {
          if (this.stopped) return;
          try {
            await this.makeOne(vault, row, toolsOnce);
            progress.done += 1;
            madeThisPass += 1;
            progress.left = Math.max(0, progress.left - 1);
          } catch (err) {
            progress.failed += 1;
            this.lastError = err instanceof Error ? err.message : String(err);
          }
          onItem?.();
        });
      }
      // Items that failed stay waiting; only new ones make another pass worth it.
      if (progress.failed > 0 && madeThisPass === 0) break;
      madeThisPass = Math.min(madeThisPass, this.leftToMake() - progress.failed);
    }
    progress.left = this.leftToMake();
    return { ...progress };
  }

  private async makeOne(
    vault: Vault,
    row: PendingRow,
    tools: () => Promise<InfoTools>,
  ): Promise<void> {
    const file = await VaultFile.open(objectPath(this.dataDir, row.object_path), { vault });
    let made: MadePicture[] | PictureFailure;
    try {
      made =
        row.kind === 'photo'
          ? await photoPictures(file)
          : await makeVideoPictures(
              file,
              await tools(),
              row.rel,
              knownVideoOf(this.db, vault, row),
            );
    } finally {
      await file.close();
    }
    const source = { fileId: row.id, objectMtime: row.object_mtime };
    if (isFailure(made)) await saveFailure(this.db, this.dataDir, source, PREVIEW_VERSION, made);
    else await savePictures(this.db, this.dataDir, vault, source, PREVIEW_VERSION, made);
  }
}

/**
 * What the InfoReader read of this vault copy, when it found a picture stream: the length
 * to sample, without probing the video again.
 */
function knownVideoOf(db: Db, vault: Vault, row: PendingRow): KnownVideo | undefined {
  const sealed = stmt(
    db,
    'SELECT sealed FROM library_info WHERE file_id = ? AND version = ? AND object_mtime = ?',
  )
    .pluck()
    .get(row.id, ITEM_INFO_VERSION, row.object_mtime) as Buffer | undefined;
  const info = sealed && openInfo(vault, row.id, sealed);
  if (!info || info.videoCodec === undefined) return undefined;
  return { durationSeconds: info.durationSeconds ?? 0 };
}

async function photoPictures(file: VaultFile): Promise<MadePicture[] | PictureFailure> {
  if (file.size > PHOTO_BYTES_LIMIT) {
    return {
      reason: 'too-large',
      detail: `This photo file is ${Math.round(file.size / 1024 / 1024)} MB, more than the ${PHOTO_BYTES_LIMIT / 1024 / 1024} MB Keepsake opens, so it has no thumbnail. It is kept safe in the vault as it is.`,
    };
  }
  const bytes = await file.read(0, file.size);
  try {
    return await makePhotoPictures(bytes);
  } finally {
    bytes.fill(0); // the decrypted photo does not linger in memory until the next GC
  }
}
