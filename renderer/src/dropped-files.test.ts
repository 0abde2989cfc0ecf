import { describe, expect, it } from 'vitest';
import { collectFiles, isJunk, relPathOf } from './dropped-files';

describe('dropped files', () => {
  it('keeps a loose file by name and a picked-folder file by its relative path', async () => {
    const loose = new File(['x'], 'clip.mp4');
    const inFolder = new File(['y'], 'b.mp4');
    Object.defineProperty(inFolder, 'webkitRelativePath', { value: 'Tapes/1987/b.mp4' });
    expect(relPathOf(inFolder)).toBe('Tapes/1987/b.mp4');
    const files = await collectFiles([
      { file: loose, entry: undefined },
      { file: inFolder, entry: undefined },
    ]);
    expect(files.map((f) => f.rel)).toEqual(['clip.mp4', 'Tapes/1987/b.mp4']);
  });

  it('walks a dropped folder through its entries, in batches, recursively', async () => {
    const file = (name: string) => ({
      isDirectory: false,
      isFile: true,
      name,
      file: (ok: (f: File) => void) => ok(new File([name], name)),
    });
    const dir = (name: string, batches: unknown[][]) => ({
      isDirectory: true,
      isFile: false,
      name,
      createReader: () => {
        const queue = [...batches, []];
        return { readEntries: (ok: (e: unknown[]) => void) => ok(queue.shift() ?? []) };
      },
    });
    const root = dir('Tapes', [[file('a.mp4'), dir('1987', [[file('b.mp4')]])], [file('c.mp4')]]);
    const files = await collectFiles([
      { file: undefined, entry: root as unknown as FileSystemEntry },
    ]);
    expect(files.map((f) => f.rel)).toEqual(['Tapes/a.mp4', 'Tapes/1987/b.mp4', 'Tapes/c.mp4']);
    expect(await files[1]?.file.text()).toBe('b.mp4');
  });

  it('skips hidden files and OS litter', () => {
    expect(isJunk('Tapes/.DS_Store')).toBe(true);
    expect(isJunk('Thumbs.db')).toBe(true);
    expect(isJunk('Tapes/a.mp4')).toBe(false);
  });
});
