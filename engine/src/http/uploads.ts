// Resumable uploads (tus-like, offset based) of vault files: the server stores ciphertext
// only. A client creates an upload with its total size, then sends chunks, each a signed
// PATCH at the current offset. Bytes go straight to disk as they arrive; the committed
// offset advances only once the chunk's signature (which covers its hash) checks out, so
// a broken connection or a forged chunk leaves the upload exactly where it was.
//
// Space is promised per upload: a new one is admitted only if the disk can hold it on
// top of every byte already promised to the others, plus the reserve. An upload nobody
// sends to for `expiry` is removed with its file (see expiry.ts).

import { open, readdir, rm, stat, statfs } from 'node:fs/promises';
import { join } from 'node:path';
import type { Readable } from 'node:stream';
import type Database from 'better-sqlite3';
import { stmt } from '../jobs/db';
import { KeepsakeError, fromFsError } from '../core/errors';
import { newUploadId, tempSuffix } from '../core/ids';
import { StagingBuffers, type SequentialWriter } from '../fs/direct-write';
import { copyChunk, receiveChunk } from './upload-chunk';

export interface Upload {
  id: string;
  size: number;
  offset: number;
  clientId: string;
  createdAt: number;
}

interface Row {
  id: string;
  size: number;
  offset: number;
  client_id: string;
  created_at: number;
}

const toUpload = (r: Row): Upload => ({
  id: r.id,
  size: r.size,
  offset: r.offset,
  clientId: r.client_id,
  createdAt: r.created_at,
});

export interface UploadLimits {
  /** Largest upload accepted. */
  maxBytes: number;
  /** Free space that must remain on the disk after every outstanding upload. */
  reserveBytes: number;
}

/** Chunks arriving beside the one being written, each staged in its own file. */
const MAX_CONTENDERS = 4;
const PART_SUFFIX = '.part';

/** One writer at a time into an upload's file; others wait their turn, or do not. */
interface Turn {
  released: Promise<void>;
  release: () => void;
  /** Stops the holder's body while it still arrives (a verified chunk wants the turn). */
  abort?: () => void;
}

export class UploadStore {
  private readonly turns = new Map<string, Turn>();
  private readonly contenders = new Map<string, number>();
  /**
   * Room held by staged chunks still arriving (each up to the rest of its upload): disk
   * they may fill before their signature is checked, counted with what uploads promise.
   */
  private stagedRoom = 0;
  private readonly staging: StagingBuffers;

  constructor(
    private readonly db: Database.Database,
    readonly dir: string,
    private readonly limits: UploadLimits,
    { direct = true }: { direct?: boolean } = {},
  ) {
    this.staging = new StagingBuffers(dir, { direct });
  }

  path(id: string): string {
    return join(this.dir, `${id}.ksv`);
  }

  get(id: string): Upload {
    const row = stmt(this.db, 'SELECT * FROM uploads WHERE id = ?').get(id) as Row | undefined;
    if (!row) throw new KeepsakeError('NOT_FOUND', `no upload "${id}"`);
    return toUpload(row);
  }

  private committedOffset(id: string): number {
    const row = stmt(this.db, 'SELECT offset FROM uploads WHERE id = ?').get(id) as
      { offset: number } | undefined;
    return row?.offset ?? 0;
  }

  list(): Upload[] {
    return (stmt(this.db, 'SELECT * FROM uploads').all() as Row[]).map(toUpload);
  }

  /** Bytes promised to uploads and not yet received, and the room of staged chunks. */
  outstandingBytes(): number {
    const row = stmt(this.db, 'SELECT COALESCE(SUM(size - offset), 0) AS n FROM uploads').get() as {
      n: number;
    };
    return row.n + this.stagedRoom;
  }

  /**
   * Admits an upload if the disk holds it on top of what the others still have to send,
   * and the reserve. The sum and the new row are taken in one synchronous step after the
   * free space is read, so uploads created at the same moment count each other.
   */
  async create(size: number, clientId: string): Promise<Upload> {
    if (size > this.limits.maxBytes) {
      throw new KeepsakeError(
        'TOO_LARGE',
        `an upload of ${size} bytes exceeds the limit of ${this.limits.maxBytes}`,
      );
    }
    const fs = await statfs(this.dir);
    const free = fs.bavail * fs.bsize;
    const promised = this.outstandingBytes();
    if (free - promised - size < this.limits.reserveBytes) {
      throw new KeepsakeError(
        'DISK_FULL',
        `not enough free space for ${size} bytes (free ${free}, ${promised} promised to ` +
          `unfinished uploads, keeping ${this.limits.reserveBytes} in reserve); ` +
          'try again once other uploads finish or expire',
      );
    }
    const id = newUploadId();
    stmt(
      this.db,
      'INSERT INTO uploads (id, size, offset, client_id, created_at) VALUES (?, ?, 0, ?, ?)',
    ).run(id, size, clientId, Date.now());
    try {
      const handle = await open(this.path(id), 'wx', 0o600);
      await handle.close();
    } catch (err) {
      stmt(this.db, 'DELETE FROM uploads WHERE id = ?').run(id);
      throw fromFsError(err, this.path(id), 'write');
    }
    return this.get(id);
  }

  /** When a chunk last arrived (or the upload was created): its file's change time. */
  async lastActivity(upload: Upload): Promise<number> {
    const mtime = await stat(this.path(upload.id)).then(
      (st) => st.mtimeMs,
      () => 0,
    );
    return Math.max(upload.createdAt, mtime);
  }

  /** True while a chunk of this upload is arriving. */
  busy(id: string): boolean {
    return this.turns.has(id) || (this.contenders.get(id) ?? 0) > 0;
  }

  private tryTurn(id: string): Turn | undefined {
    if (this.turns.has(id)) return undefined;
    let release!: () => void;
    const released = new Promise<void>((r) => (release = r));
    const turn: Turn = {
      released,
      release: () => {
        if (this.turns.get(id) === turn) this.turns.delete(id);
        release();
      },
    };
    this.turns.set(id, turn);
    return turn;
  }

  private async waitTurn(id: string): Promise<Turn> {
    for (;;) {
      const turn = this.tryTurn(id);
      if (turn) return turn;
      await this.turns.get(id)?.released;
    }
  }

  /**
   * Writes `body` at `offset`, hashing it on the way, then lets `accept` (the signature
   * check, which covers the hash) decide. Returns the upload with its new offset; on any
   * failure the file is cut back to the old one.
   *
   * Nothing unverified holds the upload: the first chunk writes straight into the file,
   * and a chunk arriving meanwhile is staged in a file of its own. Whichever verifies
   * first is committed; a verified chunk stops an unverified one still arriving, so a
   * stalled forgery cannot keep the owner out.
   */
  async append(
    id: string,
    offset: number,
    body: Readable,
    accept: (received: number, sha256Hex: string) => Promise<void>,
  ): Promise<Upload> {
    const upload = this.get(id);
    if (offset !== upload.offset) {
      body.resume();
      throw new KeepsakeError(
        'UPLOAD_OFFSET_MISMATCH',
        `the upload is at offset ${upload.offset}, not ${offset}`,
      );
    }
    const turn = this.tryTurn(id);
    if (turn) return this.appendDirect(upload, body, accept, turn);
    const contending = this.contenders.get(id) ?? 0;
    if (contending >= MAX_CONTENDERS) {
      body.resume();
      throw new KeepsakeError('UPLOAD_OFFSET_MISMATCH', 'other chunks of this upload are arriving');
    }
    // A staged chunk writes a second copy of up to the rest of the upload before it is
    // verified: admitted only if the disk holds that too, above the reserve.
    const room = upload.size - offset;
    const fs = await statfs(this.dir);
    const free = fs.bavail * fs.bsize;
    if (free - this.outstandingBytes() - room < this.limits.reserveBytes) {
      body.resume();
      throw new KeepsakeError(
        'DISK_FULL',
        `not enough free space to take another chunk of this upload beside the one arriving (free ${free}); try again in a moment`,
      );
    }
    this.contenders.set(id, contending + 1);
    this.stagedRoom += room;
    try {
      return await this.appendStaged(upload, body, accept);
    } finally {
      this.stagedRoom -= room;
      const left = (this.contenders.get(id) ?? 1) - 1;
      if (left > 0) this.contenders.set(id, left);
      else this.contenders.delete(id);
    }
  }

  /** Commits `received` bytes at `offset`, only if no other request moved the upload. */
  private commit(upload: Upload, offset: number, received: number): Upload {
    const next = offset + received;
    const changed = stmt(this.db, 'UPDATE uploads SET offset = ? WHERE id = ? AND offset = ?').run(
      next,
      upload.id,
      offset,
    ).changes;
    if (changed !== 1) {
      throw new KeepsakeError('UPLOAD_OFFSET_MISMATCH', 'another request moved the upload');
    }
    return { ...upload, offset: next };
  }

  private async appendDirect(
    upload: Upload,
    body: Readable,
    accept: (received: number, sha256Hex: string) => Promise<void>,
    turn: Turn,
  ): Promise<Upload> {
    const { id, offset } = upload;
    let out: SequentialWriter | undefined;
    turn.abort = () =>
      body.destroy(
        new KeepsakeError(
          'UPLOAD_OFFSET_MISMATCH',
          'a verified chunk for this offset arrived meanwhile; ask where the upload stands',
        ),
      );
    try {
      const got = await receiveChunk(this.path(id), offset, this.staging, {
        room: upload.size - offset,
        declared: upload.size,
        body,
        onOpen: (o) => (out = o),
      });
      turn.abort = undefined;
      await accept(got.received, got.sha256Hex);
      return this.commit(upload, offset, got.received);
    } catch (err) {
      // Cut back to what is committed (nothing to keep if the upload was deleted meanwhile).
      await out?.truncate(this.committedOffset(id)).catch(() => undefined);
      body.destroy();
      throw err instanceof KeepsakeError ? err : fromFsError(err, this.path(id), 'write');
    } finally {
      turn.abort = undefined;
      await out?.close().catch(() => undefined);
      turn.release();
    }
  }

  private async appendStaged(
    upload: Upload,
    body: Readable,
    accept: (received: number, sha256Hex: string) => Promise<void>,
  ): Promise<Upload> {
    const { id, offset } = upload;
    const part = join(this.dir, `${id}.${tempSuffix()}${PART_SUFFIX}`);
    let out: SequentialWriter | undefined;
    let turn: Turn | undefined;
    try {
      await open(part, 'wx', 0o600).then((h) => h.close());
      const got = await receiveChunk(part, 0, this.staging, {
        room: upload.size - offset,
        declared: upload.size,
        body,
        onOpen: (o) => (out = o),
      });
      await out?.close();
      out = undefined;
      await accept(got.received, got.sha256Hex);
      // Verified: an unverified chunk still arriving gives way, then this one is copied in.
      this.turns.get(id)?.abort?.();
      turn = await this.waitTurn(id);
      if (this.get(id).offset !== offset) {
        throw new KeepsakeError('UPLOAD_OFFSET_MISMATCH', 'another request moved the upload');
      }
      await copyChunk(part, this.path(id), offset, got.received, this.staging);
      return this.commit(upload, offset, got.received);
    } catch (err) {
      if (turn) {
        const committed = this.committedOffset(id);
        await open(this.path(id), 'r+')
          .then(async (h) => {
            if ((await h.stat()).size > committed) await h.truncate(committed);
            await h.close();
          })
          .catch(() => undefined);
      }
      body.destroy();
      throw err instanceof KeepsakeError ? err : fromFsError(err, this.path(id), 'write');
    } finally {
      await out?.close().catch(() => undefined);
      turn?.release();
      await rm(part, { force: true });
    }
  }

  async delete(id: string): Promise<void> {
    stmt(this.db, 'DELETE FROM uploads WHERE id = ?').run(id);
    await rm(this.path(id), { force: true });
  }

  /**
   * Files in the uploads folder that no upload owns: staged chunks left by a crash, and
   * upload files whose row is gone. Removed at start and with each expiry sweep.
   */
  async removeStrays(): Promise<string[]> {
    // The folder is read before the rows: an upload created in between (its row, then its
    // file) is then in `known`, not taken for a stray.
    const names = await readdir(this.dir);
    const known = new Set(this.list().map((u) => `${u.id}.ksv`));
    const removed: string[] = [];
    for (const name of names) {
      const staged = name.endsWith(PART_SUFFIX);
      if (staged && this.busy(name.split('.')[0]!)) continue;
      if (staged || (name.endsWith('.ksv') && !known.has(name))) {
        await rm(join(this.dir, name), { force: true });
        removed.push(name);
      }
    }
    return removed;
  }
}
