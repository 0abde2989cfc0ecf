// Where the library's pictures live: each one a vault file (`.ksv`, sealed with the vault's
// keys like every copy) under a random name in `<data>/previews/`, never a name drawn from
// the item's, and a row in `library_previews` (migration 10) saying which picture of which
// item it is. A picture is written first and recorded after, and an item's old pictures
// are removed only once its new ones are recorded: a crash leaves at worst a file no row
// names, which a later run sweeps away.

import { mkdir, readdir, rm, stat } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { Readable } from 'node:stream';
import { KeepsakeError } from '../core/errors';
import { newHexId128 } from '../core/ids';
import { stmt, type Db } from '../jobs/db';
import type { Vault } from '../vault/keyring';
import { VaultFile, writeVaultFile } from '../vault/vault-file';
import { packDetail, unpackDetail } from './attention-words';
import type {
  MadePicture,
  PictureFailure,
  PictureFailureReason,
  PreviewKind,
} from './preview-types';

export const PREVIEWS_DIR = 'previews';
/** A name as the store makes them: 128 random bits, hex. */
const NAME = /^[0-9a-f]{32}$/;
/** A file no row names is swept only after this long: another process may be about to record it. */
const SWEEP_AFTER_MS = 15 * 60_000;

export interface StoredPreview {
  fileId: string;
  kind: PreviewKind;
  name: string;
  vaultFileId: string;
  width: number;
  height: number;
  frames: number;
}

export interface PreviewState {
  outcome: 'made' | 'failed';
  reason?: PictureFailureReason;
  /** Plain words for the family. */
  detail?: string;
  /** What the tool said (attention-words.ts). */
  technical?: string;
  version: number;
  madeAt: number;
}

/** The vault file holding the picture named `name` (two levels, so no folder grows huge). */
export function previewPath(dataDir: string, name: string): string {
  if (!NAME.test(name)) throw new KeepsakeError('INTERNAL', `not a picture name: ${name}`);
  return join(dataDir, PREVIEWS_DIR, name.slice(0, 2), `${name}.ksv`);
}

/** The item the pictures are of, and the vault copy they were made from. */
export interface PictureSource {
  fileId: string;
  objectMtime: number;
}

/** Seals `made` into the vault and records them as the item's pictures, replacing any before. */
export async function savePictures(
  db: Db,
  dataDir: string,
  vault: Vault,
  source: PictureSource,
  version: number,
  made: readonly MadePicture[],
): Promise<void> {
  const written: StoredPreview[] = [];
  try {
    for (const picture of made) {
      const name = newHexId128();
      const meta = {
        name: `${picture.kind}.jpg`,
        size: picture.data.length,
        mtimeMs: Date.now(),
        mediaType: 'image/jpeg',
      };
      const path = previewPath(dataDir, name);
      await mkdir(dirname(path), { recursive: true, mode: 0o700 });
      const { fileId } = await writeVaultFile(
        Readable.from([picture.data], { objectMode: false }),
        path,
        vault,
        meta,
      );
      written.push({
        fileId: source.fileId,
        kind: picture.kind,
        name,
        vaultFileId: fileId,
        width: picture.width,
        height: picture.height,
        frames: picture.frames ?? 1,
      });
    }
  } catch (err) {
    await removeFiles(
      dataDir,
      written.map((w) => w.name),
    );
    throw err;
  }
  let old: string[];
  try {
    old = record(db, source, version, { outcome: 'made' }, written);
  } catch (err) {
    await removeFiles(
      dataDir,
      written.map((w) => w.name),
    );
    throw err;
  }
  await removeFiles(dataDir, old);
}

/** Records why the item has no pictures (a verdict on the file), dropping any it had. */
export async function saveFailure(
  db: Db,
  dataDir: string,
  source: PictureSource,
  version: number,
  failure: PictureFailure,
): Promise<void> {
  const old = record(db, source, version, { outcome: 'failed', ...failure }, []);
  await removeFiles(dataDir, old);
}

/** One transaction: the item's state and pictures replaced; returns the names no longer used. */
function record(
  db: Db,
  source: PictureSource,
  version: number,
  state: {
    outcome: 'made' | 'failed';
    reason?: PictureFailureReason;
    detail?: string;
    technical?: string;
  },
  pictures: readonly StoredPreview[],
): string[] {
  return db
    .transaction(() => {
      const old = stmt(db, 'SELECT name FROM library_previews WHERE file_id = ?')
        .pluck()
        .all(source.fileId) as string[];
      // The item may have left the library meanwhile (a folder removed): nothing to record.
      const exists = stmt(db, 'SELECT 1 FROM library_files WHERE id = ?').get(source.fileId);
      if (!exists) return [...old, ...pictures.map((p) => p.name)];
      stmt(db, 'DELETE FROM library_previews WHERE file_id = ?').run(source.fileId);
      const insert = stmt(
        db,
        `INSERT INTO library_previews (file_id, kind, name, vault_file_id, width, height, frames)
         VALUES (?, ?, ?, ?, ?, ?, ?)`,
      );
      for (const p of pictures) {
        insert.run(p.fileId, p.kind, p.name, p.vaultFileId, p.width, p.height, p.frames);
      }
      stmt(
        db,
        `INSERT OR REPLACE INTO library_preview_state
           (file_id, version, object_mtime, outcome, reason, detail, made_at)
         VALUES (?, ?, ?, ?, ?, ?, ?)`,
      ).run(
        source.fileId,
        version,
        source.objectMtime,
        state.outcome,
        state.reason ?? null,
        state.detail === undefined ? null : packDetail(state.detail, state.technical),
        Date.now(),
      );
      return old;
    })
    .immediate();
}

async function removeFiles(dataDir: string, names: readonly string[]): Promise<void> {
  await Promise.all(names.map((name) => rm(previewPath(dataDir, name), { force: true })));
}

interface PreviewRow {
  file_id: string;
  kind: PreviewKind;
  name: string;
  vault_file_id: string;
  width: number;
  height: number;
  frames: number;
}

function toPreview(row: PreviewRow): StoredPreview {
  return {
    fileId: row.file_id,
    kind: row.kind,
    name: row.name,
    vaultFileId: row.vault_file_id,
    width: row.width,
    height: row.height,
    frames: row.frames,
  };
}

/** The item's pictures, by kind (none until they are made). */
export function picturesOf(db: Db, fileId: string): Map<PreviewKind, StoredPreview> {
  const rows = stmt(db, 'SELECT * FROM library_previews WHERE file_id = ?').all(
    fileId,
  ) as PreviewRow[];
  return new Map(rows.map((row) => [row.kind, toPreview(row)]));
}

/** Whether the item's pictures were made, or why they cannot be; undefined before either. */
export function previewState(db: Db, fileId: string): PreviewState | undefined {
  const row = stmt(
    db,
    'SELECT outcome, reason, detail, version, made_at FROM library_preview_state WHERE file_id = ?',
  ).get(fileId) as
    | {
        outcome: 'made' | 'failed';
        reason: PictureFailureReason | null;
        detail: string | null;
        version: number;
        made_at: number;
      }
    | undefined;
  if (!row) return undefined;
  const words = row.detail === null ? undefined : unpackDetail(row.detail);
  return {
    outcome: row.outcome,
    ...(row.reason !== null ? { reason: row.reason } : {}),
    ...(words ? { detail: words.sentence } : {}),
    ...(words?.technical !== undefined ? { technical: words.technical } : {}),
    version: row.version,
    madeAt: row.made_at,
  };
}

/** Of these items, those with a picture for the grid (a photo's thumbnail, a video's poster). */
export function withGridPicture(db: Db, fileIds: readonly string[]): Set<string> {
  const select = stmt(
    db,
    `SELECT 1 FROM library_previews WHERE file_id = ? AND kind IN ('thumb', 'poster')`,
  ).pluck();
  return new Set(fileIds.filter((id) => select.get(id) !== undefined));
}

export interface PreviewBytes {
  kind: PreviewKind;
  mediaType: 'image/jpeg';
  width: number;
  height: number;
  frames: number;
  /** The picture decrypted, in memory: hand it out, never write it to disk. */
  bytes: Buffer;
}

/**
 * The item's picture of `kind`, or its grid picture (thumbnail, else poster), decrypted.
 * NOT_FOUND, in plain words, for an unknown item, one without pictures yet, or one whose
 * pictures cannot be made (why). The vault file must carry the id recorded for it.
 */
export async function previewBytes(
  db: Db,
  dataDir: string,
  vault: Vault,
  fileId: string,
  kind?: PreviewKind,
): Promise<PreviewBytes> {
  return readPicture(dataDir, vault, findPicture(db, fileId, kind));
}

/** The item's picture recorded under `name` (the capability URLs name them), if any. */
export function pictureNamed(db: Db, fileId: string, name: string): StoredPreview | undefined {
  if (!NAME.test(name)) return undefined;
  const row = stmt(db, 'SELECT * FROM library_previews WHERE file_id = ? AND name = ?').get(
    fileId,
    name,
  ) as PreviewRow | undefined;
  return row && toPreview(row);
}

/** A recorded picture, decrypted; its vault file must carry the id recorded for it. */
export async function readPicture(
  dataDir: string,
  vault: Vault,
  picture: StoredPreview,
): Promise<PreviewBytes> {
  const path = previewPath(dataDir, picture.name);
  const file = await VaultFile.open(path, { vault });
  try {
    if (file.fileId !== picture.vaultFileId) {
      throw new KeepsakeError('PAYLOAD_CORRUPT', 'this picture file belongs to another picture', {
        file: path,
      });
    }
    return {
      kind: picture.kind,
      mediaType: 'image/jpeg',
      width: picture.width,
      height: picture.height,
      frames: picture.frames,
      bytes: await file.read(0, file.size),
    };
  } finally {
    await file.close();
  }
}

/** The recorded picture `previewBytes` would give, or NOT_FOUND saying why there is none. */
export function findPicture(db: Db, fileId: string, kind?: PreviewKind): StoredPreview {
  const item = stmt(db, 'SELECT kind FROM library_files WHERE id = ?').get(fileId) as
    { kind: string } | undefined;
  if (!item) throw new KeepsakeError('NOT_FOUND', `no library file "${fileId}"`);
  const pictures = picturesOf(db, fileId);
  const picture = kind ? pictures.get(kind) : (pictures.get('thumb') ?? pictures.get('poster'));
  if (picture) return picture;
  const state = previewState(db, fileId);
  if (state?.outcome === 'failed') {
    throw new KeepsakeError(
      'NOT_FOUND',
      `this file has no picture: ${state.detail ?? state.reason}${state.technical ? ` (${state.technical})` : ''}`,
    );
  }
  if (pictures.size > 0 && kind) {
    throw new KeepsakeError(
      'NOT_FOUND',
      `this file has no ${kind} picture (it has: ${[...pictures.keys()].join(', ')})`,
    );
  }
  if (item.kind !== 'photo' && item.kind !== 'video') {
    throw new KeepsakeError('NOT_FOUND', `Keepsake makes pictures of photos and videos only`);
  }
  throw new KeepsakeError(
    'NOT_FOUND',
    'this file has no picture yet: pictures are made once it is protected, in the background',
  );
}

/**
 * Removes picture files no row names (their item left the library, or a run died between
 * writing and recording), once they are old enough not to be another run's new ones.
 */
export async function sweepPictures(db: Db, dataDir: string, now = Date.now()): Promise<number> {
  const root = join(dataDir, PREVIEWS_DIR);
  const entries = await readdir(root, { recursive: true, withFileTypes: true }).catch(() => []);
  // A tape's clip pictures (tape/analysis-store.ts) live here too, named by their own table.
  const named = stmt(
    db,
    'SELECT 1 FROM library_previews WHERE name = ? UNION ALL SELECT 1 FROM tape_analyses WHERE pictures = ?',
  ).pluck();
  const known = { get: (name: string) => named.get(name, name) };
  let removed = 0;
  for (const entry of entries) {
    if (!entry.isFile()) continue;
    const name = entry.name.endsWith('.ksv') ? entry.name.slice(0, -4) : undefined;
    if (name !== undefined && NAME.test(name) && known.get(name) !== undefined) continue;
    const path = join(entry.parentPath, entry.name);
    const info = await stat(path).catch(() => undefined);
    if (!info || now - info.mtimeMs < SWEEP_AFTER_MS) continue;
    // Checked again just before: the row may have been written since the listing.
    if (name !== undefined && known.get(name) !== undefined) continue;
    await rm(path, { force: true });
    removed++;
  }
  return removed;
}
