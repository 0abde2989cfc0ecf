import { createHash, randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Readable, Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { inflateSync } from 'node:zlib';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  CHUNK_SIZE,
  PREFIX_SIZE,
  SEALED_CHUNK_SIZE,
  ciphertextSize,
  decryptChunked,
  encryptChunked,
  plaintextSize,
  type AeadName,
} from './chunked';
import { DecryptStream, EncryptStream } from './chunked-stream';
import { vectorsDir } from '../testing/paths';

interface WycheproofTest {
  tcId: number;
  comment: string;
  key: string;
  ctx: string;
  ct: string;
  msgLength: number;
  msgSha512: string;
  result: 'valid' | 'invalid';
  flags: string[];
}

function loadVectors(file: string): WycheproofTest[] {
  const doc = JSON.parse(readFileSync(join(vectorsDir, file), 'utf8')) as {
    testGroups: { tests: WycheproofTest[] }[];
  };
  return doc.testGroups.flatMap((group) => group.tests);
}

/** Runs ciphertext through the streaming decoder in pieces of `piece` bytes. */
async function streamDecrypt(
  key: Buffer,
  ct: Buffer,
  ctx: Buffer,
  aead: AeadName,
  piece: number,
): Promise<{ plaintext: Buffer; error: unknown }> {
  const released: Buffer[] = [];
  const pieces: Buffer[] = [];
  for (let i = 0; i < ct.length; i += piece) pieces.push(ct.subarray(i, i + piece));
  let error: unknown;
  try {
    await pipeline(
      Readable.from(pieces),
      new DecryptStream(key, ctx, aead),
      new Writable({
        write(chunk: Buffer, _enc, done) {
          released.push(chunk);
          done();
        },
      }),
    );
  } catch (err) {
    error = err;
  }
  return { plaintext: Buffer.concat(released), error };
}

async function streamEncrypt(key: Buffer, pt: Buffer, ctx: Buffer, piece: number): Promise<Buffer> {
  const pieces: Buffer[] = [];
  for (let i = 0; i < pt.length; i += piece) pieces.push(pt.subarray(i, i + piece));
  const out: Buffer[] = [];
  await pipeline(
    Readable.from(pieces),
    new EncryptStream(key, ctx),
    new Writable({
      write(chunk: Buffer, _enc, done) {
        out.push(chunk);
        done();
      },
    }),
  );
  return Buffer.concat(out);
}

const sha512 = (b: Buffer) => createHash('sha512').update(b).digest('hex');

describe.each([
  ['c2sp_chunked_encryption_aes_256_gcm_test.json', 'AEAD_AES_256_GCM'],
  ['c2sp_chunked_encryption_aes_128_gcm_test.json', 'AEAD_AES_128_GCM'],
] as const)('Wycheproof vectors %s', (file, aead) => {
  const vectors = loadVectors(file);

  it('has both valid and invalid vectors', () => {
    expect(vectors.some((v) => v.result === 'valid')).toBe(true);
    expect(vectors.some((v) => v.result === 'invalid')).toBe(true);
  });

  it.each(vectors.map((v) => [v.tcId, v.comment, v] as const))(
    'tc %i: %s',
    async (_id, _comment, v) => {
      const key = Buffer.from(v.key, 'hex');
      const ctx = Buffer.from(v.ctx, 'hex');
      const ct = inflateSync(Buffer.from(v.ct, 'hex'));
      // One-shot decoder.
      let oneShot: Buffer | undefined;
      let oneShotError: unknown;
      try {
        oneShot = decryptChunked(key, ct, ctx, aead);
      } catch (err) {
        oneShotError = err;
      }
      // Streaming decoder, fed both in odd-sized pieces and in one piece.
      const small = await streamDecrypt(key, ct, ctx, aead, 7919);
      const whole = await streamDecrypt(key, ct, ctx, aead, Math.max(ct.length, 1));
      if (v.result === 'valid') {
        expect(oneShotError).toBeUndefined();
        expect(oneShot!.length).toBe(v.msgLength);
        expect(sha512(oneShot!)).toBe(v.msgSha512);
        for (const run of [small, whole]) {
          expect(run.error).toBeUndefined();
          expect(sha512(run.plaintext)).toBe(v.msgSha512);
        }
      } else {
        expect(oneShotError).toBeInstanceOf(Error);
        expect(oneShot).toBeUndefined();
        for (const run of [small, whole]) {
          expect(run.error).toBeInstanceOf(Error);
          // Streaming may release earlier chunks that did authenticate, never more
          // than the valid prefix: what came out is a prefix of whole chunks.
          expect(run.plaintext.length % CHUNK_SIZE).toBe(0);
        }
      }
    },
  );
});

describe('round trips', () => {
  const key = randomBytes(32);
  const ctx = Buffer.from('context');
  const sizes = [
    0,
    1,
    CHUNK_SIZE - 1,
    CHUNK_SIZE,
    CHUNK_SIZE + 1,
    3 * CHUNK_SIZE,
    5 * 1024 * 1024 + 17,
  ];

  it.each(sizes)('size %i, one-shot and streamed in several piece sizes', async (size) => {
    const pt = randomBytes(size);
    const ct = encryptChunked(key, pt, ctx);
    expect(ct.length).toBe(ciphertextSize(size));
    expect(plaintextSize(ct.length)).toBe(size);
    expect(decryptChunked(key, ct, ctx).equals(pt)).toBe(true);
    for (const piece of [1000, CHUNK_SIZE, SEALED_CHUNK_SIZE, 1 << 20]) {
      const streamed = await streamEncrypt(key, pt, ctx, piece);
      expect(streamed.length).toBe(ciphertextSize(size));
      const back = await streamDecrypt(key, streamed, ctx, 'AEAD_AES_256_GCM', piece + 3);
      expect(back.error).toBeUndefined();
      expect(back.plaintext.equals(pt)).toBe(true);
    }
  });

  it('refuses the wrong context and the wrong key before decrypting', () => {
    const ct = encryptChunked(key, Buffer.from('hello'), ctx);
    expect(() => decryptChunked(key, ct, Buffer.from('other'))).toThrow(/commitment/);
    expect(() => decryptChunked(randomBytes(32), ct, ctx)).toThrow(/commitment/);
    expect(() => decryptChunked(randomBytes(16), ct, ctx)).toThrow(/32-byte key/);
  });
});

describe('tampering (property tests)', () => {
  const key = randomBytes(32);
  const ctx = Buffer.alloc(0);
  const messages = fc.integer({ min: 0, max: 4 * CHUNK_SIZE + 100 }).map((n) => randomBytes(n));

  it('any flipped bit is detected', () => {
    fc.assert(
      fc.property(messages, fc.nat(), fc.integer({ min: 0, max: 7 }), (pt, at, bit) => {
        const ct = encryptChunked(key, pt, ctx);
        const offset = at % ct.length;
        ct[offset]! ^= 1 << bit;
        expect(() => decryptChunked(key, ct, ctx)).toThrow();
      }),
      { numRuns: 60 },
    );
  });

  it('any truncation is detected', () => {
    fc.assert(
      fc.property(messages, fc.nat(), (pt, at) => {
        const ct = encryptChunked(key, pt, ctx);
        const cut = at % ct.length;
        expect(() => decryptChunked(key, ct.subarray(0, cut), ctx)).toThrow();
      }),
      { numRuns: 60 },
    );
  });

  it('any extension is detected', () => {
    fc.assert(
      fc.property(
        messages,
        fc.uint8Array({ minLength: 1, maxLength: SEALED_CHUNK_SIZE + 20 }),
        (pt, extra) => {
          const ct = encryptChunked(key, pt, ctx);
          expect(() => decryptChunked(key, Buffer.concat([ct, extra]), ctx)).toThrow();
        },
      ),
      { numRuns: 60 },
    );
  });

  it('reordering or dropping whole chunks is detected', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 2 * CHUNK_SIZE, max: 6 * CHUNK_SIZE }),
        fc.nat(),
        fc.nat(),
        (size, a, b) => {
          const ct = encryptChunked(key, randomBytes(size), ctx);
          const chunks: Buffer[] = [];
          for (let o = PREFIX_SIZE; o < ct.length; o += SEALED_CHUNK_SIZE) {
            chunks.push(ct.subarray(o, o + SEALED_CHUNK_SIZE));
          }
          const i = a % chunks.length;
          let j = b % chunks.length;
          if (i === j) j = (j + 1) % chunks.length;
          const swapped = [...chunks];
          [swapped[i], swapped[j]] = [swapped[j]!, swapped[i]!];
          const prefix = ct.subarray(0, PREFIX_SIZE);
          expect(() => decryptChunked(key, Buffer.concat([prefix, ...swapped]), ctx)).toThrow();
          const dropped = chunks.filter((_, k) => k !== i);
          expect(() => decryptChunked(key, Buffer.concat([prefix, ...dropped]), ctx)).toThrow();
        },
      ),
      { numRuns: 40 },
    );
  });
});
