import { randomBytes } from 'node:crypto';
import { open, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { freshDir } from '../testing/tmp';
import { newPrefix } from './chunked';
import { sealFile } from './file-pump';

describe('file pump', () => {
  it('a sink that fails while the next read is in flight fails the run (no crash)', async () => {
    const dir = await freshDir();
    await writeFile(join(dir, 'src'), randomBytes(5 * 1024 * 1024));
    const handle = await open(join(dir, 'src'), 'r');
    const { keys } = newPrefix(randomBytes(32), Buffer.alloc(0));
    let calls = 0;
    const failingSink = async () => {
      calls++;
      // Fails later, while the pump is awaiting its next read.
      await new Promise((r) => setTimeout(r, 5));
      throw Object.assign(new Error('no space left on device'), { code: 'ENOSPC' });
    };
    await expect(sealFile(handle, 'src', keys, failingSink)).rejects.toThrow('no space left');
    expect(calls).toBe(1);
    await handle.close();
  });
});
