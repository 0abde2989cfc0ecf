// The stream proxy's ClearKey keys: content keys (kid → 16-byte AES key) that an admin
// loads with a time to live, held in memory only. Nothing here ever touches the disk or a
// log. A key's bytes live in a buffer of its own (never Node's shared pool) that is filled
// with zeros when it expires, is replaced, or the store closes, so a later heap dump finds
// no trace of it. (The base64url copy a license answer must carry is a JS string, which
// cannot be wiped; it is made per answer and dropped.)

import { KeepsakeError } from '../core/errors';

/** ClearKey (CENC AES-128) content keys and key ids are 16 bytes. */
export const KEY_BYTES = 16;
/** The longest a key may be held: a week, well under setTimeout's 24.8-day ceiling. */
export const MAX_TTL_SECONDS = 7 * 24 * 3600;
/** Keys held at once: a bound on memory whatever an admin's script does. */
export const MAX_KEYS = 1024;

export interface HeldKeyInfo {
  /** The key id, base64url without padding (as EME's ClearKey JSON spells it). */
  kid: string;
  /** When the key is wiped, ISO 8601. */
  expiresAt: string;
}

interface Held {
  key: Buffer;
  expiresAtMs: number;
  timer: NodeJS.Timeout;
}

const HEX = /^[0-9a-f]{32}$/i;
const BASE64URL = /^[A-Za-z0-9_-]{22}$/;

/**
 * A 16-byte id or key from its text: 32 hex digits (how FFmpeg's `-encryption_kid` takes
 * it) or 22 base64url characters (how EME's JSON does). The decoded bytes are copied into
 * an unpooled buffer and the intermediate one is zeroed.
 */
export function parseKeyBytes(text: unknown, what: string): Buffer {
  if (typeof text !== 'string' || !(HEX.test(text) || BASE64URL.test(text))) {
    throw new KeepsakeError(
      'INVALID_KEY',
      `the ${what} must be 16 bytes, as 32 hex digits or 22 base64url characters`,
    );
  }
  const decoded = HEX.test(text) ? Buffer.from(text, 'hex') : Buffer.from(text, 'base64url');
  const out = Buffer.alloc(KEY_BYTES);
  decoded.copy(out);
  decoded.fill(0);
  // base64url of 22 characters carries 132 bits; the last 4 must be zero to mean 16 bytes.
  if (!HEX.test(text) && out.toString('base64url') !== text) {
    out.fill(0);
    throw new KeepsakeError('INVALID_KEY', `the ${what} is not canonical base64url`);
  }
  return out;
}

export interface KeyStoreOptions {
  /** The clock (tests). */
  now?: () => number;
  maxKeys?: number;
}

export class KeyStore {
  readonly #keys = new Map<string, Held>();
  readonly #now: () => number;
  readonly #maxKeys: number;
  #closed = false;

  constructor(options: KeyStoreOptions = {}) {
    this.#now = options.now ?? Date.now;
    this.#maxKeys = options.maxKeys ?? MAX_KEYS;
  }

  /**
   * Holds `key` under `kid` for `ttlSeconds`. Both buffers are copied; the caller's are
   * zeroed, so the only copy left is the store's. Loading a kid again replaces its key.
   */
  load(kid: Buffer, key: Buffer, ttlSeconds: number): HeldKeyInfo {
    try {
      if (this.#closed) throw new KeepsakeError('SERVER_BUSY', 'the key store is closed');
      if (kid.length !== KEY_BYTES || key.length !== KEY_BYTES) {
        throw new KeepsakeError('INVALID_KEY', `key ids and keys are ${KEY_BYTES} bytes`);
      }
      if (!Number.isInteger(ttlSeconds) || ttlSeconds < 1 || ttlSeconds > MAX_TTL_SECONDS) {
        throw new KeepsakeError(
          'USAGE',
          `ttlSeconds must be a whole number from 1 to ${MAX_TTL_SECONDS}`,
        );
      }
      const id = kid.toString('base64url');
      this.#drop(id);
      if (this.#keys.size >= this.#maxKeys) {
        throw new KeepsakeError('TOO_LARGE', `at most ${this.#maxKeys} keys are held at once`);
      }
      const own = Buffer.alloc(KEY_BYTES);
      key.copy(own);
      const expiresAtMs = this.#now() + ttlSeconds * 1000;
      // unref: a key waiting to expire must not keep the process alive.
      const timer = setTimeout(() => this.#drop(id), ttlSeconds * 1000).unref();
      this.#keys.set(id, { key: own, expiresAtMs, timer });
      return { kid: id, expiresAt: new Date(expiresAtMs).toISOString() };
    } finally {
      key.fill(0);
    }
  }

  /**
   * The key for `kid` (base64url) as base64url, or undefined when none is held or it has
   * expired: the two are answered alike, so a caller learns nothing about past keys.
   */
  keyFor(kid: string): string | undefined {
    const held = this.#keys.get(kid);
    if (!held) return undefined;
    // The timer may be late (a busy loop); the clock decides.
    if (this.#now() >= held.expiresAtMs) {
      this.#drop(kid);
      return undefined;
    }
    return held.key.toString('base64url');
  }

  /** The ids held and when each expires, soonest first. Never the keys. */
  list(): HeldKeyInfo[] {
    const now = this.#now();
    const out: { kid: string; at: number }[] = [];
    for (const [kid, held] of [...this.#keys]) {
      if (now >= held.expiresAtMs) this.#drop(kid);
      else out.push({ kid, at: held.expiresAtMs });
    }
    return out
      .sort((a, b) => a.at - b.at)
      .map(({ kid, at }) => ({ kid, expiresAt: new Date(at).toISOString() }));
  }

  get size(): number {
    return this.#keys.size;
  }

  /** Wipes every key and refuses new ones (server shutdown). */
  close(): void {
    this.#closed = true;
    for (const kid of [...this.#keys.keys()]) this.#drop(kid);
  }

  #drop(kid: string): void {
    const held = this.#keys.get(kid);
    if (!held) return;
    clearTimeout(held.timer);
    held.key.fill(0);
    this.#keys.delete(kid);
  }
}
