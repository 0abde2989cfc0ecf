import { afterEach, describe, expect, it } from 'vitest';
import { canShowInFolder, getBridge, notify, pathForFile, showInFolder } from './bridge';

const g = globalThis as { keepsake?: unknown };

describe('the preload bridge', () => {
  afterEach(() => {
    delete g.keepsake;
  });

  it('is absent in a plain browser, and every helper degrades to nothing', () => {
    expect(getBridge()).toBeUndefined();
    expect(pathForFile(new File(['x'], 'a.mp4'))).toBeUndefined();
    expect(() => notify('t', 'b')).not.toThrow();
  });

  it('gives a dropped file its real path, and none for a file not on disk', () => {
    g.keepsake = { pathForFile: (f: File) => (f.name === 'a.mp4' ? '/home/me/a.mp4' : '') };
    expect(pathForFile(new File(['x'], 'a.mp4'))).toBe('/home/me/a.mp4');
    expect(pathForFile(new File(['x'], 'b.mp4'))).toBeUndefined();
  });

  it('survives a bridge that throws or lacks a member', () => {
    g.keepsake = {
      pathForFile: () => {
        throw new Error('not a real file');
      },
    };
    expect(pathForFile(new File(['x'], 'a.mp4'))).toBeUndefined();
    expect(() => notify('t', 'b')).not.toThrow();
  });

  it('keeps notifications within the bridge’s limits', async () => {
    const sent: [string, string][] = [];
    g.keepsake = {
      notify: async (title: string, body: string) => {
        sent.push([title, body]);
      },
    };
    notify('T'.repeat(150), 'B'.repeat(400));
    await Promise.resolve();
    expect(sent).toEqual([['T'.repeat(100), 'B'.repeat(300)]]);
  });

  it('shows a delivered file in its folder through the bridge, and says when it cannot', async () => {
    expect(canShowInFolder()).toBe(false);
    expect(await showInFolder('/home/me/Videos/a.mp4')).toBe(false);
    const shown: unknown[] = [];
    g.keepsake = {
      reveal: async (path: unknown) => {
        if (path !== '/home/me/Videos/a.mp4') throw new Error('refused');
        shown.push(path);
      },
    };
    expect(canShowInFolder()).toBe(true);
    expect(await showInFolder('/home/me/Videos/a.mp4')).toBe(true);
    expect(await showInFolder('/etc/passwd')).toBe(false);
    expect(shown).toEqual(['/home/me/Videos/a.mp4']);
  });
});
