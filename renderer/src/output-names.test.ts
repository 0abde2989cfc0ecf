import { describe, expect, it } from 'vitest';
import { PLAYBACK_PRESET, PLAYBACK_PRESETS, outputName } from './output-names';

describe('outputName', () => {
  it.each([
    ['vhs-restore', 'Restored copy'],
    ['archive-hevc', 'Archive master'],
    ['web-h264', 'Copy to watch'],
    ['photo-web', 'Photo for sharing'],
  ])('%s → %s', (preset, name) => {
    expect(outputName(preset)).toBe(name);
  });

  it('names every preset the engine has, in words without its id', async () => {
    // The engine's preset list, read as text (the renderer imports no engine code).
    const { readdir } = await import('node:fs/promises');
    const files = await readdir(new URL('../../engine/src/presets/', import.meta.url));
    const ids = files
      .filter(
        (f) => f.endsWith('.ts') && !f.includes('.test.') && !/^(index|params|preset)\.ts$/.test(f),
      )
      .map((f) => f.replace(/\.ts$/, ''));
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
