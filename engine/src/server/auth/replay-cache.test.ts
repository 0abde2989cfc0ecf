import { describe, expect, it } from 'vitest';
import { isKeepsakeError } from '../../errors';
import {
  DEFAULT_REPLAY_MAX_ENTRIES,
  DEFAULT_REPLAY_TTL_SECONDS,
  ReplayCache,
} from './replay-cache';

function clock(start = 1_700_000_000) {
  const state = { t: start };
  return { state, now: () => state.t };
}

describe('ReplayCache', () => {
  it('defaults to twice the 30 s window and a million entries', () => {
    const cache = new ReplayCache();
    expect(cache.ttlSeconds).toBe(DEFAULT_REPLAY_TTL_SECONDS);
    expect(DEFAULT_REPLAY_TTL_SECONDS).toBe(60);
    expect(cache.maxEntries).toBe(DEFAULT_REPLAY_MAX_ENTRIES);
    expect(DEFAULT_REPLAY_MAX_ENTRIES).toBe(1_000_000);
  });

  it('accepts a key once and refuses it again within the TTL', () => {
    const { state, now } = clock();
    const cache = new ReplayCache({ now });
    expect(cache.checkAndRemember('a')).toBe(true);
    expect(cache.checkAndRemember('b')).toBe(true);
    state.t += 59.9;
    expect(cache.checkAndRemember('a')).toBe(false);
    expect(cache.checkAndRemember('b')).toBe(false);
    expect(cache.size).toBe(2);
  });

  it('forgets a key once the TTL has passed, and does not refresh it on a repeat', () => {
    const { state, now } = clock();
    const cache = new ReplayCache({ ttlSeconds: 10, now });
    cache.checkAndRemember('a');
    state.t += 5;
    expect(cache.checkAndRemember('a')).toBe(false); // seen, but the TTL still runs from 0
    cache.checkAndRemember('b');
    state.t += 5;
    expect(cache.size).toBe(1); // 'a' expired at exactly 10 s, 'b' lives until 15 s
    expect(cache.checkAndRemember('a')).toBe(true);
    state.t += 5;
    expect(cache.checkAndRemember('b')).toBe(true);
  });

  it('drops expired entries from the front as time passes, so memory stays bounded', () => {
    const { state, now } = clock();
    const cache = new ReplayCache({ ttlSeconds: 60, maxEntries: 1000, now });
    for (let i = 0; i < 10_000; i += 1) {
      expect(cache.checkAndRemember(`k${i}`)).toBe(true);
      state.t += 0.1; // 600 keys live at a time
    }
    expect(cache.size).toBeLessThanOrEqual(601);
  });

  it('refuses new keys when full instead of forgetting live ones', () => {
    const { state, now } = clock();
    const cache = new ReplayCache({ ttlSeconds: 60, maxEntries: 3, now });
    for (const key of ['a', 'b', 'c']) expect(cache.checkAndRemember(key)).toBe(true);
    let caught: unknown;
    try {
      cache.checkAndRemember('d');
    } catch (err) {
      caught = err;
    }
    expect(isKeepsakeError(caught, 'SERVER_BUSY')).toBe(true);
    expect(cache.checkAndRemember('a')).toBe(false); // still remembered: no replay window
    state.t += 60;
    expect(cache.checkAndRemember('d')).toBe(true); // room again once they expire
  });

  it('errs on the side of remembering when the clock steps back', () => {
    const { state, now } = clock(1000);
    const cache = new ReplayCache({ ttlSeconds: 60, now });
    cache.checkAndRemember('before');
    state.t = 950;
    cache.checkAndRemember('after');
    state.t = 1015; // 'after' has expired, 'before' (at the front) has not
    expect(cache.checkAndRemember('before')).toBe(false);
    expect(cache.checkAndRemember('after')).toBe(true);
  });

  it('rejects nonsensical options', () => {
    expect(() => new ReplayCache({ ttlSeconds: 0 })).toThrow(/TTL/);
    expect(() => new ReplayCache({ ttlSeconds: Number.NaN })).toThrow(/TTL/);
    expect(() => new ReplayCache({ maxEntries: 0 })).toThrow(/size/);
    expect(() => new ReplayCache({ maxEntries: 1.5 })).toThrow(/size/);
  });
});
