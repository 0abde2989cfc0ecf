// Streaming C2SP chunked encryption as Node Transform streams. Memory stays bounded
// by the stream's high-water marks plus one chunk of carry, whatever the file size.

import { Transform, type TransformCallback } from 'node:stream';
import {
  CHUNK_SIZE,
  COBBLESTONE_256,
  PREFIX_SIZE,
  SEALED_CHUNK_SIZE,
  TAG_SIZE,
  newPrefix,
  openChunk,
  openPrefix,
  sealChunk,
  type AeadName,
  type ChunkKeys,
} from './chunked';
import { KeepsakeError, namingFile } from '../core/errors';

/** Encrypts a byte stream into `salt || commitment || chunks`. */
export class EncryptStream extends Transform {
  private readonly keys: ChunkKeys;
  private readonly carry = Buffer.alloc(CHUNK_SIZE);
  private carryLength = 0;
  private index = 0;

  constructor(
    inputKey: Buffer,
    context: Buffer = Buffer.alloc(0),
    aead: AeadName = COBBLESTONE_256,
  ) {
    super({ readableHighWaterMark: 1 << 20, writableHighWaterMark: 1 << 20 });
    const { prefix, keys } = newPrefix(inputKey, context, aead);
    this.keys = keys;
    this.push(prefix);
  }

  override _transform(data: Buffer, _enc: BufferEncoding, done: TransformCallback): void {
    try {
      const out: Buffer[] = [];
      let pos = 0;
      if (this.carryLength > 0) {
        const take = Math.min(CHUNK_SIZE - this.carryLength, data.length);
        data.copy(this.carry, this.carryLength, 0, take);
        this.carryLength += take;
        pos = take;
        if (this.carryLength < CHUNK_SIZE) return done();
        // A full chunk is never the final one (the final chunk is always short), so
        // it can be sealed as soon as it is complete.
        out.push(...sealChunk(this.keys, this.index++, this.carry));
        this.carryLength = 0;
      }
      for (; data.length - pos >= CHUNK_SIZE; pos += CHUNK_SIZE) {
        out.push(...sealChunk(this.keys, this.index++, data.subarray(pos, pos + CHUNK_SIZE)));
      }
      this.carryLength = data.copy(this.carry, 0, pos);
      if (out.length > 0) this.push(Buffer.concat(out));
      done();
    } catch (err) {
      done(err as Error);
    }
  }

  override _flush(done: TransformCallback): void {
    try {
      const [body, tag] = sealChunk(
        this.keys,
        this.index++,
        this.carry.subarray(0, this.carryLength),
      );
      this.push(Buffer.concat([body, tag]));
      done();
    } catch (err) {
      done(err as Error);
    }
  }
}

/**
 * Decrypts `salt || commitment || chunks`. The commitment is checked before any chunk
 * is opened, and each chunk's plaintext is pushed only after its tag verified, so an
 * invalid chunk never releases plaintext. A full-size chunk can only be opened once
 * more bytes are known to follow (a full-size final chunk means truncation).
 */
export class DecryptStream extends Transform {
  private readonly inputKey: Buffer;
  private readonly context: Buffer;
  private readonly aead: AeadName;
  private keys: ChunkKeys | undefined;
  private readonly prefix = Buffer.alloc(PREFIX_SIZE);
  private prefixLength = 0;
  private readonly carry = Buffer.alloc(SEALED_CHUNK_SIZE);
  private carryLength = 0;
  private index = 0;
  /** Named in errors, when the ciphertext comes from a file. */
  private readonly file: string | undefined;

  constructor(
    inputKey: Buffer,
    context: Buffer = Buffer.alloc(0),
    aead: AeadName = COBBLESTONE_256,
    file?: string,
  ) {
    super({ readableHighWaterMark: 1 << 20, writableHighWaterMark: 1 << 20 });
    this.file = file;
    this.inputKey = inputKey;
    this.context = context;
    this.aead = aead;
  }

  override _transform(data: Buffer, _enc: BufferEncoding, done: TransformCallback): void {
    try {
      let pos = 0;
      if (!this.keys) {
        pos = data.copy(this.prefix, this.prefixLength, 0, PREFIX_SIZE - this.prefixLength);
        this.prefixLength += pos;
        if (this.prefixLength < PREFIX_SIZE) return done();
        this.keys = openPrefix(this.inputKey, this.prefix, this.context, this.aead);
      }
      const keys = this.keys;
      const out: Buffer[] = [];
      if (this.carryLength > 0 && pos < data.length) {
        const take = Math.min(SEALED_CHUNK_SIZE - this.carryLength, data.length - pos);
        data.copy(this.carry, this.carryLength, pos, pos + take);
        this.carryLength += take;
        pos += take;
        if (this.carryLength === SEALED_CHUNK_SIZE && pos < data.length) {
          out.push(openChunk(keys, this.index++, this.carry));
          this.carryLength = 0;
        }
      }
      if (this.carryLength === 0) {
        for (; data.length - pos > SEALED_CHUNK_SIZE; pos += SEALED_CHUNK_SIZE) {
          out.push(openChunk(keys, this.index++, data.subarray(pos, pos + SEALED_CHUNK_SIZE)));
        }
        this.carryLength = data.copy(this.carry, 0, pos);
      }
      for (const part of out) this.push(part);
      done();
    } catch (err) {
      done(namingFile(err, this.file) as Error);
    }
  }

  override _flush(done: TransformCallback): void {
    try {
      if (!this.keys) {
        throw new KeepsakeError('TRUNCATED', 'ciphertext is shorter than its salt and commitment');
      }
      if (this.carryLength < TAG_SIZE) {
        throw new KeepsakeError('TRUNCATED', 'ciphertext ends before its final chunk');
      }
      if (this.carryLength === SEALED_CHUNK_SIZE) {
        throw new KeepsakeError(
          'TRUNCATED',
          'ciphertext ends at a chunk boundary: its final chunk is missing',
        );
      }
      this.push(openChunk(this.keys, this.index++, this.carry.subarray(0, this.carryLength)));
      done();
    } catch (err) {
      done(namingFile(err, this.file) as Error);
    }
  }
}
