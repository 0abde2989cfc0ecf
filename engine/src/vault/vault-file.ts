// The vault file (`.ksv`): a small authenticated header, then a Cobblestone-256 payload.
//
//   "KSVF" | version (1 byte) | header length (u32 BE) | header JSON | payload
//
// The header holds the file key wrapped by the vault master key and the file's metadata
// encrypted under a key derived from the file key. The payload's C2SP `context` is a
// hash of every header byte, so the payload's key commitment fails if the header is
// edited or swapped for another file's. See docs/vault-format.md.
//
// The header is built and read in vault-header.ts; this module writes and opens whole
// files.

import { open, type FileHandle } from 'node:fs/promises';
import { Readable, Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { KeepsakeError, fromFsError, namingFile } from '../core/errors';
import { checkReplaceable, openAtomic } from '../fs/atomic';
import { fileSink } from '../fs/sink';
import { displayPath, type FsPath } from '../fs/paths';
import {
  CHUNK_SIZE,
  ciphertextSize,
  PREFIX_SIZE,
  SEALED_CHUNK_SIZE,
  openChunk,
  newPrefix,
  openPrefix,
  plaintextSize,
  type ChunkKeys,
} from './chunked';
import { EncryptStream } from './chunked-stream';
import { fileSinkParts, openFile, sealFile, type PartsSink } from './file-pump';
import type { Vault } from './keyring';

import {
  buildHeader,
  payloadContext,
  readExactly,
  readHeader,
  type FileKeySource,
  type FileMeta,
} from './vault-header';

export { MAGIC, payloadContext, type FileKeySource, type FileMeta } from './vault-header';

/** An open source file, read by the fast path (see file-pump.ts). */
export interface FileInput {
  handle: FileHandle;
  name: string;
}

/**
 * Encrypts `input` into a vault file at `dest`, atomically: the file appears under its
 * final name only once complete. Refuses to replace an existing file unless `overwrite`.
 */
export async function writeVaultFile(
  input: Readable | FileInput,
  dest: FsPath,
  vault: Vault,
  meta: FileMeta,
  options: {
    overwrite?: boolean;
    durable?: boolean;
    fileKey?: Buffer;
    onBytes?: (n: number) => void;
  } = {},
): Promise<{ fileId: string; fileKey: Buffer; size: number; storedSize: number }> {
  try {
    await checkReplaceable(dest, options.overwrite ?? false);
  } catch (err) {
    if (input instanceof Readable) input.destroy();
    throw err;
  }
  const { preamble, fileKey, fileId } = buildHeader(vault, meta, options.fileKey);
  const out = await openAtomic(dest, { durable: options.durable ?? false });
  let size = 0;
  const counter = new Transform({
    transform(chunk: Buffer, _enc, done) {
      size += chunk.length;
      options.onBytes?.(chunk.length);
      done(null, chunk);
    },
  });
  try {
    await out.handle.write(preamble);
    if (input instanceof Readable) {
      await pipeline(
        input,
        counter,
        new EncryptStream(fileKey, payloadContext(preamble)),
        fileSink(out.handle),
      );
    } else {
      const { prefix, keys } = newPrefix(fileKey, payloadContext(preamble));
      await out.handle.write(prefix);
      size = await sealFile(
        input.handle,
        input.name,
        keys,
        fileSinkParts(out.handle, displayPath(dest)),
        options.onBytes,
      );
    }
    // The header promised meta.size bytes: a source that grew or shrank while it was
    // read must not leave a vault file that contradicts its own header.
    if (size !== meta.size) {
      throw new KeepsakeError(
        'SOURCE_UNREADABLE',
        `changed size while it was read (${meta.size} -> ${size} bytes)`,
        {
          file: input instanceof Readable ? displayPath(dest) : input.name,
        },
      );
    }
    await out.commit();
  } catch (err) {
    await out.abort();
    throw err instanceof KeepsakeError ? err : fromFsError(err, displayPath(dest), 'write');
  }
  return { fileId, fileKey, size, storedSize: preamble.length + ciphertextSize(size) };
}

/** An opened vault file: metadata, plaintext size, and streaming or random-access reads. */
export class VaultFile {
  private constructor(
    private readonly handle: FileHandle,
    readonly path: string,
    readonly fileId: string,
    readonly meta: FileMeta,
    readonly fileKey: Buffer,
    /** Plaintext size, from the ciphertext size (which proves nothing until read). */
    readonly size: number,
    private readonly preamble: Buffer,
    private readonly payloadSize: number,
    private readonly keys: ChunkKeys,
  ) {}

  private get payloadOffset(): number {
    return this.preamble.length;
  }

  static async open(path: FsPath, source: FileKeySource): Promise<VaultFile> {
    const file = displayPath(path);
    let handle: FileHandle;
    try {
      handle = await open(path, 'r');
    } catch (err) {
      throw fromFsError(err, file, 'read');
    }
    try {
      const { size: fileSize } = await handle.stat();
      const parsed = await readHeader(handle, source, file);
      const payloadOffset = parsed.preamble.length;
      const payloadSize = fileSize - payloadOffset;
      const prefix = await readExactly(handle, PREFIX_SIZE, payloadOffset);
      const keys = withFile(file, () =>
        openPrefix(parsed.fileKey, prefix, payloadContext(parsed.preamble)),
      );
      const size = withFile(file, () => plaintextSize(payloadSize));
      return new VaultFile(
        handle,
        file,
        parsed.header.fid,
        parsed.meta,
        parsed.fileKey,
        size,
        parsed.preamble,
        payloadSize,
        keys,
      );
    } catch (err) {
      await handle.close();
      throw err;
    }
  }

  /** The whole payload into `sink`, by the fast path; checks it against the header's size. */
  async decryptInto(sink: PartsSink, onBytes?: (n: number) => void): Promise<void> {
    const size = await openFile(
      this.handle,
      this.path,
      this.payloadOffset + PREFIX_SIZE,
      this.keys,
      sink,
      onBytes,
    );
    if (size !== this.meta.size) {
      throw new KeepsakeError(
        'PAYLOAD_CORRUPT',
        `holds ${size} bytes, its header says ${this.meta.size}`,
        {
          file: this.path,
        },
      );
    }
  }

  /** Bytes [start, end) of the plaintext, decrypting only the chunks that cover them. */
  async read(start: number, end: number): Promise<Buffer> {
    const parts: Buffer[] = [];
    for await (const part of this.rangeChunks(start, end)) parts.push(part);
    return Buffer.concat(parts);
  }

  /** A stream of plaintext bytes [start, end), for HTTP Range and FFmpeg input. */
  rangeStream(start = 0, end = this.size): Readable {
    return Readable.from(this.rangeChunks(start, end), { objectMode: false });
  }

  private async *rangeChunks(start: number, end: number): AsyncGenerator<Buffer> {
    if (
      !Number.isInteger(start) ||
      !Number.isInteger(end) ||
      start < 0 ||
      end > this.size ||
      start > end
    ) {
      throw new KeepsakeError(
        'RANGE_NOT_SATISFIABLE',
        `range [${start}, ${end}) is outside 0..${this.size}`,
        {
          file: this.path,
        },
      );
    }
    if (start === end) return;
    const lastChunk = Math.floor(this.size / CHUNK_SIZE);
    const batch = 64;
    for (
      let first = Math.floor(start / CHUNK_SIZE);
      first <= Math.floor((end - 1) / CHUNK_SIZE);
      first += batch
    ) {
      const last = Math.min(first + batch - 1, Math.floor((end - 1) / CHUNK_SIZE), lastChunk);
      const from = PREFIX_SIZE + first * SEALED_CHUNK_SIZE;
      const to = Math.min(PREFIX_SIZE + (last + 1) * SEALED_CHUNK_SIZE, this.payloadSize);
      const sealed = await readExactly(this.handle, to - from, this.payloadOffset + from);
      if (sealed.length < to - from) {
        throw new KeepsakeError('TRUNCATED', 'the file shrank while being read', {
          file: this.path,
        });
      }
      // One buffer per batch, not per 16 KiB chunk: a socket or pipe then takes one
      // write per batch, which is most of the cost of serving a segment.
      const pieces: Buffer[] = [];
      for (let index = first; index <= last; index++) {
        const offset = (index - first) * SEALED_CHUNK_SIZE;
        const plain = withFile(this.path, () =>
          openChunk(this.keys, index, sealed.subarray(offset, offset + SEALED_CHUNK_SIZE)),
        );
        const chunkStart = index * CHUNK_SIZE;
        pieces.push(
          plain.subarray(Math.max(0, start - chunkStart), Math.min(plain.length, end - chunkStart)),
        );
      }
      yield pieces.length === 1 ? pieces[0]! : Buffer.concat(pieces);
    }
  }

  async close(): Promise<void> {
    await this.handle.close();
  }
}

/** Re-raises an error from the chunk layer with the file's name in it. */
function withFile<T>(file: string, fn: () => T): T {
  try {
    return fn();
  } catch (err) {
    throw namingFile(err, file);
  }
}
