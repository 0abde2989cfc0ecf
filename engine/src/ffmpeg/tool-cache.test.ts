import { utimes, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { freshDir } from '../testing/tmp';
import { locateFfmpeg } from './locate';
import { ToolCache } from './tool-cache';

describe('ToolCache', () => {
  it('answers from the file until the binary changes', async () => {
    const dir = await freshDir();
    const binary = join(dir, 'ffmpeg');
    await writeFile(binary, 'v1');
    const file = join(dir, 'cache.json');
    let asked = 0;
    const ask = async () => `version ${++asked}`;

    const first = new ToolCache(file);
    expect(await first.get(binary, 'version', ask)).toBe('version 1');
    await first.save();
    // A new process (a new cache object) reads the answer instead of asking.
    expect(await new ToolCache(file).get(binary, 'version', ask)).toBe('version 1');
    expect(asked).toBe(1);
    // An upgraded binary (new time) is asked again.
    await utimes(binary, new Date(), new Date(Date.now() + 5000));
    expect(await new ToolCache(file).get(binary, 'version', ask)).toBe('version 2');
  });

  it('an unreadable cache file is ignored, and locate still works with a cache', async () => {
    const dir = await freshDir();
    const file = join(dir, 'cache.json');
    await writeFile(file, '{not json');
    const cache = new ToolCache(file);
    const found = await locateFfmpeg({ cache });
    await cache.save();
    const again = await locateFfmpeg({ cache: new ToolCache(file) });
    expect(again).toEqual(found);
  });
});
