// Everything the library knows of its items, gathered for listings: the file, its folder,
// the facts read from it (item-info.ts), the title and date the family gave it
// (item-labels.ts), its pictures (preview-store.ts) and why it has none. The app's library
// screen lists every item of every folder at once (10,000 and more), so this is a handful
// of queries over the whole scope, never one per item; the sealed rows are opened in
// memory (a few microseconds each).
//
// Both `keepsake library files --json` and the desktop API build on it, so the two say
// the same of an item (which date wins, where it came from).

import { stmt, type Db } from '../jobs/db';
import type { Vault } from '../vault/keyring';
import type { CaptureSource } from './capture-date';
import { unpackDetail } from './attention-words';
import { openInfo } from './info-seal';
import type { ItemInfo } from './item-info';
import {
  ItemLabelStore,
  labelCapturedAt,
  openLabels,
  type ItemLabels,
  type LabelChange,
} from './item-labels';
import { allFolders } from './library-queries';
import { toFile, type FileRow } from './library-rows';
import type { LibraryFile, LibraryFolder } from './library-types';
import { pictureNamed, type StoredPreview } from './preview-store';
import type { PictureFailureReason, PreviewKind } from './preview-types';

/** Which items: all, one folder's, or one. */
export type ItemScope = { all: true } | { folderId: string } | { fileId: string };

export interface ItemFacts {
  file: LibraryFile;
  folder: LibraryFolder;
  /** What was read from the vault copy; absent until read, or while the vault is locked. */
  info?: ItemInfo;
  /** Set by hand; absent while the vault is locked. */
  labels?: ItemLabels;
  /** The pictures made so far, by kind (they need no vault to be listed). */
  pictures: Map<PreviewKind, StoredPreview>;
  /** Why the item has no pictures (a verdict on the file), when that was recorded. */
  pictureFailure?: { reason: PictureFailureReason; detail?: string; technical?: string };
}

/** The date the item is shown under: the family's date wins over the one read from the file. */
export function capturedOf(
  facts: Pick<ItemFacts, 'info' | 'labels'>,
): { capturedAt: string; capturedFrom: CaptureSource | 'user' } | undefined {
  if (facts.labels?.date !== undefined) {
    return { capturedAt: labelCapturedAt(facts.labels.date), capturedFrom: 'user' };
  }
  if (facts.info)
    return { capturedAt: facts.info.capturedAt, capturedFrom: facts.info.capturedFrom };
  return undefined;
}

/**
 * Newest capture first; items with no known date last; then by path. Dates compare as
 * the wall-clock time they read (`1989-12-24T18:30:00`), offsets aside: a family's
 * timeline is in the local time things happened, not in UTC. Returns a new array.
 */
export function newestFirst(items: readonly ItemFacts[]): ItemFacts[] {
  // Each key once, not at every comparison (10,000 items make some 130,000 of them).
  const keyed = items.map((item) => ({ item, at: capturedOf(item)?.capturedAt.slice(0, 19) }));
  keyed.sort((a, b) => {
    if (a.at !== b.at) {
      if (a.at === undefined) return 1;
      if (b.at === undefined) return -1;
      return a.at < b.at ? 1 : -1;
    }
    const ra = a.item.file.rel;
    const rb = b.item.file.rel;
    if (ra !== rb) return ra < rb ? -1 : 1;
    return a.item.file.id < b.item.file.id ? -1 : 1;
  });
  return keyed.map((k) => k.item);
}

/** A WHERE clause over `library_files f` for the scope, and its parameters. */
function where(scope: ItemScope): { sql: string; params: string[] } {
  if ('folderId' in scope) return { sql: 'WHERE f.folder_id = ?', params: [scope.folderId] };
  if ('fileId' in scope) return { sql: 'WHERE f.id = ?', params: [scope.fileId] };
  return { sql: '', params: [] };
}

/** The scope's sealed rows of `table` (info or labels), by file id. */
function sealedRows(
  db: Db,
  table: 'library_info' | 'library_labels',
  scope: ItemScope,
): { file_id: string; sealed: Buffer }[] {
  const { sql, params } = where(scope);
  return stmt(
    db,
    `SELECT t.file_id, t.sealed FROM ${table} t JOIN library_files f ON f.id = t.file_id ${sql}`,
  ).all(...params) as { file_id: string; sealed: Buffer }[];
}

/**
 * The items of `scope`, in path order by folder (callers sort as they show them). Facts
 * and labels are sealed with the vault: without it they are absent. Five queries,
 * whatever the number of items.
 */
export function itemFacts(
  db: Db,
  dataDir: string,
  vault: Vault | undefined,
  scope: ItemScope,
): ItemFacts[] {
  const { sql, params } = where(scope);
  const folders = new Map(allFolders(db).map((f) => [f.id, f]));
  const rows = stmt(db, `SELECT f.* FROM library_files f ${sql} ORDER BY f.folder_id, f.rel`).all(
    ...params,
  ) as FileRow[];
  const byId = new Map<string, ItemFacts>();
  const items: ItemFacts[] = [];
  for (const row of rows) {
    const folder = folders.get(row.folder_id);
    if (!folder) continue;
    const item: ItemFacts = { file: toFile(row, folder, dataDir), folder, pictures: new Map() };
    byId.set(row.id, item);
    items.push(item);
  }
  if (items.length === 0) return items;

  if (vault) {
    for (const { file_id, sealed } of sealedRows(db, 'library_info', scope)) {
      const item = byId.get(file_id);
      const info = item && openInfo(vault, file_id, sealed);
      if (info) item.info = info;
    }
    for (const { file_id, sealed } of sealedRows(db, 'library_labels', scope)) {
      const item = byId.get(file_id);
      const labels = item && openLabels(vault, file_id, sealed);
      if (labels) item.labels = labels;
    }
  }

  const pictures = stmt(
    db,
    `SELECT p.file_id, p.kind, p.name, p.vault_file_id, p.width, p.height, p.frames
     FROM library_previews p JOIN library_files f ON f.id = p.file_id ${sql}`,
  ).all(...params) as {
    file_id: string;
    kind: PreviewKind;
    name: string;
    vault_file_id: string;
    width: number;
    height: number;
    frames: number;
  }[];
  for (const p of pictures) {
    byId.get(p.file_id)?.pictures.set(p.kind, {
      fileId: p.file_id,
      kind: p.kind,
      name: p.name,
      vaultFileId: p.vault_file_id,
      width: p.width,
      height: p.height,
      frames: p.frames,
    });
  }

  const failures = stmt(
    db,
    `SELECT s.file_id, s.reason, s.detail FROM library_preview_state s
     JOIN library_files f ON f.id = s.file_id ${sql ? `${sql} AND` : 'WHERE'} s.outcome = 'failed'`,
  ).all(...params) as { file_id: string; reason: PictureFailureReason; detail: string | null }[];
  for (const s of failures) {
    const item = byId.get(s.file_id);
    if (item) {
      const words = s.detail === null ? undefined : unpackDetail(s.detail);
      item.pictureFailure = {
        reason: s.reason,
        ...(words ? { detail: words.sentence } : {}),
        ...(words?.technical !== undefined ? { technical: words.technical } : {}),
      };
    }
  }
  return items;
}

/** The library's items for a long-lived caller (the desktop session) holding the database. */
export class LibraryItems {
  constructor(
    private readonly db: Db,
    private readonly dataDir: string,
  ) {}

  /** See `itemFacts`; without the vault, facts and labels are absent. */
  facts(vault: Vault | undefined, scope: ItemScope): ItemFacts[] {
    return itemFacts(this.db, this.dataDir, vault, scope);
  }

  /** Applies a title and date change (a value sets, null clears, absent keeps). */
  setLabels(vault: Vault, fileId: string, change: LabelChange): ItemLabels {
    return new ItemLabelStore(this.db).set(vault, fileId, change);
  }

  /** The title the family gave the item, if any (one row opened: for lists of jobs). */
  title(vault: Vault, fileId: string): string | undefined {
    return new ItemLabelStore(this.db).get([fileId], vault).get(fileId)?.title;
  }

  /** The item's picture recorded under `name`, if any. */
  picture(fileId: string, name: string): StoredPreview | undefined {
    return pictureNamed(this.db, fileId, name);
  }
}
