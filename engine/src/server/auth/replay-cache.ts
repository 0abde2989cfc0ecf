// Remembers recently accepted request signatures so that a captured request cannot be
// sent again while its timestamp is still inside the acceptance window.
//
// Entries live in a Map, which iterates in insertion order. Every entry gets the same
// TTL, so insertion order is expiry order: expired entries sit at the front and are
// dropped from there, O(1) amortised per call and never a sweep of the whole table.
//
// The default clock is the wall clock, the same one the timestamp window is judged on,
// so "remembered for 2 × window after first use" always covers the window in that
// clock. If the wall clock steps back, entries just live longer (never shorter) and the
// front scan stops early until the step is absorbed; memory stays bounded by maxEntries.
//
// When the table is full we REFUSE the new request rather than evict the oldest entry.
// Evicting an unexpired entry would forget a signature that is still acceptable, so a
// captured copy of it could be replayed; refusing fails closed, and only requests that
// already passed the HMAC check are recorded, so only authenticated clients can fill it.
// maxEntries must therefore exceed the peak number of signed requests per TTL.

import { KeepsakeError } from '../../errors';

export interface ReplayCacheOptions {
  /** How long a key is remembered. Must be at least twice the signing window. */
  ttlSeconds?: number;
  /** Most keys held at once; beyond it new keys are refused, not old ones forgotten. */
  maxEntries?: number;
  /** Clock in seconds; defaults to the wall clock (Date.now). */
  now?: () => number;
}

export const DEFAULT_REPLAY_TTL_SECONDS = 60;
// Numeric keys (48 bits of the MAC, see signing.ts) cost ~40 bytes each, so a million
// (10,000 signed requests a second for a minute) stays near 40 MB.
export const DEFAULT_REPLAY_MAX_ENTRIES = 1_000_000;

const wallSeconds = (): number => Date.now() / 1000;

export class ReplayCache {
  readonly ttlSeconds: number;
  readonly maxEntries: number;
  private readonly now: () => number;
  /** key → time (seconds, on `now`) at which it may be forgotten. */
  private readonly expiries = new Map<string | number, number>();

  constructor(options: ReplayCacheOptions = {}) {
    this.ttlSeconds = options.ttlSeconds ?? DEFAULT_REPLAY_TTL_SECONDS;
    this.maxEntries = options.maxEntries ?? DEFAULT_REPLAY_MAX_ENTRIES;
    this.now = options.now ?? wallSeconds;
    if (!(this.ttlSeconds > 0) || !Number.isFinite(this.ttlSeconds)) {
      throw new KeepsakeError('USAGE', `replay cache TTL must be a positive number of seconds`);
    }
    if (!Number.isSafeInteger(this.maxEntries) || this.maxEntries < 1) {
      throw new KeepsakeError('USAGE', `replay cache size must be a positive integer`);
    }
  }

  /**
   * True if `key` is new (and records it); false if it was seen within the TTL.
   * Throws SERVER_BUSY when the table is full of unexpired keys (see the file comment).
   */
  checkAndRemember(key: string | number): boolean {
    const now = this.now();
    this.evictExpired(now);
    const expiry = this.expiries.get(key);
    if (expiry !== undefined) {
      if (expiry > now) return false;
      // Expired but not yet evicted: only after the clock stepped back (see above).
      this.expiries.delete(key);
    }
    if (this.expiries.size >= this.maxEntries) {
      throw new KeepsakeError(
        'SERVER_BUSY',
        'too many signed requests in the replay window; retry shortly',
      );
    }
    this.expiries.set(key, now + this.ttlSeconds);
    return true;
  }

  /** Keys currently remembered (expired ones are dropped first). */
  get size(): number {
    this.evictExpired(this.now());
    return this.expiries.size;
  }

  private evictExpired(now: number): void {
    for (const [key, expiry] of this.expiries) {
      if (expiry > now) return;
      this.expiries.delete(key);
    }
  }
}
