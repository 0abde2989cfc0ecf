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

import { stmt, type Db } from '../jobs/db';
import type { Vault } from '../vault/keyring';
import { VaultFile } from '../vault/vault-file';
import { openInfo } from './info-seal';
import { ITEM_INFO_VERSION, PHOTO_BYTES_LIMIT, type InfoTools } from './item-info';
import { ItemPasses, type ItemHandler, type WaitingItem, type WaitingItems } from './item-passes';
import { objectPath } from './library';
import { makePhotoPictures } from './preview-photo';
import {
  previewBytes,
  previewState,
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

/**
 * `run(vault, onItem)` makes the pictures of every item waiting (see ItemPasses, which
 * also gives `stop()`, `progress()` and `lastError`).
 */
export class PreviewMaker extends ItemPasses {
  protected readonly waiting: WaitingItems = {
    doneIn: 'library_preview_state',
    kinds: ['video', 'photo'],
    version: PREVIEW_VERSION,
  };

  /** Items with a vault copy and no pictures (nor a reason for none) made from it. */
  leftToMake(): number {
    return this.waitingNow();
  }

  protected async start(vault: Vault): Promise<ItemHandler> {
    // Pictures of items that left the library, and of runs that died before recording.
    await sweepPictures(this.db, this.dataDir).catch(() => undefined);
    // FFmpeg and FFprobe are asked for at the first video (photos need neither).
    let tools: Promise<InfoTools> | undefined;
    const toolsOnce = () => (tools ??= this.tools());
    return (row) => this.makeOne(vault, row, toolsOnce);
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

  /** Whether the item's pictures were tried and cannot be made (a reason is recorded). */
  cannotMake(fileId: string): boolean {
    return previewState(this.db, fileId)?.outcome === 'failed';
  }

  private async makeOne(
    vault: Vault,
    row: WaitingItem,
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
function knownVideoOf(db: Db, vault: Vault, row: WaitingItem): KnownVideo | undefined {
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
