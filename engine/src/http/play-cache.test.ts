import { describe, expect, it } from 'vitest';
import { PlayCache, playCacheBytes } from './play-cache';

describe('PlayCache', () => {
  it('keeps the most recently used entries within its budget', () => {
    const cache = new PlayCache(30, 20);
    cache.set('a', Buffer.alloc(10, 1));
    cache.set('b', Buffer.alloc(10, 2));
    expect(cache.get('a')?.[0]).toBe(1); // a is now the most recent
    cache.set('c', Buffer.alloc(15, 3)); // over budget: b, the least recent, goes
    expect(cache.get('b')).toBeUndefined();
    expect(cache.get('a')?.[0]).toBe(1);
    expect(cache.get('c')?.[0]).toBe(3);
    expect(cache.size).toBe(25);
    cache.set('big', Buffer.alloc(21));
    expect(cache.get('big')).toBeUndefined();
  });

  it('overwrites the plaintext it held when cleared', () => {
    const cache = new PlayCache(100);
    const secret = Buffer.from('family video bytes');
    cache.set('x', secret);
    cache.clear();
    expect(cache.get('x')).toBeUndefined();
    expect(secret.every((b) => b === 0)).toBe(true);
    expect(cache.size).toBe(0);
  });

  it('is off with a budget of 0, and sized from KEEPSAKE_PLAY_CACHE_MB', () => {
    const off = new PlayCache(playCacheBytes({ KEEPSAKE_PLAY_CACHE_MB: '0' }));
    off.set('x', Buffer.alloc(1));
    expect(off.get('x')).toBeUndefined();
    expect(playCacheBytes({})).toBe(64 * 1024 * 1024);
    expect(playCacheBytes({ KEEPSAKE_PLAY_CACHE_MB: 'lots' })).toBe(64 * 1024 * 1024);
  });
});
