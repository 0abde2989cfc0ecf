import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { isKeepsakeError } from '../core/errors';
import {
  DEFAULT_REPLAY_MAX_ENTRIES,
  DEFAULT_REPLAY_TTL_SECONDS,
  REPLAY_KEY_LIMIT,
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
    expect(cache.checkAndRemember(1)).toBe(true);
    expect(cache.checkAndRemember(2)).toBe(true);
    state.t += 59.9;
    expect(cache.checkAndRemember(1)).toBe(false);
    expect(cache.checkAndRemember(2)).toBe(false);
    expect(cache.size).toBe(2);
  });

  it('forgets a key once the TTL has passed, and does not refresh it on a repeat', () => {
    const { state, now } = clock();
    const cache = new ReplayCache({ ttlSeconds: 10, now });
    cache.checkAndRemember(1);
    state.t += 5;
    expect(cache.checkAndRemember(1)).toBe(false); // seen, but the TTL still runs from 0
    cache.checkAndRemember(2);
    state.t += 5;
    expect(cache.size).toBe(1); // key 1 expired at exactly 10 s, key 2 lives until 15 s
    expect(cache.checkAndRemember(1)).toBe(true);
    state.t += 5;
    expect(cache.checkAndRemember(2)).toBe(true);
  });

  it('drops expired entries from the front as time passes, so memory stays bounded', () => {
    const { state, now } = clock();
    const cache = new ReplayCache({ ttlSeconds: 60, maxEntries: 1000, now });
    for (let i = 0; i < 10_000; i += 1) {
      expect(cache.checkAndRemember(i)).toBe(true);
      state.t += 0.1; // 600 keys live at a time
    }
    expect(cache.size).toBeLessThanOrEqual(601);
  });

  it('refuses new keys when full instead of forgetting live ones', () => {
    const { state, now } = clock();
    const cache = new ReplayCache({ ttlSeconds: 60, maxEntries: 3, now });
    for (const key of [1, 2, 3]) expect(cache.checkAndRemember(key)).toBe(true);
    let caught: unknown;
    try {
      cache.checkAndRemember(4);
    } catch (err) {
      caught = err;
    }
    expect(isKeepsakeError(caught, 'SERVER_BUSY')).toBe(true);
    expect(cache.checkAndRemember(1)).toBe(false); // still remembered: no replay window
    state.t += 60;
    expect(cache.checkAndRemember(4)).toBe(true); // room again once they expire
  });

  it('errs on the side of remembering when the clock steps back', () => {
    const { state, now } = clock(1000);
    const cache = new ReplayCache({ ttlSeconds: 60, now });
    cache.checkAndRemember(10);
    state.t = 950;
    cache.checkAndRemember(11);
    state.t = 1015; // key 11 has expired, key 10 (at the front) has not
    expect(cache.checkAndRemember(10)).toBe(false);
    expect(cache.checkAndRemember(11)).toBe(true);
  });

  it('takes only 48-bit unsigned integer keys', () => {
    const cache = new ReplayCache();
    expect(cache.checkAndRemember(REPLAY_KEY_LIMIT - 1)).toBe(true);
    expect(cache.checkAndRemember(REPLAY_KEY_LIMIT - 1)).toBe(false);
    expect(cache.checkAndRemember(0)).toBe(true);
    for (const bad of [-1, 1.5, REPLAY_KEY_LIMIT, Number.NaN]) {
      expect(() => cache.checkAndRemember(bad)).toThrow(/48-bit/);
    }
  });

  it('grows past its first table and wraps its ring without losing a key', () => {
    const { state, now } = clock();
    const cache = new ReplayCache({ ttlSeconds: 60, now });
    // 5,000 keys, 1,000 of them alive at a time: the ring grows, then wraps many times.
    for (let i = 0; i < 5000; i += 1) {
      expect(cache.checkAndRemember(i * 7919)).toBe(true);
      if (i >= 1) expect(cache.checkAndRemember((i - 1) * 7919)).toBe(false);
      state.t += 0.06;
    }
    expect(cache.size).toBe(1000);
    for (let i = 4000; i < 5000; i += 1) expect(cache.checkAndRemember(i * 7919)).toBe(false);
  });

  it('keeps every live key findable while a full table empties from the front', () => {
    // At most half the index is used, so probe chains form; each expiry takes a key out
    // of the middle of some chain, and the keys behind it must still be found.
    const { state, now } = clock();
    const cache = new ReplayCache({ ttlSeconds: 1024, maxEntries: 1024, now });
    const keys = Array.from({ length: 1024 }, (_, i) => (i * 2654435761) % 2 ** 48);
    for (const [i, key] of keys.entries()) {
      state.t += i === 0 ? 0 : 1;
      expect(cache.checkAndRemember(key)).toBe(true);
    }
    for (let gone = 1; gone <= keys.length; gone += 1) {
      state.t += 1; // one more key expires
      for (let i = gone; i < keys.length; i += 1) {
        expect(cache.checkAndRemember(keys[i]!)).toBe(false);
      }
      expect(cache.size).toBe(keys.length - gone);
    }
  });

  // The reference is the plain definition: a map of key → expiry, expired keys dropped
  // before each call. Small key spaces make repeats common; a small maxEntries makes
  // the table fill; time only moves forward (the step-back case has its own test).
  it('answers exactly as a map of key to expiry would', () => {
    const op = fc.oneof(
      fc.record({
        key: fc.oneof(
          fc.integer({ min: 0, max: 300 }),
          fc.maxSafeNat().map((n) => n % 2 ** 48),
          fc.constant(2 ** 48 - 1),
        ),
      }),
      fc.record({ advance: fc.double({ min: 0, max: 5, noNaN: true }) }),
    );
    fc.assert(
      fc.property(
        fc.array(op, { maxLength: 3000 }),
        fc.integer({ min: 1, max: 4000 }),
        (ops, maxEntries) => {
          const { state, now } = clock();
          const cache = new ReplayCache({ ttlSeconds: 60, maxEntries, now });
          const model = new Map<number, number>();
          for (const o of ops) {
            if ('advance' in o) {
              state.t += o.advance;
              continue;
            }
            for (const [k, expiry] of model) if (expiry <= state.t) model.delete(k);
            let expected: boolean | 'busy';
            if (model.has(o.key)) expected = false;
            else if (model.size >= maxEntries) expected = 'busy';
            else {
              model.set(o.key, state.t + 60);
              expected = true;
            }
            let got: boolean | 'busy';
            try {
              got = cache.checkAndRemember(o.key);
            } catch (err) {
              if (!isKeepsakeError(err, 'SERVER_BUSY')) throw err;
              got = 'busy';
            }
            expect(got).toBe(expected);
          }
          expect(cache.size).toBe(model.size);
        },
      ),
      { numRuns: 200 },
    );
  });

  it('rejects nonsensical options', () => {
    expect(() => new ReplayCache({ ttlSeconds: 0 })).toThrow(/TTL/);
    expect(() => new ReplayCache({ ttlSeconds: Number.NaN })).toThrow(/TTL/);
    expect(() => new ReplayCache({ maxEntries: 0 })).toThrow(/size/);
    expect(() => new ReplayCache({ maxEntries: 1.5 })).toThrow(/size/);
  });
});
