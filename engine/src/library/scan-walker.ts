// The body of the folder scanner's worker threads (scan.ts starts and steers them). They
// walk with synchronous calls because, in threads of their own, these are more than twice
// as fast as fs.promises (one lstat per file is most of a scan's time) and block nothing
// the engine serves. scan.ts runs this function's source text as an `eval`
// worker, so it must be self-contained: no imports (types only), no helpers from outside
// its own body. That way the very same code runs from the TypeScript sources (tsx,
// vitest) and from the esbuild bundle, which has no separate worker entry.
//
// Each thread walks the folder it is given depth-first, with a stack of open folders
// (memory grows with depth, not with the tree). When another thread is idle (the shared
// `hungry` count), a busy one hands it half of the subfolders it has not entered yet at
// the shallowest level it can find them (reading ahead in its open folders), so that
// threads trade big pieces of work rather than one small folder at a time.
//
// Two pieces run in the same thread and come in as arguments (scan.ts passes them): the
// checks for the computer's own folders (scan-system.ts) and the reading of a folder's
// entries (scan-entries.ts). The types shared with scan.ts are in scan-walker-types.ts.

import type { Dir, Dirent, Stats } from 'node:fs';
import type { MessagePort } from 'node:worker_threads';
import type { FolderEntriesOf } from './scan-entries';
import type { SystemFolders } from './scan-system';
import type {
  Frame,
  SkipReason,
  WalkTask,
  WalkerData,
  WalkerMessage,
  ToWalker,
} from './scan-walker-types';

export function scanWalker(
  port: MessagePort,
  data: WalkerData,
  system: SystemFolders,
  entriesOf: FolderEntriesOf,
): void {
  const fs = process.getBuiltinModule('node:fs');
  const SYSTEM_PATHS = system.paths;
  const { isPseudoFs } = system;

  const control = new Int32Array(data.control);
  const counters = new Float64Array(data.counters);
  const CANCEL = 0;
  const HUNGRY = 1;
  const ACKS = 2 + data.index;
  const FILES = data.index * 5;
  const DIRS = FILES + 1;
  const BYTES = FILES + 2;
  const SKIPPED = FILES + 3;
  const HIDDEN = FILES + 4;

  const refuse = (kind: 'fs' | 'usage', path: string, message: string, errno?: string): void => {
    port.postMessage({ type: 'refused', kind, path, message, errno } satisfies WalkerMessage);
  };

  const NO_THROW = { throwIfNoEntry: false } as const;
  const MAX_OPEN = 32;
  // A folder's own size grows with its entries (ext4 and most others: tens of bytes
  // each; tmpfs: 20), so this reads folders of up to a few thousand entries whole.
  const SMALL_FOLDER_BYTES = 64 * 1024;
  const MAX_AHEAD = 2048;
  const MAX_DEPTH = 1024;
  const skippedBy: Partial<Record<SkipReason, number>> = {};
  const examples: { rel: string; reason: SkipReason; detail?: string }[] = [];
  const skip = (rel: string, reason: SkipReason, detail?: string) => {
    counters[SKIPPED]! += 1;
    skippedBy[reason] = (skippedBy[reason] ?? 0) + 1;
    if (examples.length < data.maxExamples) {
      examples.push(detail === undefined ? { rel, reason } : { rel, reason, detail });
    }
  };
  const { readEntry, nextEntry } = entriesOf(data.bufferSize, () => (counters[HIDDEN]! += 1), skip);

  let rels: string[] = [];
  let sizes = new Float64Array(data.batchSize);
  let mtimes = new Float64Array(data.batchSize);
  let posted = 0;
  const cancelled = () => Atomics.load(control, CANCEL) !== 0;
  /**
   * Hands the batch to the main thread. At most one more batch may wait there while it
   * works on one: the walker blocks until the main thread catches up (backpressure).
   */
  const flush = (): boolean => {
    if (rels.length === 0) return !cancelled();
    while (Atomics.load(control, ACKS) < posted - 1 && !cancelled()) {
      Atomics.wait(control, ACKS, Atomics.load(control, ACKS), 1000);
    }
    if (cancelled()) return false;
    const n = rels.length;
    const message: WalkerMessage = {
      type: 'batch',
      index: data.index,
      rels,
      sizes: n === sizes.length ? sizes : sizes.slice(0, n),
      mtimes: n === mtimes.length ? mtimes : mtimes.slice(0, n),
    };
    port.postMessage(message, [
      message.sizes.buffer as ArrayBuffer,
      message.mtimes.buffer as ArrayBuffer,
    ]);
    posted += 1;
    rels = [];
    sizes = new Float64Array(data.batchSize);
    mtimes = new Float64Array(data.batchSize);
    return true;
  };

  const stack: Frame[] = [];
  /** The task being walked: where `stack` sits in the whole tree. */
  let task: WalkTask = { dirs: [], parentDev: 0, ancestors: [], depth: 0 };
  /** Its folders not begun yet. */
  let pending: WalkTask['dirs'] = [];
  const closeFrame = (frame: Frame) => {
    for (const dir of [frame.dir, frame.bytesDir]) {
      try {
        dir?.closeSync();
      } catch {
        // Already closed.
      }
    }
    frame.dir = undefined;
    frame.bytesDir = undefined;
  };

  /**
   * Opens a folder, or says why not; returns the new frame. `startInfo` is given for the
   * start itself, which is checked before and whose failure to open is the caller's.
   */
  const enter = (
    rel: string,
    full: string,
    parentDev: number,
    startInfo?: Stats,
  ): Frame | undefined => {
    const found = startInfo === undefined; // met in the walk (not the start)
    if (found) {
      if (task.depth + stack.length >= MAX_DEPTH) return void skip(rel, 'too-deep');
      if (SYSTEM_PATHS.includes(full)) return void skip(rel, 'system');
      if (data.exclude.includes(full)) return void skip(rel, 'excluded');
    }
    let info: Stats | undefined;
    try {
      info = startInfo ?? fs.lstatSync(full, NO_THROW);
    } catch (err) {
      return void skip(rel, 'unreadable', (err as NodeJS.ErrnoException).code);
    }
    if (!info) return undefined; // gone since it was listed
    if (!info.isDirectory()) return void skip(rel, info.isSymbolicLink() ? 'link' : 'special');
    if (found && info.dev !== parentDev && isPseudoFs(full)) return void skip(rel, 'system');
    // Without followed links a walk cannot loop, except through a bind mount of a parent.
    if (stack.some((f) => f.ino === info.ino && f.dev === info.dev)) return void skip(rel, 'loop');
    for (let i = 0; i < task.ancestors.length; i += 2) {
      if (task.ancestors[i] === info.dev && task.ancestors[i + 1] === info.ino) {
        return void skip(rel, 'loop');
      }
    }
    // A small folder (the usual case) is read whole in one call: several times quicker
    // than a stream of single entries. A big one is streamed, so that one folder of a
    // million files does not sit in memory; so is every folder past MAX_OPEN deep, which
    // is read at once and closed to bound open handles.
    const small = info.size <= SMALL_FOLDER_BYTES;
    let dir: Dir | undefined;
    let entries: Dirent[] | undefined;
    try {
      if (small) entries = fs.readdirSync(full, { withFileTypes: true });
      else dir = fs.opendirSync(full, { bufferSize: data.bufferSize });
    } catch (err) {
      const e = err as NodeJS.ErrnoException;
      if (!found) throw err;
      if (e.code === 'ENOENT') return undefined;
      return void skip(rel, 'unreadable', e.code);
    }
    // Both follow a link: if the folder was swapped for one since lstat, leave it.
    if (found) {
      const now = fs.statSync(full, NO_THROW);
      if (!now || now.ino !== info.ino || now.dev !== info.dev) {
        dir?.closeSync();
        return void skip(rel, 'link');
      }
      counters[DIRS]! += 1;
    }
    const frame: Frame = {
      rel,
      full,
      relPrefix: rel === '' ? '' : rel + '/',
      fullPrefix: full.endsWith('/') ? full : full + '/',
      dev: info.dev,
      ino: info.ino,
      dir,
      entries,
      next: 0,
      replaced: false,
      bytesDir: undefined,
      ahead: [],
      dirsLeft: true,
    };
    if (dir && stack.length >= MAX_OPEN) {
      frame.entries = [];
      let entry: Dirent | null;
      try {
        while ((entry = dir.readSync()) !== null) frame.entries.push(entry);
      } catch (err) {
        closeFrame(frame);
        return void skip(rel, 'unreadable', (err as NodeJS.ErrnoException).code);
      }
      closeFrame(frame);
    }
    return frame;
  };

  /** One entry of a folder, by its (valid UTF-8) name. */
  const visit = (frame: Frame, name: string, entry: Dirent): void => {
    const rel = frame.relPrefix + name;
    const full = frame.fullPrefix + name;
    if (entry.isFile()) {
      let info: Stats | undefined;
      try {
        info = fs.lstatSync(full, NO_THROW);
      } catch (err) {
        return skip(rel, 'unreadable', (err as NodeJS.ErrnoException).code);
      }
      if (!info) return; // gone since it was listed
      if (!info.isFile()) return skip(rel, info.isSymbolicLink() ? 'link' : 'special');
      const i = rels.length;
      rels.push(rel);
      sizes[i] = info.size;
      mtimes[i] = info.mtimeMs;
      counters[FILES]! += 1;
      counters[BYTES]! += info.size;
      if (rels.length >= data.batchSize) flush();
    } else if (entry.isDirectory()) {
      const child = enter(rel, full, frame.dev);
      if (child) stack.push(child);
    } else if (entry.isSymbolicLink()) {
      skip(rel, 'link');
    } else {
      skip(rel, 'special'); // FIFO, socket or device: reading one would block or never end
    }
  };

  /**
   * Hands an idle thread half of the subfolders not yet entered at the shallowest level
   * that has any. Entries read on the way, and the other half, wait in `ahead`.
   */
  const donate = (): void => {
    const hungry = Atomics.load(control, HUNGRY);
    if (hungry <= 0 || Atomics.compareExchange(control, HUNGRY, hungry, hungry - 1) !== hungry) {
      return;
    }
    const give = (dirs: WalkTask['dirs'], parentDev: number, ancestors: number[], depth: number) =>
      port.postMessage({
        type: 'donate',
        task: { dirs, parentDev, ancestors, depth },
      } satisfies WalkerMessage);
    if (pending.length > 0) {
      return give(
        pending.splice(0, Math.ceil(pending.length / 2)),
        task.parentDev,
        task.ancestors,
        task.depth,
      );
    }
    for (let depth = 0; depth < stack.length; depth++) {
      const frame = stack[depth]!;
      const found: Dirent[] = [];
      // Reading ahead holds entries in memory: a little, not a whole folder of files.
      while (frame.dirsLeft && frame.ahead.length < MAX_AHEAD && found.length < 64) {
        let entry: Dirent | null;
        try {
          entry = readEntry(frame);
        } catch {
          entry = null; // the walk meets the error again, and reports it, in turn
        }
        if (entry === null) {
          frame.dirsLeft = false;
          break;
        }
        const name = entry.name;
        if (entry.isDirectory() && name.charCodeAt(0) !== 46 && !name.includes('\uFFFD')) {
          found.push(entry);
        } else {
          frame.ahead.push(entry);
        }
      }
      if (found.length === 0) continue;
      const given = found.splice(0, Math.ceil(found.length / 2));
      frame.ahead.push(...found);
      const ancestors = task.ancestors.slice();
      for (let i = 0; i <= depth; i++) ancestors.push(stack[i]!.dev, stack[i]!.ino);
      return give(
        given.map((e) => ({ rel: frame.relPrefix + e.name, full: frame.fullPrefix + e.name })),
        frame.dev,
        ancestors,
        task.depth + depth + 1,
      );
    }
    Atomics.add(control, HUNGRY, 1); // nothing left to give
  };

  let root: string | undefined;
  /** Walks one folder (already entered) to its end, or until cancelled. */
  let steps = 0;
  const walk = (first: Frame | undefined): void => {
    if (first) stack.push(first);
    while (stack.length > 0) {
      if ((++steps & 255) === 0 && cancelled()) break;
      if (Atomics.load(control, HUNGRY) > 0) donate();
      const frame = stack[stack.length - 1]!;
      let entry: { name: string; entry: Dirent } | undefined;
      try {
        entry = nextEntry(frame);
      } catch (err) {
        // A folder that fails while being read (an I/O error, a drive unplugged).
        skip(frame.rel, 'unreadable', (err as NodeJS.ErrnoException).code);
        entry = undefined;
      }
      if (entry === undefined) {
        closeFrame(frame);
        stack.pop();
        continue;
      }
      visit(frame, entry.name, entry.entry);
    }
    for (const frame of stack.splice(0)) closeFrame(frame);
  };

  const run = (next: WalkTask): void => {
    task = next;
    pending = next.dirs.slice();
    if (next.start !== undefined) {
      const start = system.checkStart(next.start, refuse);
      if (!start) return;
      root = start.root;
      let first: Frame | undefined;
      try {
        first = enter('', start.root, start.info.dev, start.info);
      } catch (err) {
        const e = err as NodeJS.ErrnoException;
        return refuse('fs', next.start, e.message, e.code);
      }
      walk(first);
    }
    for (let dir = pending.shift(); dir && !cancelled(); dir = pending.shift()) {
      walk(enter(dir.rel, dir.full, next.parentDev));
    }
    pending = [];
    flush();
  };

  port.on('message', (message: ToWalker) => {
    if (message.type === 'exit') process.exit(0);
    run(message.task);
    port.postMessage({
      type: 'idle',
      index: data.index,
      ...(root !== undefined ? { root } : {}),
      counts: {
        files: counters[FILES]!,
        dirs: counters[DIRS]!,
        bytes: counters[BYTES]!,
        skipped: counters[SKIPPED]!,
        hidden: counters[HIDDEN]!,
      },
      skippedBy,
      examples,
    } satisfies WalkerMessage);
  });
}
