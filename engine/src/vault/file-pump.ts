// Whole-file encryption and decryption between open files, the hot path of encrypt,
// decrypt, verify and batches. Streams cost too much here: each read allocates a fresh
// megabyte (page faults on every touch) and each stage copies. Instead two reusable read
// buffers alternate, the next read and the previous write run on libuv's threads while
// this thread runs the AEAD, and sealed chunks go to disk with one writev per block.

import type { FileHandle } from 'node:fs/promises';
import { KeepsakeError, fromFsError, namingFile } from '../core/errors';
import {
  CHUNK_SIZE,
  SEALED_CHUNK_SIZE,
  TAG_SIZE,
  openChunk,
  sealChunk,
  type ChunkKeys,
} from './chunked';

/** Chunks per block: 1 MiB of plaintext per read (larger blocks were no faster). */
const BLOCK_CHUNKS = 64;

export type PartsSink = (parts: Buffer[]) => Promise<void>;

/** Reads until `buf` is full or the file ends; returns the bytes read. */
async function readFull(
  handle: FileHandle,
  buf: Buffer,
  position: number,
  name: string,
): Promise<number> {
  let filled = 0;
  try {
    while (filled < buf.length) {
      const { bytesRead } = await handle.read(buf, filled, buf.length - filled, position + filled);
      if (bytesRead === 0) break;
      filled += bytesRead;
    }
  } catch (err) {
    throw fromFsError(err, name, 'read');
  }
  return filled;
}

/** A sink that appends `parts` to `handle` with writev, finishing short writes. */
export function fileSinkParts(handle: FileHandle, name: string): PartsSink {
  return async (parts) => {
    try {
      let pending = parts;
      while (pending.length > 0) {
        const { bytesWritten } = await handle.writev(pending);
        let skip = bytesWritten;
        const rest: Buffer[] = [];
        for (const part of pending) {
          if (skip >= part.length) skip -= part.length;
          else {
            rest.push(skip > 0 ? part.subarray(skip) : part);
            skip = 0;
          }
        }
        pending = rest;
      }
    } catch (err) {
      throw fromFsError(err, name, 'write');
    }
  };
}

/**
 * Runs `process` over the blocks of `src` from `start`, double-buffered: block k+1 is
 * read and block k-1 written while block k is processed. `process` gets the block and
 * whether it is the last one (shorter than a full block).
 */
async function pump(
  src: FileHandle,
  srcName: string,
  start: number,
  unit: number,
  sink: PartsSink,
  process: (block: Buffer, last: boolean) => Buffer[],
): Promise<void> {
  // Blocks are sized to the file (one chunk more than it holds, so that a small file is
  // read and recognised as complete in one go): batches of photos must not allocate
  // megabytes per file. A file that grows meanwhile is still read correctly.
  let expected: number;
  try {
    expected = Math.max(0, (await src.stat()).size - start);
  } catch (err) {
    throw fromFsError(err, srcName, 'read');
  }
  const blockSize = unit * Math.min(BLOCK_CHUNKS, Math.floor(expected / unit) + 1);
  const buffers = [Buffer.allocUnsafe(blockSize), Buffer.allocUnsafe(blockSize)];
  // A read and a write are in flight together and only one is awaited at a time, so each
  // gets a handler as it starts: a failure of the other one (disk full during a read)
  // must surface as that error, not as an unhandled rejection that kills the process.
  const observed = <T>(promise: Promise<T>): Promise<T> => {
    promise.catch(() => undefined);
    return promise;
  };
  let position = start;
  let current = 0;
  let reading = observed(readFull(src, buffers[0]!, position, srcName));
  let writing: Promise<void> = Promise.resolve();
  try {
    for (;;) {
      const n = await reading;
      position += n;
      const last = n < blockSize;
      if (!last) reading = observed(readFull(src, buffers[current ^ 1]!, position, srcName));
      const parts = process(buffers[current]!.subarray(0, n), last);
      await writing;
      writing = observed(sink(parts));
      if (last) break;
      current ^= 1;
    }
    await writing;
  } finally {
    // Settle whatever is still in flight before the caller closes the handles.
    await Promise.allSettled([reading, writing]);
  }
}

/** Encrypts all of `src` as C2SP chunks (no prefix) into `sink`; returns the plaintext size. */
export async function sealFile(
  src: FileHandle,
  srcName: string,
  keys: ChunkKeys,
  sink: PartsSink,
  onBytes?: (n: number) => void,
): Promise<number> {
  let index = 0;
  let total = 0;
  await pump(src, srcName, 0, CHUNK_SIZE, sink, (block, last) => {
    const parts: Buffer[] = [];
    let pos = 0;
    for (; block.length - pos >= CHUNK_SIZE; pos += CHUNK_SIZE) {
      parts.push(...sealChunk(keys, index++, block.subarray(pos, pos + CHUNK_SIZE)));
    }
    // The final chunk is always short, possibly empty: it closes the last block.
    if (last) parts.push(...sealChunk(keys, index++, block.subarray(pos)));
    total += block.length;
    onBytes?.(block.length);
    return parts;
  });
  return total;
}

/**
 * Decrypts the chunks of `src` from `start` (just past salt and commitment) into `sink`.
 * Each chunk is released only after its tag verified; a damaged chunk stops the run
 * before anything of its block is written. Returns the plaintext size.
 */
export async function openFile(
  src: FileHandle,
  srcName: string,
  start: number,
  keys: ChunkKeys,
  sink: PartsSink,
  onBytes?: (n: number) => void,
): Promise<number> {
  let index = 0;
  let total = 0;
  await pump(src, srcName, start, SEALED_CHUNK_SIZE, sink, (block, last) => {
    const parts: Buffer[] = [];
    try {
      let pos = 0;
      for (; block.length - pos >= SEALED_CHUNK_SIZE; pos += SEALED_CHUNK_SIZE) {
        parts.push(openChunk(keys, index++, block.subarray(pos, pos + SEALED_CHUNK_SIZE)));
      }
      if (last) {
        const rest = block.length - pos;
        if (rest === 0) {
          throw new KeepsakeError(
            'TRUNCATED',
            'ends at a chunk boundary: its final chunk is missing',
          );
        }
        if (rest < TAG_SIZE) throw new KeepsakeError('TRUNCATED', 'ends inside its final chunk');
        parts.push(openChunk(keys, index++, block.subarray(pos)));
      }
    } catch (err) {
      throw namingFile(err, srcName);
    }
    const size = parts.reduce((n, p) => n + p.length, 0);
    total += size;
    onBytes?.(size);
    return parts;
  });
  return total;
}
