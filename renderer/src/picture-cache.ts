// Pictures fetched once and kept in this page's memory, as object URLs, for those shown
// again and again: the timeline's thumbnails, which scroll out of the page and back, and a
// video's sprite strip while the pointer scrubs across its tile. The engine answers every
// decrypted picture with `Cache-Control: no-store` (no plaintext in the browser's disk
// cache), so without this a tile coming back, or a CSS background, fetches the picture
// anew (and the engine decrypts it again).
//
// Bounded and least-recently-used: the oldest entry is revoked (its memory freed) when a
// new one would go over the limit, and `clear` revokes them all (the timeline calls it
// when it goes away, as it does when the vault is locked). A few hundred thumbnails of
// ~20 kB stay far below what Chromium holds of blobs in memory before paging any to disk.

export interface CachedPicture {
  /** An object URL of the fetched bytes, valid until evicted or cleared. */
  url: string;
  /** Its size in pixels, when the cache measures (0 otherwise). */
  width: number;
  height: number;
}

interface PictureCacheOptions {
  /** Entries kept; the least recently used is revoked beyond this. */
  limit: number;
  /**
   * Decode each picture once to learn its size (a sprite's frames need it); a thumbnail
   * needs no measuring, and the <img> showing it decodes it anyway. Default false.
   */
  measure?: boolean;
  /** Fetches a picture (and measures it when asked). The browser default is `loadPicture`. */
  load?: (src: string) => Promise<{ blob: Blob; width: number; height: number }>;
  createUrl?: (blob: Blob) => string;
  revokeUrl?: (url: string) => void;
}

/** A load that finished after `clear`: its picture was not kept. */
export class PictureLetGo extends Error {
  constructor() {
    super('The picture arrived after it was no longer wanted.');
    this.name = 'PictureLetGo';
  }
}

export class PictureCache {
  readonly #limit: number;
  readonly #load: NonNullable<PictureCacheOptions['load']>;
  readonly #createUrl: (blob: Blob) => string;
  readonly #revokeUrl: (url: string) => void;
  /** In use order, oldest first (a Map keeps insertion order; a hit re-inserts). */
  readonly #entries = new Map<string, CachedPicture>();
  /** Loads under way, so two hovers of one tile fetch it once. */
  readonly #pending = new Map<string, Promise<CachedPicture>>();
  /** Bumped by `clear`, so a load that finishes after it is not kept. */
  #generation = 0;

  constructor(options: PictureCacheOptions) {
    this.#limit = Math.max(1, Math.floor(options.limit));
    const measure = options.measure ?? false;
    this.#load = options.load ?? ((src) => loadPicture(src, measure));
    this.#createUrl = options.createUrl ?? ((blob) => URL.createObjectURL(blob));
    this.#revokeUrl = options.revokeUrl ?? ((url) => URL.revokeObjectURL(url));
  }

  get size(): number {
    return this.#entries.size;
  }

  /** Whether the picture is held (without marking it used). */
  has(src: string): boolean {
    return this.#entries.has(src);
  }

  /** The picture when it is held (and marks it just used), else undefined. */
  peek(src: string): CachedPicture | undefined {
    const hit = this.#entries.get(src);
    if (hit) {
      this.#entries.delete(src);
      this.#entries.set(src, hit);
    }
    return hit;
  }

  /** The picture, fetched on the first call for `src` and kept. */
  get(src: string): Promise<CachedPicture> {
    const hit = this.peek(src);
    if (hit) return Promise.resolve(hit);
    const pending = this.#pending.get(src);
    if (pending) return pending;
    const generation = this.#generation;
    const loading = this.#load(src)
      .then(({ blob, width, height }) => {
        // Cleared meanwhile (the timeline went away): nobody is waiting to show it.
        if (generation !== this.#generation) throw new PictureLetGo();
        const entry = { url: this.#createUrl(blob), width, height };
        this.#entries.set(src, entry);
        this.#evict();
        return entry;
      })
      .finally(() => {
        if (this.#pending.get(src) === loading) this.#pending.delete(src);
      });
    this.#pending.set(src, loading);
    return loading;
  }

  /** Revokes every picture held. */
  clear(): void {
    this.#generation++;
    this.#pending.clear();
    for (const entry of this.#entries.values()) this.#revokeUrl(entry.url);
    this.#entries.clear();
  }

  #evict(): void {
    while (this.#entries.size > this.#limit) {
      const [oldest, entry] = this.#entries.entries().next().value as [string, CachedPicture];
      this.#entries.delete(oldest);
      this.#revokeUrl(entry.url);
    }
  }
}

/** Fetches a picture (no cookies, no cache), and when asked reads its size by decoding it. */
async function loadPicture(
  src: string,
  measure: boolean,
): Promise<{ blob: Blob; width: number; height: number }> {
  const res = await fetch(src, { cache: 'no-store', credentials: 'omit' });
  if (!res.ok) throw new Error(`The picture could not be fetched (${res.status}).`);
  const blob = await res.blob();
  if (!measure) return { blob, width: 0, height: 0 };
  const bitmap = await createImageBitmap(blob);
  try {
    return { blob, width: bitmap.width, height: bitmap.height };
  } finally {
    bitmap.close();
  }
}
