import { afterEach, describe, expect, it, vi } from 'vitest';
import { KEY_BYTES, KeyStore, MAX_TTL_SECONDS, parseKeyBytes } from './key-store';

const KID_HEX = '0123456789abcdef0123456789abcdef';
const KEY_HEX = '00112233445566778899aabbccddeeff';
const kid = () => Buffer.from(KID_HEX, 'hex');
const key = () => Buffer.from(KEY_HEX, 'hex');
const kidB64 = Buffer.from(KID_HEX, 'hex').toString('base64url');

/** The store's own key buffers, caught as they are allocated, to see them wiped. */
function catchAllocations(): Buffer[] {
  const made: Buffer[] = [];
  const real = Buffer.alloc.bind(Buffer);
  vi.spyOn(Buffer, 'alloc').mockImplementation((...args: Parameters<typeof Buffer.alloc>) => {
    const b = real(...args);
    if (args[0] === KEY_BYTES) made.push(b);
    return b;
  });
  return made;
}

afterEach(() => {
  vi.restoreAllMocks();
  vi.useRealTimers();
});

describe('KeyStore', () => {
  it('holds a key under its id, lists ids with expiry but never keys, and zeroes the caller’s copy', () => {
    let now = Date.parse('2026-01-01T00:00:00Z');
    const store = new KeyStore({ now: () => now });
    const given = key();
    const held = store.load(kid(), given, 60);
    expect(held).toEqual({ kid: kidB64, expiresAt: '2026-01-01T00:01:00.000Z' });
    expect(given.equals(Buffer.alloc(KEY_BYTES))).toBe(true);
    expect(store.keyFor(kidB64)).toBe(key().toString('base64url'));
    expect(store.list()).toEqual([held]);
    expect(JSON.stringify(store.list())).not.toContain(key().toString('base64url'));
    now += 59_999;
    expect(store.keyFor(kidB64)).toBeDefined();
    now += 1;
    // Expired by the clock even before its timer fires: gone, and listed no more.
    expect(store.keyFor(kidB64)).toBeUndefined();
    expect(store.list()).toEqual([]);
    store.close();
  });

  it('zero-fills a key’s buffer when its time is up, by its timer alone', () => {
    vi.useFakeTimers();
    const made = catchAllocations();
    const store = new KeyStore();
    store.load(kid(), key(), 5);
    const own = made.find((b) => b.equals(key()));
    expect(own).toBeDefined();
    vi.advanceTimersByTime(4_999);
    expect(own!.equals(key())).toBe(true);
    vi.advanceTimersByTime(1);
    expect(own!.equals(Buffer.alloc(KEY_BYTES))).toBe(true);
    expect(store.size).toBe(0);
    store.close();
  });

  it('wipes every key on close, and on a reload of the same id, and then refuses new ones', () => {
    const made = catchAllocations();
    const store = new KeyStore();
    store.load(kid(), key(), 60);
    const first = made.find((b) => b.equals(key()))!;
    const other = Buffer.from('ffeeddccbbaa99887766554433221100', 'hex');
    store.load(kid(), Buffer.from(other), 60);
    expect(first.equals(Buffer.alloc(KEY_BYTES))).toBe(true);
    expect(store.keyFor(kidB64)).toBe(other.toString('base64url'));
    const second = made.find((b) => b.equals(other))!;
    store.load(Buffer.from('aa'.repeat(16), 'hex'), key(), 60);
    expect(store.size).toBe(2);
    store.close();
    expect(store.size).toBe(0);
    expect(second.equals(Buffer.alloc(KEY_BYTES))).toBe(true);
    expect(made.every((b) => b.equals(Buffer.alloc(KEY_BYTES)))).toBe(true);
    expect(() => store.load(kid(), key(), 60)).toThrow(/closed/);
  });

  it('refuses a TTL out of bounds, a wrong size, and more keys than its cap', () => {
    const store = new KeyStore({ maxKeys: 2 });
    for (const ttl of [0, -1, 1.5, MAX_TTL_SECONDS + 1, Number.NaN]) {
      const given = key();
      expect(() => store.load(kid(), given, ttl)).toThrow(/ttlSeconds/);
      // Even a refused key is not left behind in the caller's buffer.
      expect(given.equals(Buffer.alloc(KEY_BYTES))).toBe(true);
    }
    expect(() => store.load(Buffer.alloc(8), key(), 60)).toThrow(/16 bytes/);
    store.load(Buffer.alloc(16, 1), key(), 60);
    store.load(Buffer.alloc(16, 2), key(), 60);
    expect(() => store.load(Buffer.alloc(16, 3), key(), 60)).toThrow(/at most 2/);
    // Replacing a held id is not a new key.
    expect(store.load(Buffer.alloc(16, 2), key(), 30).kid).toBe(
      Buffer.alloc(16, 2).toString('base64url'),
    );
    store.close();
  });
});

describe('parseKeyBytes', () => {
  it('takes 32 hex digits or 22 base64url characters, and nothing else', () => {
    expect(parseKeyBytes(KID_HEX, 'key id').equals(kid())).toBe(true);
    expect(parseKeyBytes(KID_HEX.toUpperCase(), 'key id').equals(kid())).toBe(true);
    expect(parseKeyBytes(kidB64, 'key id').equals(kid())).toBe(true);
    for (const bad of [
      '',
      KID_HEX.slice(2),
      `${kidB64}==`,
      'not a key at all',
      kidB64.slice(0, 21) + 'B', // 22 characters whose last bits are not zero
      42,
      null,
      ['a'],
    ]) {
      expect(() => parseKeyBytes(bad, 'key id'), String(bad)).toThrow(/key id/);
    }
  });
});
