// What the folder scanner's main thread (scan.ts) and its worker threads (scan-walker.ts)
// say to each other, and the walker's own record of an open folder. Types only: the
// walker's source runs as an `eval` worker and may import nothing else.

import type { Dir, Dirent } from 'node:fs';

/** Why an entry was not scanned. library-left-out.ts holds the words a family reads. */
export type SkipReason =
  'link' | 'special' | 'system' | 'excluded' | 'unreadable' | 'name' | 'loop' | 'too-deep';

export interface WalkerData {
  /** This thread's number: its slots in `control` and `counters`. */
  index: number;
  batchSize: number;
  bufferSize: number;
  /**
   * Int32: [0] 1 when cancelled, [1] idle threads waiting for a folder (minus folders
   * already offered), [2 + index] batches the main thread has taken from thread `index`.
   */
  control: SharedArrayBuffer;
  /** Float64, 5 per thread: files, dirs, bytes, skipped, hidden (progress). */
  counters: SharedArrayBuffer;
  /** How many skipped entries to name in the summary (the rest are only counted). */
  maxExamples: number;
  /** Replaces the system folders below (tests: the real ones cannot be crossed from a temp tree). */
  systemFolders: string[] | undefined;
  /** Real paths of folders to leave out (Keepsake's own data folder). */
  exclude: string[];
}

/** Folders for a thread to walk: the start, or sibling folders another thread handed out. */
export interface WalkTask {
  /** The folder the user chose: checked, and resolved to its real path, first. */
  start?: string;
  dirs: { rel: string; full: string }[];
  /** The device of their parent folder (a different one means a mount point). */
  parentDev: number;
  /** dev, ino pairs of the folders above them, to notice loops. */
  ancestors: number[];
  depth: number;
}

export type ToWalker = { type: 'task'; task: WalkTask } | { type: 'exit' };

export type WalkerMessage =
  | { type: 'batch'; index: number; rels: string[]; sizes: Float64Array; mtimes: Float64Array }
  | { type: 'donate'; task: WalkTask }
  | {
      type: 'idle';
      index: number;
      /** The real path of the start, after the task that checked it. */
      root?: string;
      counts: { files: number; dirs: number; bytes: number; skipped: number; hidden: number };
      skippedBy: Partial<Record<SkipReason, number>>;
      examples: { rel: string; reason: SkipReason; detail?: string }[];
    }
  | {
      type: 'refused';
      kind: 'fs' | 'usage';
      path: string;
      message: string;
      errno?: string;
    };

/** A folder the walker has open (scan-walker.ts). */
export interface Frame {
  rel: string;
  full: string;
  /** `rel` and `full` with a trailing `/` (none for the root's rel): names append. */
  relPrefix: string;
  fullPrefix: string;
  dev: number;
  ino: number;
  /** Streaming handle (big folders); undefined once read, or when read whole. */
  dir: Dir | undefined;
  /** The folder read whole (small folders, and deep ones, to bound open handles). */
  entries: Dirent[] | undefined;
  next: number;
  /** Some names decoded with U+FFFD: they are re-read as bytes when the rest is done. */
  replaced: boolean;
  bytesDir: Dir | undefined;
  /** Entries read ahead while looking for a subfolder to hand out, not visited yet. */
  ahead: Dirent[];
  /** False once read ahead to the end: no subfolder left to hand out here. */
  dirsLeft: boolean;
}
