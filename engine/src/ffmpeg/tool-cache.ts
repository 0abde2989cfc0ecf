// What FFmpeg binaries said about themselves (version, encoders, muxers), remembered per
// binary (path, size and modification time) in the data directory. Each question is a
// process start, 50-80 ms for a dynamically linked FFmpeg, and every `job submit` would
// otherwise ask four of them again.

import { readFileSync } from 'node:fs';
import { stat } from 'node:fs/promises';
import { writeFileAtomic } from '../fs/atomic';

interface Entry {
  version?: string;
  encoders?: string[];
  muxers?: string[];
  filters?: string[];
}

export class ToolCache {
  private entries: Record<string, Entry>;
  private dirty = false;

  constructor(private readonly file: string) {
    try {
      this.entries = JSON.parse(readFileSync(file, 'utf8')) as Record<string, Entry>;
    } catch {
      // Missing or unreadable: it is only a cache.
      this.entries = {};
    }
  }

  /** A binary's identity: replacing it (a package upgrade) changes its size or time. */
  private static async key(path: string): Promise<string | undefined> {
    const info = await stat(path).catch(() => undefined);
    return info ? `${path}|${info.size}|${info.mtimeMs}` : undefined;
  }

  async get<K extends keyof Entry>(
    path: string,
    field: K,
    compute: () => Promise<NonNullable<Entry[K]>>,
  ) {
    const key = await ToolCache.key(path);
    const known = key ? this.entries[key]?.[field] : undefined;
    if (known !== undefined) return known as NonNullable<Entry[K]>;
    const value = await compute();
    if (key) {
      this.entries[key] = { ...this.entries[key], [field]: value };
      this.dirty = true;
    }
    return value;
  }

  /** Writes the cache if anything was learnt; failures are ignored (it is a cache). */
  async save(): Promise<void> {
    if (!this.dirty) return;
    this.dirty = false;
    await writeFileAtomic(this.file, JSON.stringify(this.entries)).catch(() => undefined);
  }
}
