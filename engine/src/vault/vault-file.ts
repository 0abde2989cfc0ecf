// The vault file (`.ksv`): a small authenticated header, then a Cobblestone-256 payload.
//
//   "KSVF" | version (1 byte) | header length (u32 BE) | header JSON | payload
//
// The header holds the file key wrapped by the vault master key and the file's metadata
// encrypted under a key derived from the file key. The payload's C2SP `context` is a
// hash of every header byte, so the payload's key commitment fails if the header is
// edited or swapped for another file's. See docs/vault-format.md.

import { createCipheriv, createDecipheriv, createHash, hkdfSync, randomBytes } from 'node:crypto';
import { open, type FileHandle } from 'node:fs/promises';
import { Readable, Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { KeepsakeError, fromFsError, namingFile } from '../core/errors';
import { newHexId128 } from '../core/ids';
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
import { wrappingKey, type Vault } from './keyring';

export const MAGIC = Buffer.from('KSVF', 'latin1');
export const FORMAT_VERSION = 1;
const FIXED_SIZE = MAGIC.length + 1 + 4;
/** Headers are a few hundred bytes; anything past this is not ours. */
export const MAX_HEADER_SIZE = 64 * 1024;
const CONTEXT_LABEL = Buffer.from('keepsake vault file v1\0');

export interface FileMeta {
  /** Original file name (display form; invalid UTF-8 shows as U+FFFD). */
  name: string;
  /** The exact name bytes, base64, when the name is not valid UTF-8. */
  nameBytes?: string;
  size: number;
  mtimeMs: number;
  mediaType: string;
}

interface HeaderJson {
  vault: string;
  kid: string;
  fid: string;
  wk: string;
  meta: string;
}

/** An open source file, read by the fast path (see file-pump.ts). */
export interface FileInput {
  handle: FileHandle;
  name: string;
}

/** What is needed to open a file: the unlocked vault, or just this file's key. */
export type FileKeySource = { vault: Vault } | { fileKey: Buffer };

function sealGcm(key: Buffer, plaintext: Buffer, aad: Buffer): Buffer {
  const nonce = randomBytes(12);
  const cipher = createCipheriv('aes-256-gcm', key, nonce, { authTagLength: 16 });
  cipher.setAAD(aad);
  return Buffer.concat([nonce, cipher.update(plaintext), cipher.final(), cipher.getAuthTag()]);
}

function openGcm(key: Buffer, sealed: Buffer, aad: Buffer): Buffer | undefined {
  if (sealed.length < 28) return undefined;
  const decipher = createDecipheriv('aes-256-gcm', key, sealed.subarray(0, 12), {
    authTagLength: 16,
  });
  decipher.setAAD(aad);
  decipher.setAuthTag(sealed.subarray(sealed.length - 16));
  try {
    return Buffer.concat([
      decipher.update(sealed.subarray(12, sealed.length - 16)),
      decipher.final(),
    ]);
  } catch {
    return undefined;
  }
}

const fileKeyAad = (vaultId: string, fileId: string) =>
  Buffer.from(`keepsake file key v1|${vaultId}|${fileId}`);

function metaKey(fileKey: Buffer, fileId: string): Buffer {
  return Buffer.from(
    hkdfSync('sha256', fileKey, Buffer.from(fileId), 'keepsake file metadata v1', 32),
  );
}

export function payloadContext(preamble: Buffer): Buffer {
  return createHash('sha256').update(CONTEXT_LABEL).update(preamble).digest();
}

/** Builds the header bytes for a new file under `vault`, with a fresh random file key. */
export function buildHeader(
  vault: Vault,
  meta: FileMeta,
  fileKey: Buffer = randomBytes(32),
): { preamble: Buffer; fileKey: Buffer; fileId: string } {
  const fileId = newHexId128();
  const header: HeaderJson = {
    vault: vault.vaultId,
    kid: vault.masterKeyId,
    fid: fileId,
    wk: sealGcm(vault.masterKey, fileKey, fileKeyAad(vault.vaultId, fileId)).toString('base64'),
    meta: sealGcm(
      metaKey(fileKey, fileId),
      Buffer.from(JSON.stringify(meta)),
      Buffer.from(fileId),
    ).toString('base64'),
  };
  const json = Buffer.from(JSON.stringify(header));
  const fixed = Buffer.alloc(FIXED_SIZE);
  MAGIC.copy(fixed);
  fixed.writeUInt8(FORMAT_VERSION, MAGIC.length);
  fixed.writeUInt32BE(json.length, MAGIC.length + 1);
  return { preamble: Buffer.concat([fixed, json]), fileKey, fileId };
}

export interface ParsedHeader {
  preamble: Buffer;
  header: HeaderJson;
  fileKey: Buffer;
  meta: FileMeta;
}

async function readExactly(handle: FileHandle, length: number, position: number): Promise<Buffer> {
  const buf = Buffer.alloc(length);
  const { bytesRead } = await handle.read(buf, 0, length, position);
  return buf.subarray(0, bytesRead);
}

/** Reads and authenticates what can be authenticated of a header without the payload. */
export async function readHeader(
  handle: FileHandle,
  source: FileKeySource,
  file: string,
): Promise<ParsedHeader> {
  const fixed = await readExactly(handle, FIXED_SIZE, 0);
  if (fixed.length < FIXED_SIZE || !fixed.subarray(0, MAGIC.length).equals(MAGIC)) {
    throw new KeepsakeError('NOT_A_VAULT_FILE', 'not a Keepsake vault file (bad magic)', { file });
  }
  const version = fixed.readUInt8(MAGIC.length);
  if (version !== FORMAT_VERSION) {
    throw new KeepsakeError(
      'UNSUPPORTED_VERSION',
      `vault file version ${version} is not supported`,
      { file },
    );
  }
  const length = fixed.readUInt32BE(MAGIC.length + 1);
  if (length > MAX_HEADER_SIZE) {
    throw new KeepsakeError('HEADER_CORRUPT', `header length ${length} is implausible`, { file });
  }
  const json = await readExactly(handle, length, FIXED_SIZE);
  if (json.length < length)
    throw new KeepsakeError('TRUNCATED', 'the file ends inside its header', { file });
  let header: HeaderJson;
  try {
    header = JSON.parse(json.toString('utf8')) as HeaderJson;
  } catch {
    throw new KeepsakeError('HEADER_CORRUPT', 'the header is not readable', { file });
  }
  if (
    !header ||
    typeof header.fid !== 'string' ||
    typeof header.wk !== 'string' ||
    typeof header.meta !== 'string'
  ) {
    throw new KeepsakeError('HEADER_CORRUPT', 'the header is missing fields', { file });
  }
  let fileKey: Buffer;
  if ('vault' in source) {
    const { vault } = source;
    if (header.vault !== vault.vaultId) {
      throw new KeepsakeError('WRONG_VAULT', 'this file belongs to a different vault', { file });
    }
    const wrapKey = wrappingKey(vault, header.kid);
    if (!wrapKey) {
      throw new KeepsakeError(
        'WRONG_VAULT',
        `this file is wrapped under key ${header.kid}, unknown to this vault`,
        { file },
      );
    }
    const unwrapped = openGcm(
      wrapKey,
      Buffer.from(header.wk, 'base64'),
      fileKeyAad(vault.vaultId, header.fid),
    );
    if (!unwrapped)
      throw new KeepsakeError('HEADER_CORRUPT', 'the wrapped file key does not authenticate', {
        file,
      });
    fileKey = unwrapped;
  } else {
    fileKey = source.fileKey;
  }
  const metaJson = openGcm(
    metaKey(fileKey, header.fid),
    Buffer.from(header.meta, 'base64'),
    Buffer.from(header.fid),
  );
  if (!metaJson) {
    throw new KeepsakeError(
      'HEADER_CORRUPT',
      'the metadata does not authenticate (wrong key or edited header)',
      {
        file,
      },
    );
  }
  return {
    preamble: Buffer.concat([fixed, json]),
    header,
    fileKey,
    meta: JSON.parse(metaJson.toString()) as FileMeta,
  };
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
