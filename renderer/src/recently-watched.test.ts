import { describe, expect, it } from 'vitest';
import { RECENT_MAX, recentlyWatched, rememberWatched } from './recently-watched';

function memory(): Pick<Storage, 'getItem' | 'setItem'> & { data: Map<string, string> } {
  const data = new Map<string, string>();
  return {
    data,
    getItem: (k) => data.get(k) ?? null,
    setItem: (k, v) => void data.set(k, v),
  };
}

describe('recently watched', () => {
  it('keeps file ids only, newest first, each once', () => {
    const store = memory();
    rememberWatched('fa', store);
    rememberWatched('fb', store);
    rememberWatched('fa', store);
    expect(recentlyWatched(store)).toEqual(['fa', 'fb']);
    expect([...store.data.values()]).toEqual(['["fa","fb"]']);
  });

  it(`keeps at most ${RECENT_MAX}`, () => {
    const store = memory();
    for (let i = 0; i < RECENT_MAX + 5; i++) rememberWatched(`f${i}`, store);
    const list = recentlyWatched(store);
    expect(list).toHaveLength(RECENT_MAX);
    expect(list[0]).toBe(`f${RECENT_MAX + 4}`);
  });

  it('reads damaged storage as empty', () => {
    const store = memory();
    store.setItem('keepsake.recentlyWatched', '{nope');
    expect(recentlyWatched(store)).toEqual([]);
    store.setItem('keepsake.recentlyWatched', '[1,"fa",null]');
    expect(recentlyWatched(store)).toEqual(['fa']);
  });
});
