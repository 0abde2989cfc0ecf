// How the folder walker (scan-walker.ts) reads a folder's entries: from the list read
// whole or the stream, after those read ahead, hidden names counted and left out, and
// names that are not valid UTF-8 read again as bytes. Part of the scanner's worker
// threads: scan.ts hands this function's source to each thread beside the walker's, so it
// must be self-contained (no imports but types, no helpers from outside its own body).

import type { Dirent } from 'node:fs';
import type { Frame, SkipReason } from './scan-walker-types';

export interface FolderEntries {
  /** The next unread entry of a frame's folder, or null at its end. */
  readEntry(frame: Frame): Dirent | null;
  /** The next entry of a frame with a name to visit; undefined when the folder is done. */
  nextEntry(frame: Frame): { name: string; entry: Dirent } | undefined;
}

export type FolderEntriesOf = typeof folderEntries;

export function folderEntries(
  bufferSize: number,
  onHidden: () => void,
  skip: (rel: string, reason: SkipReason, detail?: string) => void,
): FolderEntries {
  const fs = process.getBuiltinModule('node:fs');

  /** The next unread entry of a frame's folder, or null at its end. */
  const readEntry = (frame: Frame): Dirent | null => {
    if (frame.entries) {
      const entry = frame.entries[frame.next++];
      if (entry !== undefined) return entry;
      frame.entries = undefined;
    } else if (frame.dir) {
      const entry = frame.dir.readSync();
      if (entry !== null) return entry;
      frame.dir.closeSync();
      frame.dir = undefined;
    }
    return null;
  };

  /** The next entry of a frame with a name to visit; undefined when the folder is done. */
  const nextEntry = (frame: Frame): { name: string; entry: Dirent } | undefined => {
    for (;;) {
      const entry = frame.ahead.pop() ?? readEntry(frame);
      if (entry !== null) {
        const name = entry.name;
        if (name.charCodeAt(0) === 46 /* . */) {
          onHidden();
          continue;
        }
        if (name.includes('\uFFFD')) {
          frame.replaced = true;
          continue;
        }
        return { name, entry };
      }
      if (!frame.replaced) return undefined;
      // Names that did not decode: read the folder again as bytes. Those that are valid
      // UTF-8 (holding a real U+FFFD) are visited; the others cannot be named through
      // the API and are skipped.
      if (!frame.bytesDir) {
        try {
          // Node's types know no Buffer names for opendir; it returns them all the same.
          frame.bytesDir = fs.opendirSync(frame.full, {
            bufferSize,
            encoding: 'buffer' as 'utf8',
          });
        } catch (err) {
          frame.replaced = false;
          skip(frame.rel, 'unreadable', (err as NodeJS.ErrnoException).code);
          return undefined;
        }
      }
      for (;;) {
        const raw = frame.bytesDir.readSync();
        if (raw === null) {
          frame.bytesDir.closeSync();
          frame.bytesDir = undefined;
          frame.replaced = false;
          return undefined;
        }
        const bytes = raw.name as unknown as Buffer;
        if (bytes[0] === 46) continue;
        const name = bytes.toString('utf8');
        if (!name.includes('\uFFFD')) continue; // visited in the first pass
        if (Buffer.from(name, 'utf8').equals(bytes)) return { name, entry: raw };
        skip(frame.relPrefix + name, 'name');
      }
    }
  };

  return { readEntry, nextEntry };
}
