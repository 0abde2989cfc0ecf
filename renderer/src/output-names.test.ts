import { readdir, readFile } from 'node:fs/promises';
import { describe, expect, it } from 'vitest';
import { PLAYBACK_PRESET, PLAYBACK_PRESETS, outputName } from './output-names';

describe('outputName', () => {
  it.each([
    ['vhs-restore', 'Restored copy'],
    ['exact-master', 'Exact master'],
    ['archive-hevc', 'Archive master'],
    ['web-h264', 'Copy to watch'],
    ['photo-web', 'Photo for sharing'],
  ])('%s → %s', (preset, name) => {
    expect(outputName(preset)).toBe(name);
  });

  it('names every preset the engine has, in words without its id', async () => {
    // The engine's presets, read as text (the renderer imports no engine code).
    const dir = new URL('../../engine/src/presets/', import.meta.url);
    const ids: string[] = [];
    for (const file of await readdir(dir)) {
      if (!file.endsWith('.ts') || file.includes('.test.')) continue;
      const text = await readFile(new URL(file, dir), 'utf8');
      for (const m of text.matchAll(/definePreset\(\{\s*name: '([a-z0-9-]+)'/g)) ids.push(m[1]!);
    }
    expect(ids).toContain('web-h264');
    expect(ids.length).toBeGreaterThan(5);
    for (const id of ids) {
      expect(outputName(id), id).not.toBe('Another copy');
      expect(outputName(id)).not.toContain(id);
    }
  });

  it('never shows an unknown preset id', () => {
    expect(outputName('j8x2-new-thing')).toBe('Another copy');
  });

  it('makes playback copies with a preset it knows as one', () => {
    expect(PLAYBACK_PRESETS).toContain(PLAYBACK_PRESET);
  });
});
