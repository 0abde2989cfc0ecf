// The package entry works as a library: a round trip through its public API only.
import { randomBytes } from 'node:crypto';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import * as engine from '@keepsake/engine';
import { freshDir, TEST_SCRYPT } from './testing/tmp';

describe('@keepsake/engine', () => {
  it('encrypts a file and reads a range back through the public API', async () => {
    const dir = await freshDir();
    const { vault } = await engine.createVault(join(dir, 'vault'), 'pw', { scrypt: TEST_SCRYPT });
    const plain = randomBytes(100_000);
    await writeFile(join(dir, 'clip.mov'), plain);
    await engine.encryptFile(join(dir, 'clip.mov'), join(dir, 'clip.ksv'), vault);
    const file = await engine.VaultFile.open(join(dir, 'clip.ksv'), { vault });
    expect(file.meta.name).toBe('clip.mov');
    expect((await file.read(40_000, 60_000)).equals(plain.subarray(40_000, 60_000))).toBe(true);
    await file.close();
    const chunks: Buffer[] = [];
    for await (const c of Readable.from([plain]).pipe(new engine.EncryptStream(randomBytes(32))))
      chunks.push(c);
    expect(Buffer.concat(chunks).length).toBe(engine.ciphertextSize(plain.length));
    expect(engine.PRESETS.length).toBe(10);
  });
});
