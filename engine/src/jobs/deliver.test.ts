import { mkdir, readFile, readdir, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { freshDir, TEST_SCRYPT } from '../testing/tmp';
import { encryptFile } from '../vault/file-ops';
import { createVault, type Vault } from '../vault/keyring';
import { deliverNamed, deliverOutputs, labelDateMs } from './deliver';
import { sealJobLabels } from './job-labels';
import type { Job, JobOptions } from './queue';

/** A finished job whose outputs are real vault files holding `contents`. */
let jobs = 0;
async function finishedJob(
  vault: Vault,
  root: string,
  contents: Record<string, string>,
  options: JobOptions = {},
) {
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
  return { id: 'j1', preset: 'web-h264', outputs, options } as unknown as Job;
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

describe('the file time of a delivered copy', () => {
  it("is the item's date when the job carries one, else the time it was written", async () => {
    const dir = await freshDir();
    const { vault } = await createVault(join(dir, 'vault'), 'pw', { scrypt: TEST_SCRYPT });
    const out = join(dir, 'Delivered');
    const dated = (date: string) => ({
      libraryFile: 'f1',
      labels: sealJobLabels(vault, 'f1', { title: 'Christmas', date }),
    });
    const day = await finishedJob(vault, dir, { 'web.mp4': 'x' }, dated('1989-12-24'));
    const a = await deliverNamed(day, vault, out, 'tape (web-h264)');
    expect((await stat(a)).mtimeMs).toBe(new Date(1989, 11, 24, 12).getTime());

    const ladder = { 'master.m3u8': '#EXTM3U', 'v0/index.m3u8': '#EXTM3U v0' };
    const exact = dated('2004-07-04T18:15:00+02:00');
    const hls = await deliverNamed(await finishedJob(vault, dir, ladder, exact), vault, out, 'h');
    expect((await stat(join(hls, 'v0/index.m3u8'))).mtimeMs).toBe(
      Date.parse('2004-07-04T16:15:00Z'),
    );

    const before = Date.now() - 5000;
    const plain = await deliverNamed(
      await finishedJob(vault, dir, { 'a.mp4': 'y' }),
      vault,
      out,
      'p',
    );
    expect((await stat(plain)).mtimeMs).toBeGreaterThan(before);
  });

  it('reads every form of date the family can give', () => {
    expect(labelDateMs('1989')).toBe(new Date(1989, 0, 1, 12).getTime());
    expect(labelDateMs('1989-12')).toBe(new Date(1989, 11, 1, 12).getTime());
    expect(labelDateMs('1989-12-24T18:30:00')).toBe(new Date(1989, 11, 24, 18, 30).getTime());
    expect(labelDateMs('1989-12-24T18:30:00Z')).toBe(Date.UTC(1989, 11, 24, 18, 30));
    expect(labelDateMs(undefined)).toBeUndefined();
    expect(labelDateMs('Christmas')).toBeUndefined();
  });
});

describe("deliverOutputs (the CLI's --out)", () => {
  it('plaintext results are 0600 in folders made 0700, whatever the umask', async () => {
    const dir = await freshDir();
    const { vault } = await createVault(join(dir, 'vault'), 'pw', { scrypt: TEST_SCRYPT });
    const job = await finishedJob(vault, dir, { 'hls/index.m3u8': 'list', 'hls/seg-0.ts': 'seg' });
    const out = join(dir, 'made', 'by', 'out');
    const old = process.umask(0o022);
    try {
      await deliverOutputs(job, vault, out, false);
    } finally {
      process.umask(old);
    }
    for (const folder of [join(dir, 'made'), join(dir, 'made', 'by'), out, join(out, 'hls')]) {
      expect((await stat(folder)).mode & 0o777, folder).toBe(0o700);
    }
    for (const file of ['hls/index.m3u8', 'hls/seg-0.ts']) {
      expect((await stat(join(out, file))).mode & 0o777, file).toBe(0o600);
    }
    expect(await readFile(join(out, 'hls/seg-0.ts'), 'utf8')).toBe('seg');
  });
});
