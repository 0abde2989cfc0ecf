import { randomBytes } from 'node:crypto';
import { readFile, writeFile, readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { freshDir, TEST_SCRYPT } from '../testing/tmp';
import { CHUNK_SIZE } from './chunked';
import { createVault, jobOutputVault } from './keyring';
import { VaultFile, writeVaultFile, type FileMeta } from './vault-file';

const meta = (size: number): FileMeta => ({
  name: 'clip.mp4',
  size,
  mtimeMs: 1_600_000_000_000,
  mediaType: 'video/mp4',
});

async function setup(size: number) {
  const dir = await freshDir();
  const { vault } = await createVault(join(dir, 'vault'), 'pw', {
    scrypt: TEST_SCRYPT,
    recovery: false,
  });
  const plaintext = randomBytes(size);
  const path = join(dir, 'clip.ksv');
  const written = await writeVaultFile(Readable.from([plaintext]), path, vault, meta(size));
  return { dir, vault, plaintext, path, written };
}

async function drain(stream: Readable): Promise<Buffer> {
  const parts: Buffer[] = [];
  for await (const part of stream) parts.push(part as Buffer);
  return Buffer.concat(parts);
}

describe('vault file', () => {
  it.each([0, 1, CHUNK_SIZE - 1, CHUNK_SIZE, CHUNK_SIZE + 1, 3 * 1024 * 1024 + 5])(
    'round-trips %i bytes with metadata, by stream and by key alone',
    async (size) => {
      const { vault, plaintext, path, written } = await setup(size);
      const file = await VaultFile.open(path, { vault });
      expect(file.meta).toEqual(meta(size));
      expect(file.size).toBe(size);
      expect((await drain(file.rangeStream())).equals(plaintext)).toBe(true);
      await file.close();
      // A job holding only this file's key can read it too (no master key needed).
      const byKey = await VaultFile.open(path, { fileKey: written.fileKey });
      expect((await byKey.read(0, size)).equals(plaintext)).toBe(true);
      await byKey.close();
    },
  );

  it('random access returns exactly bytes [a, b) for any a ≤ b', async () => {
    const { vault, plaintext, path } = await setup(5 * CHUNK_SIZE + 123);
    const file = await VaultFile.open(path, { vault });
    await fc.assert(
      fc.asyncProperty(fc.nat(plaintext.length), fc.nat(plaintext.length), async (x, y) => {
        const [a, b] = x <= y ? [x, y] : [y, x];
        expect((await file.read(a, b)).equals(plaintext.subarray(a, b))).toBe(true);
        expect((await drain(file.rangeStream(a, b))).equals(plaintext.subarray(a, b))).toBe(true);
      }),
      { numRuns: 50 },
    );
    await expect(file.read(0, plaintext.length + 1)).rejects.toMatchObject({
      code: 'RANGE_NOT_SATISFIABLE',
    });
    await file.close();
  });

  it('detects a header swapped in from another file', async () => {
    const a = await setup(1000);
    const other = join(a.dir, 'other.ksv');
    await writeVaultFile(Readable.from([randomBytes(1000)]), other, a.vault, meta(1000));
    const headerA = await readFile(a.path);
    const headerB = await readFile(other);
    const lenA = 9 + headerA.readUInt32BE(5);
    const lenB = 9 + headerB.readUInt32BE(5);
    const franken = Buffer.concat([headerB.subarray(0, lenB), headerA.subarray(lenA)]);
    await writeFile(a.path, franken);
    await expect(VaultFile.open(a.path, { vault: a.vault })).rejects.toMatchObject({
      code: 'HEADER_CORRUPT',
    });
  });

  it('detects any edited header byte', async () => {
    const { vault, path } = await setup(100);
    const original = await readFile(path);
    const headerEnd = 9 + original.readUInt32BE(5);
    await fc.assert(
      fc.asyncProperty(fc.nat(headerEnd - 1), fc.integer({ min: 1, max: 255 }), async (at, xor) => {
        const edited = Buffer.from(original);
        edited[at]! ^= xor;
        await writeFile(path, edited);
        await expect(VaultFile.open(path, { vault })).rejects.toThrow();
      }),
      { numRuns: 40 },
    );
  });

  it('refuses a file of another vault and a plain file', async () => {
    const { dir, path } = await setup(10);
    const { vault: stranger } = await createVault(join(dir, 'v2'), 'pw', {
      scrypt: TEST_SCRYPT,
      recovery: false,
    });
    await expect(VaultFile.open(path, { vault: stranger })).rejects.toMatchObject({
      code: 'WRONG_VAULT',
    });
    await writeFile(join(dir, 'plain.txt'), 'hello');
    await expect(VaultFile.open(join(dir, 'plain.txt'), { vault: stranger })).rejects.toMatchObject(
      {
        code: 'NOT_A_VAULT_FILE',
      },
    );
  });

  it('never replaces an existing output and leaves no temp file behind', async () => {
    const { dir, vault, path } = await setup(10);
    const before = await readFile(path);
    await expect(
      writeVaultFile(Readable.from([Buffer.from('x')]), path, vault, meta(1)),
    ).rejects.toMatchObject({
      code: 'OUTPUT_EXISTS',
    });
    expect((await readFile(path)).equals(before)).toBe(true);
    const failing = new Readable({
      read() {
        this.destroy(new Error('source vanished'));
      },
    });
    await expect(writeVaultFile(failing, join(dir, 'new.ksv'), vault, meta(1))).rejects.toThrow();
    expect((await readdir(dir)).sort()).toEqual(['clip.ksv', 'vault']);
  });

  it('refuses a source whose length differs from the size its header promises', async () => {
    const dir = await freshDir();
    const { vault } = await createVault(join(dir, 'vault'), 'pw', {
      scrypt: TEST_SCRYPT,
      recovery: false,
    });
    const promised = meta(1000);
    await expect(
      writeVaultFile(Readable.from([randomBytes(999)]), join(dir, 'short.ksv'), vault, promised),
    ).rejects.toMatchObject({ code: 'SOURCE_UNREADABLE' });
    expect(await readdir(dir)).toEqual(['vault']);
  });

  it('a job key derived from the vault wraps outputs the vault alone opens later', async () => {
    const { dir, vault } = await setup(10);
    const jobVault = jobOutputVault(vault, 'j0123456789ab');
    expect(jobVault.masterKey.equals(vault.masterKey)).toBe(false);
    const path = join(dir, 'out.ksv');
    const body = randomBytes(40_000);
    await writeVaultFile(Readable.from([body]), path, jobVault, meta(body.length));
    const vf = await VaultFile.open(path, { vault });
    expect((await vf.read(0, body.length)).equals(body)).toBe(true);
    await vf.close();
    // Another job's key does not open it, and neither does another vault.
    const other = jobOutputVault(vault, 'jother');
    const wrapped = await VaultFile.open(path, {
      vault: { ...other, masterKeyId: vault.masterKeyId },
    }).then(
      () => 'opened',
      (e: unknown) => String(e),
    );
    expect(wrapped).toMatch(/HEADER_CORRUPT|does not authenticate/);
    const stranger = await createVault(join(dir, 'v2'), 'pw', {
      scrypt: TEST_SCRYPT,
      recovery: false,
    });
    const refused = await VaultFile.open(path, { vault: stranger.vault }).then(
      () => 'opened',
      (e: unknown) => String(e),
    );
    expect(refused).toMatch(/different vault/);
  });
});
