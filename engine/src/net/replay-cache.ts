// Remembers recently accepted request signatures so that a captured request cannot be
// sent again while its timestamp is still inside the acceptance window.
//
// Every entry gets the same TTL, so insertion order is expiry order: entries sit in a
// ring in the order they came, expired ones are dropped from its front (O(1) amortised
// per call, never a sweep), and an open-addressing index finds a key's place in the
// ring. Both live in typed arrays: 24 bytes an entry, where a Map of number keys cost
// about 80 (boxed keys and expiries, and a rehash that holds two tables at once). At
// tens of thousands of signed requests a second that was the server's largest use of
// memory.
//
// The default clock is the wall clock, the same one the timestamp window is judged on,
// so "remembered for 2 × window after first use" always covers the window in that
// clock. If the wall clock steps back, entries just live longer (never shorter) and the
// front scan stops early until the step is absorbed; memory stays bounded by maxEntries.
//
// Across restarts: a server that stops cleanly saves what it remembers (snapshot(), see
// replay-file.ts) and the next start takes it back, so nothing it accepted can be sent
// again. After a crash there is no such snapshot: the new cache cannot know what the
// last process accepted, so it is given a `since` and refuses every timestamp before it
// (signing.ts); a client then simply signs again.
//
// When the table is full we REFUSE the new request rather than evict the oldest entry.
// Evicting an unexpired entry would forget a signature that is still acceptable, so a
// captured copy of it could be replayed; refusing fails closed, and only requests that
// already passed the HMAC check are recorded, so only authenticated clients can fill it.
// maxEntries must therefore exceed the peak number of signed requests per TTL.

import { randomInt } from 'node:crypto';
import { KeepsakeError } from '../core/errors';

export interface ReplayCacheOptions {
  /** How long a key is remembered. Must be at least twice the signing window. */
  ttlSeconds?: number;
  /** Most keys held at once; beyond it new keys are refused, not old ones forgotten. */
  maxEntries?: number;
  /** Clock in seconds; defaults to the wall clock (Date.now). */
  now?: () => number;
  /** Oldest timestamp (whole seconds) to accept; default 0 (any within the window). */
  since?: number;
  /** What an earlier cache remembered (its snapshot()). */
  restore?: Buffer;
}

export const DEFAULT_REPLAY_TTL_SECONDS = 60;
// 24 bytes a key once the table has grown to hold them: a million (about 16,000 signed
// requests a second for a minute) is 24 MB.
export const DEFAULT_REPLAY_MAX_ENTRIES = 1_000_000;

/** Keys are 48-bit integers (signing.ts takes them from the MAC). */
export const REPLAY_KEY_LIMIT = 2 ** 48;

const INITIAL_CAPACITY = 1024;
const SNAPSHOT_HEADER = Buffer.from('keepsake replay cache v1\n');
const wallSeconds = (): number => Date.now() / 1000;

export class ReplayCache {
  readonly ttlSeconds: number;
  readonly maxEntries: number;
  /**
   * Requests signed before this (whole seconds) are refused: after a crash, this cache
   * cannot know whether the process before it accepted them.
   */
  readonly since: number;
  private readonly now: () => number;

  // The ring: keys and expiry times in insertion order, from `head`, `count` long.
  private keys: Float64Array;
  private expiries: Float64Array;
  private head = 0;
  private count = 0;
  /** Index: ring position + 1 per slot (0 = empty), linear probing, at most half full. */
  private slots: Int32Array;
  // Keys are MAC bits, already uniform; the secret salt keeps an authenticated client
  // who grinds signatures from lining its keys up on one probe chain.
  private readonly salt = randomInt(2 ** 31);

  constructor(options: ReplayCacheOptions = {}) {
    this.ttlSeconds = options.ttlSeconds ?? DEFAULT_REPLAY_TTL_SECONDS;
    this.maxEntries = options.maxEntries ?? DEFAULT_REPLAY_MAX_ENTRIES;
    this.now = options.now ?? wallSeconds;
    this.since = options.since ?? 0;
    if (!(this.ttlSeconds > 0) || !Number.isFinite(this.ttlSeconds)) {
      throw new KeepsakeError('USAGE', `replay cache TTL must be a positive number of seconds`);
    }
    if (!Number.isSafeInteger(this.maxEntries) || this.maxEntries < 1) {
      throw new KeepsakeError('USAGE', `replay cache size must be a positive integer`);
    }
    const capacity = Math.min(INITIAL_CAPACITY, this.maxEntries);
    this.keys = new Float64Array(capacity);
    this.expiries = new Float64Array(capacity);
    this.slots = new Int32Array(slotCountFor(capacity));
    if (options.restore) this.load(options.restore);
  }

  /**
   * The keys still remembered, with their expiry times (wall clock), in order: what a
   * restarted server needs so that nothing this one accepted can be sent again.
   */
  snapshot(): Buffer {
    this.evictExpired(this.now());
    const out = Buffer.alloc(SNAPSHOT_HEADER.length + this.count * 16);
    SNAPSHOT_HEADER.copy(out);
    for (let i = 0; i < this.count; i += 1) {
      const at = (this.head + i) % this.keys.length;
      out.writeDoubleLE(this.keys[at]!, SNAPSHOT_HEADER.length + i * 16);
      out.writeDoubleLE(this.expiries[at]!, SNAPSHOT_HEADER.length + i * 16 + 8);
    }
    return out;
  }

  private load(snapshot: Buffer): void {
    if (
      !snapshot.subarray(0, SNAPSHOT_HEADER.length).equals(SNAPSHOT_HEADER) ||
      (snapshot.length - SNAPSHOT_HEADER.length) % 16 !== 0
    ) {
      throw new KeepsakeError('INTERNAL', 'the saved replay cache is not a replay cache');
    }
    const now = this.now();
    for (let at = SNAPSHOT_HEADER.length; at < snapshot.length; at += 16) {
      const key = snapshot.readDoubleLE(at);
      const expiry = snapshot.readDoubleLE(at + 8);
      if (!(expiry > now) || !Number.isInteger(key) || key < 0 || key >= REPLAY_KEY_LIMIT) {
        continue;
      }
      // Saved in expiry order, so the ring stays in expiry order.
      if (this.count >= this.maxEntries) break;
      if (this.count === this.keys.length) this.grow();
      const slot = this.find(key);
      if (this.slots[slot] === 0) this.insert(key, expiry, slot);
    }
  }

  /**
   * True if `key` is new (and records it); false if it was seen within the TTL.
   * Throws SERVER_BUSY when the table is full of unexpired keys (see the file comment).
   */
  checkAndRemember(key: number): boolean {
    if (!Number.isInteger(key) || key < 0 || key >= REPLAY_KEY_LIMIT) {
      throw new KeepsakeError('INTERNAL', 'a replay key must be a 48-bit unsigned integer');
    }
    const now = this.now();
    this.evictExpired(now);
    const slot = this.find(key);
    if (this.slots[slot] !== 0) {
      const at = this.slots[slot]! - 1;
      if (this.expiries[at]! > now) return false;
      // Expired but not yet evicted: only after the clock stepped back (see above). It
      // keeps its place in the ring and simply lives longer.
      this.expiries[at] = now + this.ttlSeconds;
      return true;
    }
    if (this.count >= this.maxEntries) {
      throw new KeepsakeError(
        'SERVER_BUSY',
        'too many signed requests in the replay window; retry shortly',
      );
    }
    if (this.count === this.keys.length) {
      this.grow();
      this.insert(key, now + this.ttlSeconds, this.find(key));
    } else {
      this.insert(key, now + this.ttlSeconds, slot);
    }
    return true;
  }

  /** Keys currently remembered (expired ones are dropped first). */
  get size(): number {
    this.evictExpired(this.now());
    return this.count;
  }

  private insert(key: number, expiry: number, slot: number): void {
    const at = (this.head + this.count) % this.keys.length;
    this.keys[at] = key;
    this.expiries[at] = expiry;
    this.slots[slot] = at + 1;
    this.count += 1;
  }

  private evictExpired(now: number): void {
    while (this.count > 0 && this.expiries[this.head]! <= now) {
      this.unindex(this.find(this.keys[this.head]!));
      this.head = (this.head + 1) % this.keys.length;
      this.count -= 1;
    }
  }

  private home(key: number): number {
    // The low 32 bits and the high 16, mixed; then the table's mask.
    const low = key >>> 0;
    const high = Math.floor(key / 2 ** 32);
    return (
      (Math.imul(low ^ this.salt, 0x9e3779b1) ^ Math.imul(high, 0x85ebca6b)) &
      (this.slots.length - 1)
    );
  }

  /** The slot holding `key`, or the empty slot where it would go. */
  private find(key: number): number {
    const mask = this.slots.length - 1;
    let slot = this.home(key);
    for (;;) {
      const entry = this.slots[slot]!;
      if (entry === 0 || this.keys[entry - 1] === key) return slot;
      slot = (slot + 1) & mask;
    }
  }

  /** Empties `slot`, moving later entries of its probe chain back so none is cut off. */
  private unindex(slot: number): void {
    const mask = this.slots.length - 1;
    let hole = slot;
    let next = (slot + 1) & mask;
    for (;;) {
      const entry = this.slots[next]!;
      if (entry === 0) break;
      const home = this.home(this.keys[entry - 1]!);
      // The entry may fill the hole if its home is not cyclically within (hole, next].
      if (((next - home) & mask) >= ((next - hole) & mask)) {
        this.slots[hole] = entry;
        hole = next;
      }
      next = (next + 1) & mask;
    }
    this.slots[hole] = 0;
  }

  /** Doubles the ring (up to maxEntries), laying it out from 0, and rebuilds the index. */
  private grow(): void {
    const capacity = Math.min(this.keys.length * 2, this.maxEntries);
    const keys = new Float64Array(capacity);
    const expiries = new Float64Array(capacity);
    for (let i = 0; i < this.count; i += 1) {
      const from = (this.head + i) % this.keys.length;
      keys[i] = this.keys[from]!;
      expiries[i] = this.expiries[from]!;
    }
    this.keys = keys;
    this.expiries = expiries;
    this.head = 0;
    this.slots = new Int32Array(slotCountFor(capacity));
    for (let i = 0; i < this.count; i += 1) this.slots[this.find(keys[i]!)] = i + 1;
  }
}

/** A power of two at least twice `capacity`: probe chains stay short. */
function slotCountFor(capacity: number): number {
  return 2 ** Math.ceil(Math.log2(Math.max(2, capacity * 2)));
}
