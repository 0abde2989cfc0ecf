import { describe, expect, it } from 'vitest';
import { PENDING_KEY, UploadTracker, forgetUnfinished, readUnfinished } from './upload-tracker';

function memoryStorage() {
  const map = new Map<string, string>();
  return {
    getItem: (k: string) => map.get(k) ?? null,
    setItem: (k: string, v: string) => void map.set(k, v),
    removeItem: (k: string) => void map.delete(k),
    map,
  };
}

describe('UploadTracker', () => {
  it('counts bytes across files, with percent and an ETA from the rate so far', () => {
    let now = 0;
    const storage = memoryStorage();
    const files = [
      { rel: 'a.mov', size: 600 },
      { rel: 'b.mov', size: 400 },
    ];
    const t = new UploadTracker(files, storage, () => now);
    t.begin('a.mov');
    expect(t.view()).toMatchObject({ bytesDone: 0, percent: 0, etaSeconds: undefined });
    now = 2000;
    t.sent(300);
    expect(t.view()).toMatchObject({ current: 'a.mov', bytesDone: 300, percent: 30 });
    // 300 B in 2 s: 700 B left at 150 B/s.
    expect(t.view().etaSeconds).toBeCloseTo(700 / 150);
    t.finish(files[0]!);
    t.begin('b.mov');
    t.sent(100);
    expect(t.view()).toMatchObject({ done: 1, bytesDone: 700, percent: 70 });
  });

  it('remembers the files not finished, so a closed tab is reported on return', () => {
    const storage = memoryStorage();
    const files = [
      { rel: 'a.mov', size: 1 },
      { rel: 'b.mov', size: 2 },
    ];
    const t = new UploadTracker(files, storage);
    expect(readUnfinished(storage)).toEqual(files);
    t.finish(files[0]!);
    // The tab closes here: b.mov is what the next visit reports.
    expect(readUnfinished(storage)).toEqual([files[1]]);
    t.finish(files[1]!);
    expect(storage.map.has(PENDING_KEY)).toBe(false);
  });

  it('forgets on stop, and reads nothing from damaged or missing storage', () => {
    const storage = memoryStorage();
    new UploadTracker([{ rel: 'a', size: 1 }], storage).stop();
    expect(readUnfinished(storage)).toEqual([]);
    storage.setItem(PENDING_KEY, '{not json');
    expect(readUnfinished(storage)).toEqual([]);
    storage.setItem(PENDING_KEY, JSON.stringify([{ rel: 5 }, { rel: 'ok', size: 3 }]));
    expect(readUnfinished(storage)).toEqual([{ rel: 'ok', size: 3 }]);
    forgetUnfinished(storage);
    expect(readUnfinished(undefined)).toEqual([]);
  });
});
