// Resumable uploads (tus-like, offset based) of vault files: the server stores ciphertext
// only. A client creates an upload with its total size, then sends chunks, each a signed
// PATCH at the current offset. Bytes go straight to disk as they arrive; the committed
// offset advances only once the chunk's signature (which covers its hash) checks out, so
// a broken connection or a forged chunk leaves the upload exactly where it was.

import { createHash, randomBytes } from 'node:crypto';
import { open, rm, statfs } from 'node:fs/promises';
import { join } from 'node:path';
import type { Readable } from 'node:stream';
import type Database from 'better-sqlite3';
import { stmt } from '../jobs/db';
import { KeepsakeError, fromFsError } from '../errors';
import { SequentialWriter, StagingBuffers } from '../fs/direct-write';

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

export function newUploadId(): string {
  const alphabet = 'abcdefghijklmnopqrstuvwxyz234567';
  return 'u' + [...randomBytes(20)].map((b) => alphabet[b & 31]).join('');
}

export interface UploadLimits {
  /** Largest upload accepted. */
  maxBytes: number;
  /** Free space that must remain on the disk after the upload. */
  reserveBytes: number;
}

export class UploadStore {
  private readonly busy = new Set<string>();
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

  /** Reserves an upload after checking its size against the limit and the free space. */
  async create(size: number, clientId: string): Promise<Upload> {
    if (size > this.limits.maxBytes) {
      throw new KeepsakeError(
        'TOO_LARGE',
        `an upload of ${size} bytes exceeds the limit of ${this.limits.maxBytes}`,
      );
    }
    const fs = await statfs(this.dir);
    const free = fs.bavail * fs.bsize;
    if (free - size < this.limits.reserveBytes) {
      throw new KeepsakeError(
        'DISK_FULL',
        `not enough free space for ${size} bytes (free ${free}, keeping ${this.limits.reserveBytes} in reserve)`,
      );
    }
    const id = newUploadId();
    const handle = await open(this.path(id), 'wx', 0o600);
    await handle.close();
    stmt(
      this.db,
      'INSERT INTO uploads (id, size, offset, client_id, created_at) VALUES (?, ?, 0, ?, ?)',
    ).run(id, size, clientId, Date.now());
    return this.get(id);
  }

  /**
   * Writes `body` at `offset`, hashing it on the way, then lets `accept` (the signature
   * check, which covers the hash) decide. Returns the upload with its new offset; on any
   * failure the file is cut back to the old one.
   */
  async append(
    id: string,
    offset: number,
    body: Readable,
    accept: (received: number, sha256Hex: string) => Promise<void>,
  ): Promise<Upload> {
    const upload = this.get(id);
    // One chunk at a time per upload: two writers at one offset would overwrite each
    // other's bytes before either signature is checked.
    if (this.busy.has(id)) {
      body.resume();
      throw new KeepsakeError('UPLOAD_OFFSET_MISMATCH', 'another chunk of this upload is arriving');
    }
    if (offset !== upload.offset) {
      body.resume();
      throw new KeepsakeError(
        'UPLOAD_OFFSET_MISMATCH',
        `the upload is at offset ${upload.offset}, not ${offset}`,
      );
    }
    const room = upload.size - upload.offset;
    this.busy.add(id);
    // Staged a MiB at a time (TLS hands the body over in ~16 KiB pieces), one batch
    // written while the next arrives, around the page cache where the disk allows.
    const out = await SequentialWriter.open(this.path(id), offset, this.staging).catch(
      (err: unknown) => {
        this.busy.delete(id);
        throw fromFsError(err, this.path(id), 'write');
      },
    );
    const hash = createHash('sha256');
    let received = 0;
    try {
      // A dropped connection destroys the request with an error, which ends this loop.
      for await (const chunk of body as AsyncIterable<Buffer>) {
        received += chunk.length;
        if (received > room) {
          throw new KeepsakeError(
            'TOO_LARGE',
            `the chunk runs past the upload's declared size of ${upload.size} bytes`,
          );
        }
        hash.update(chunk);
        await out.write(chunk);
      }
      await out.end();
      await accept(received, hash.digest('hex'));
      const next = offset + received;
      // Committed only if no other request moved the offset meanwhile.
      const changed = stmt(
        this.db,
        'UPDATE uploads SET offset = ? WHERE id = ? AND offset = ?',
      ).run(next, id, offset).changes;
      if (changed !== 1) {
        throw new KeepsakeError('UPLOAD_OFFSET_MISMATCH', 'another request moved the upload');
      }
      return { ...upload, offset: next };
    } catch (err) {
      await out.truncate(this.get(id).offset).catch(() => undefined);
      body.destroy();
      throw err instanceof KeepsakeError ? err : fromFsError(err, this.path(id), 'write');
    } finally {
      this.busy.delete(id);
      await out.close();
    }
  }

  async delete(id: string): Promise<void> {
    stmt(this.db, 'DELETE FROM uploads WHERE id = ?').run(id);
    await rm(this.path(id), { force: true });
  }
}
