import { randomBytes } from 'node:crypto';
import { readFile, readdir, truncate, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { freshDir, TEST_SCRYPT } from '../testing/tmp';
import { CHUNK_SIZE, SEALED_CHUNK_SIZE, decryptChunked } from './chunked';
import { decryptFile, encryptFile, verifyFile } from './file-ops';
import { createVault } from './keyring';
import { VaultFile, payloadContext } from './vault-file';

async function setup() {
  const dir = await freshDir();
  const { vault } = await createVault(join(dir, 'vault'), 'pw', {
    scrypt: TEST_SCRYPT,
    recovery: false,
  });
  return { dir, vault };
}

const MiB = 1 << 20;

describe('file fast path (file-pump)', () => {
  it.each([0, 1, CHUNK_SIZE, MiB - 1, MiB, MiB + 1, 2 * MiB, 2 * MiB + CHUNK_SIZE + 3])(
    '%i bytes: round trip, and the payload is standard C2SP',
    async (size) => {
      const { dir, vault } = await setup();
      const plain = randomBytes(size);
      await writeFile(join(dir, 'in'), plain);
      await encryptFile(join(dir, 'in'), join(dir, 'in.ksv'), vault);
      // Cross-check with the independent one-shot decoder.
      const file = Buffer.from(await readFile(join(dir, 'in.ksv')));
      const vf = await VaultFile.open(join(dir, 'in.ksv'), { vault });
      const preambleLength = 9 + file.readUInt32BE(5);
      const payload = file.subarray(preambleLength);
      expect(
        decryptChunked(
          vf.fileKey,
          payload,
          payloadContext(file.subarray(0, preambleLength)),
        ).equals(plain),
      ).toBe(true);
      await vf.close();
      await decryptFile(join(dir, 'in.ksv'), join(dir, 'out'), { vault });
      expect((await readFile(join(dir, 'out'))).equals(plain)).toBe(true);
      expect((await verifyFile(join(dir, 'in.ksv'), { vault })).size).toBe(size);
    },
  );

  it('a file cut at a block boundary is refused and leaves no output', async () => {
    const { dir, vault } = await setup();
    await writeFile(join(dir, 'in'), randomBytes(2 * MiB + 100));
    await encryptFile(join(dir, 'in'), join(dir, 'in.ksv'), vault);
    const file = await readFile(join(dir, 'in.ksv'));
    const payloadStart = 9 + file.readUInt32BE(5);
    // Keep the prefix and exactly the first 64 full chunks (one pump block).
    await truncate(join(dir, 'in.ksv'), payloadStart + 56 + 64 * SEALED_CHUNK_SIZE);
    await expect(
      decryptFile(join(dir, 'in.ksv'), join(dir, 'out'), { vault }),
    ).rejects.toMatchObject({
      code: 'TRUNCATED',
    });
    await expect(verifyFile(join(dir, 'in.ksv'), { vault })).rejects.toMatchObject({
      code: 'TRUNCATED',
    });
    expect((await readdir(dir)).sort()).toEqual(['in', 'in.ksv', 'vault']);
  });

  it('any damaged payload byte is refused by decrypt and verify, and ranges elsewhere still read', async () => {
    const { dir, vault } = await setup();
    const plain = randomBytes(MiB + 5 * CHUNK_SIZE + 77);
    await writeFile(join(dir, 'in'), plain);
    await encryptFile(join(dir, 'in'), join(dir, 'good.ksv'), vault);
    const good = await readFile(join(dir, 'good.ksv'));
    const payloadStart = 9 + good.readUInt32BE(5) + 56;
    await fc.assert(
      fc.asyncProperty(
        fc.integer({ min: payloadStart, max: good.length - 1 }),
        fc.integer({ min: 1, max: 255 }),
        async (at, xor) => {
          const bad = Buffer.from(good);
          bad[at]! ^= xor;
          await writeFile(join(dir, 'bad.ksv'), bad);
          await expect(
            decryptFile(join(dir, 'bad.ksv'), join(dir, 'out'), { vault }),
          ).rejects.toMatchObject({
            code: 'PAYLOAD_CORRUPT',
          });
          await expect(verifyFile(join(dir, 'bad.ksv'), { vault })).rejects.toMatchObject({
            code: 'PAYLOAD_CORRUPT',
          });
          const damaged = Math.floor((at - payloadStart) / SEALED_CHUNK_SIZE);
          const vf = await VaultFile.open(join(dir, 'bad.ksv'), { vault });
          try {
            await expect(
              vf.read(damaged * CHUNK_SIZE, damaged * CHUNK_SIZE + 1),
            ).rejects.toMatchObject({
              code: 'PAYLOAD_CORRUPT',
            });
            const other = damaged === 0 ? 1 : 0;
            const range: [number, number] = [other * CHUNK_SIZE, other * CHUNK_SIZE + 100];
            expect((await vf.read(...range)).equals(plain.subarray(...range))).toBe(true);
          } finally {
            await vf.close();
          }
          expect((await readdir(dir)).sort()).toEqual(['bad.ksv', 'good.ksv', 'in', 'vault']);
        },
      ),
      { numRuns: 30 },
    );
  });
});
