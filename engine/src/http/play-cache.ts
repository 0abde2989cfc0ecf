// Decrypted playback outputs kept in memory, least recently used first out. A player asks
// for the same small files again and again (playlists on every refresh, segments when it
// seeks back or switches rendition); the cache plays the role the page cache plays for a
// plain web server. Only this process's memory holds them, never the disk, and the desktop
// engine clears the cache when the vault is locked. Outputs of a finished job never change,
// so an entry needs no revalidation.

export class PlayCache {
  private readonly entries = new Map<string, Buffer>();
  private bytes = 0;

  constructor(
    /** Total budget; 0 turns the cache off. */
    readonly maxBytes: number,
    /** Larger files are streamed, never cached (a single-file MP4, say). */
    readonly maxEntryBytes = 8 * 1024 * 1024,
  ) {}

  get(key: string): Buffer | undefined {
    const hit = this.entries.get(key);
    if (hit) {
      // Re-inserting moves the entry to the young end of the Map's order.
      this.entries.delete(key);
      this.entries.set(key, hit);
    }
    return hit;
  }

  fits(size: number): boolean {
    return size <= this.maxEntryBytes && size <= this.maxBytes;
  }

  set(key: string, value: Buffer): void {
    if (!this.fits(value.length) || this.entries.has(key)) return;
    this.entries.set(key, value);
    this.bytes += value.length;
    for (const [oldKey, old] of this.entries) {
      if (this.bytes <= this.maxBytes) break;
      this.entries.delete(oldKey);
      this.bytes -= old.length;
    }
  }

  /** Drops everything and overwrites the plaintext it held. */
  clear(): void {
    for (const value of this.entries.values()) value.fill(0);
    this.entries.clear();
    this.bytes = 0;
  }

  get size(): number {
    return this.bytes;
  }
}

/** KEEPSAKE_PLAY_CACHE_MB, else 64 MiB. */
export function playCacheBytes(env: NodeJS.ProcessEnv = process.env): number {
  const mb = Number(env.KEEPSAKE_PLAY_CACHE_MB ?? 64);
  return Number.isFinite(mb) && mb >= 0 ? Math.floor(mb * 1024 * 1024) : 64 * 1024 * 1024;
}
