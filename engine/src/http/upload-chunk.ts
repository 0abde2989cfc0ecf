// The bytes of one upload chunk on disk: received and hashed as they arrive (the
// signature covers the hash, so it is known the moment the body ends), and a chunk that
// was staged in a file of its own copied into the upload's file once it verified.

import { createHash } from 'node:crypto';
import { open } from 'node:fs/promises';
import type { Readable } from 'node:stream';
import { KeepsakeError, fromFsError } from '../core/errors';
import { STAGING_BYTES, SequentialWriter, type StagingBuffers } from '../fs/direct-write';

/** Receives a body into `path` from `position`; returns its length and SHA-256. */
export async function receiveChunk(
  path: string,
  position: number,
  staging: StagingBuffers,
  chunk: {
    /** Bytes the chunk may hold: the rest of the upload. */
    room: number;
    /** The upload's declared size, for the refusal. */
    declared: number;
    body: Readable;
    /** Sees the writer once open, so a failure can cut the file back. */
    onOpen?: (out: SequentialWriter) => void;
  },
): Promise<{ out: SequentialWriter; received: number; sha256Hex: string }> {
  const { room, declared, body, onOpen } = chunk;
  // Staged a MiB at a time (TLS hands the body over in ~16 KiB pieces), one batch
  // written while the next arrives, around the page cache where the disk allows.
  const out = await SequentialWriter.open(path, position, staging).catch((err: unknown) => {
    throw fromFsError(err, path, 'write');
  });
  onOpen?.(out);
  const hash = createHash('sha256');
  let received = 0;
  // A dropped connection destroys the request with an error, which ends this loop.
  for await (const piece of body as AsyncIterable<Buffer>) {
    received += piece.length;
    if (received > room) {
      throw new KeepsakeError(
        'TOO_LARGE',
        `the chunk runs past the upload's declared size of ${declared} bytes`,
      );
    }
    hash.update(piece);
    await out.write(piece);
  }
  await out.end();
  return { out, received, sha256Hex: hash.digest('hex') };
}

/** Copies a staged chunk (`length` bytes of `part`) into `target` at `offset`. */
export async function copyChunk(
  part: string,
  target: string,
  offset: number,
  length: number,
  staging: StagingBuffers,
): Promise<void> {
  const from = await open(part, 'r');
  const out = await SequentialWriter.open(target, offset, staging);
  try {
    const buffer = Buffer.allocUnsafe(STAGING_BYTES);
    for (let at = 0; at < length;) {
      const { bytesRead } = await from.read(buffer, 0, Math.min(buffer.length, length - at), at);
      if (bytesRead === 0) throw new KeepsakeError('INTERNAL', 'a staged chunk came up short');
      await out.write(buffer.subarray(0, bytesRead));
      at += bytesRead;
    }
    await out.end();
  } finally {
    await out.close();
    await from.close();
  }
}
