import { mkdir, readFile, readdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { freshDir, TEST_SCRYPT } from '../testing/tmp';
import { encryptFile } from '../vault/file-ops';
import { createVault, type Vault } from '../vault/keyring';
import { deliverNamed } from './deliver';
import type { Job } from './queue';

/** A finished job whose outputs are real vault files holding `contents`. */
let jobs = 0;
async function finishedJob(vault: Vault, root: string, contents: Record<string, string>) {
  const dir = join(root, `job-${++jobs}`);
  const outputs = [];
  for (const [name, text] of Object.entries(contents)) {
    const plain = join(dir, 'plain', name);
    await mkdir(join(plain, '..'), { recursive: true });
    await writeFile(plain, text);
    const path = join(dir, 'vault-out', `${name.replace(/\//g, '_')}.ks`);
    await mkdir(join(path, '..'), { recursive: true });
    await encryptFile(plain, path, vault);
    outputs.push({ name, path, size: text.length });
  }
  return { id: 'j1', preset: 'web-h264', outputs } as unknown as Job;
}

describe('deliverNamed', () => {
  it('names results after the source and preset, and never replaces what is there', async () => {
    const dir = await freshDir();
    const { vault } = await createVault(join(dir, 'vault'), 'pw', { scrypt: TEST_SCRYPT });
    const out = join(dir, 'Delivered');

    const one = await finishedJob(vault, dir, { 'web.mp4': 'first' });
    expect(await deliverNamed(one, vault, out, 'beach (web-h264)')).toBe(
      join(out, 'beach (web-h264).mp4'),
    );
    // The same source and preset again: a numbered name, the first file untouched.
    const two = await finishedJob(vault, dir, { 'web.mp4': 'second' });
    expect(await deliverNamed(two, vault, out, 'beach (web-h264)')).toBe(
      join(out, 'beach (web-h264) 2.mp4'),
    );
    expect(await readFile(join(out, 'beach (web-h264).mp4'), 'utf8')).toBe('first');
    expect(await readFile(join(out, 'beach (web-h264) 2.mp4'), 'utf8')).toBe('second');

    // Several outputs (an HLS ladder) go into a folder of that name, also numbered.
    const ladder = { 'master.m3u8': '#EXTM3U', 'v0/index.m3u8': '#EXTM3U v0' };
    const hls = await finishedJob(vault, dir, ladder);
    expect(await deliverNamed(hls, vault, out, 'beach (hls-playback)')).toBe(
      join(out, 'beach (hls-playback)'),
    );
    expect(await deliverNamed(hls, vault, out, 'beach (hls-playback)')).toBe(
      join(out, 'beach (hls-playback) 2'),
    );
    expect(await readFile(join(out, 'beach (hls-playback) 2', 'v0/index.m3u8'), 'utf8')).toBe(
      '#EXTM3U v0',
    );
    expect((await readdir(out)).sort()).toEqual([
      'beach (hls-playback)',
      'beach (hls-playback) 2',
      'beach (web-h264) 2.mp4',
      'beach (web-h264).mp4',
    ]);
    await expect(deliverNamed(one, vault, out, '../escape')).rejects.toMatchObject({
      code: 'USAGE',
    });
  });
});
