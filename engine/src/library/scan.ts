// Scans a folder a family adds to the library (or rescans one), however big: a home
// folder, a whole drive, `/`. What it guarantees:
//
// - it never follows a symbolic link (to a file or a folder), so a link to `/` or back
//   to a parent cannot take it out of the folder or round in circles;
// - it never enters the kernel's pseudo file systems: /proc, /sys, /dev and /run are
//   refused as a start and skipped when crossed, and any mount inside the tree whose
//   type is proc, sysfs, devtmpfs, cgroup, debugfs and the like is skipped;
// - sockets, FIFOs and devices are skipped (reading a FIFO blocks forever), and so are
//   hidden (dot) files and folders, as the library always has;
// - memory stays bounded: each thread walks depth-first with a stack of open folders,
//   files are handed out in batches of `batchSize`, and a thread waits while two of its
//   batches are with the caller; no list of all entries is ever held;
// - progress (files, folders, bytes, skipped) is reported every `progressMs` and once at
//   the end, and an AbortSignal cancels it at once with SCAN_CANCELLED.
//
// The walk itself runs in worker threads (scan-walker.ts says why).

import { realpathSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { Worker } from 'node:worker_threads';
import { KeepsakeError, fromFsError } from '../core/errors';
import { folderEntries } from './scan-entries';
import { systemFolders } from './scan-system';
import { scanWalker } from './scan-walker';
import type {
  SkipReason,
  ToWalker,
  WalkTask,
  WalkerData,
  WalkerMessage,
} from './scan-walker-types';

export type { SkipReason } from './scan-walker-types';

export interface ScannedFile {
  /** Path inside the scanned folder, `/`-separated, valid UTF-8. */
  rel: string;
  size: number;
  mtimeMs: number;
}

export interface ScanProgress {
  files: number;
  /** Folders entered below the scanned one. */
  dirs: number;
  bytes: number;
  /** Entries left out, each for a reason in `ScanSummary.skippedBy`. */
  skipped: number;
}

export interface ScanSummary extends ScanProgress {
  /** The folder as scanned: its real path, links resolved. */
  root: string;
  /** Hidden (dot) files and folders, left out by design (not counted in `skipped`). */
  hidden: number;
  skippedBy: Partial<Record<SkipReason, number>>;
  /** The first skipped entries, with why (at most `maxExamples`). */
  examples: { rel: string; reason: SkipReason; detail?: string }[];
  elapsedMs: number;
}

export interface ScanOptions {
  signal?: AbortSignal;
  onProgress?: (progress: ScanProgress) => void;
  /** Called with each batch of files (in no set order), one call at a time; the scan
   *  waits for each to settle. */
  onBatch: (files: ScannedFile[]) => void | Promise<void>;
  /** Files per batch (default 1000). */
  batchSize?: number;
  /** How often progress is reported, in ms (default 100). */
  progressMs?: number;
  /** Skipped entries named in the summary (default 50). */
  maxExamples?: number;
  /** Threads walking at once (default: the number of cores, at most 4). */
  threads?: number;
  /** Folders inside the tree to leave out, such as Keepsake's own data folder. */
  excludeFolders?: string[];
  /** Tests only: folders to treat as the system's (default /proc, /sys, /dev, /run). */
  systemFolders?: string[];
}

// Each thread runs this source; see scan-walker.ts. The walker's two helpers are passed in
// as arguments, never imported, so that each function's text stands on its own. tsx and
// vitest compile with esbuild's keepNames, which wraps functions in a `__name(fn, "name")`
// helper defined outside the function's text: the thread gets its own.
const WORKER_SOURCE = `const { parentPort, workerData } = require('node:worker_threads');
const __name = (fn) => fn;
(${scanWalker.toString()})(
  parentPort,
  workerData,
  (${systemFolders.toString()})(workerData.systemFolders),
  ${folderEntries.toString()},
);`;

export function scanFolder(root: string, options: ScanOptions): Promise<ScanSummary> {
  const started = performance.now();
  const batchSize = Math.max(1, Math.floor(options.batchSize ?? 1000));
  const progressMs = options.progressMs ?? 100;
  const maxExamples = options.maxExamples ?? 50;
  const threads = Math.max(1, Math.floor(options.threads ?? Math.min(4, availableParallelism())));
  const { signal, onBatch, onProgress } = options;
  if (signal?.aborted) return Promise.reject(cancelledError(root));

  const control = new SharedArrayBuffer((2 + threads) * Int32Array.BYTES_PER_ELEMENT);
  const counters = new SharedArrayBuffer(5 * threads * Float64Array.BYTES_PER_ELEMENT);
  const ctl = new Int32Array(control);
  const counts = new Float64Array(counters);
  const HUNGRY = 1;
  // The walk compares real paths.
  const exclude = (options.excludeFolders ?? []).map((path) => {
    try {
      return realpathSync.native(path);
    } catch {
      return path;
    }
  });

  return new Promise<ScanSummary>((resolve, reject) => {
    const workers = Array.from(
      { length: threads },
      (_, index) =>
        new Worker(WORKER_SOURCE, {
          eval: true,
          workerData: {
            index,
            batchSize,
            bufferSize: 256,
            control,
            counters,
            maxExamples,
            systemFolders: options.systemFolders,
            exclude,
          } satisfies WalkerData,
        }),
    );
    const send = (index: number, message: ToWalker) => workers[index]!.postMessage(message);
    let settled = false;
    // Batches are handed to the caller one at a time, each awaited before the next.
    let queue: Promise<void> = Promise.resolve();
    let last: ScanProgress = { files: 0, dirs: 0, bytes: 0, skipped: 0 };
    // Threads waiting for a folder, and folders offered while none was (rare).
    const idle: number[] = [];
    const tasks: WalkTask[] = [];
    const finals = new Map<number, Extract<WalkerMessage, { type: 'idle' }>>();
    let realRoot: string | undefined;

    const report = (progress: ScanProgress) => {
      // Never backwards, whatever order the threads' counters are read in.
      const next = {
        files: Math.max(last.files, progress.files),
        dirs: Math.max(last.dirs, progress.dirs),
        bytes: Math.max(last.bytes, progress.bytes),
        skipped: Math.max(last.skipped, progress.skipped),
      };
      const changed =
        next.files !== last.files ||
        next.dirs !== last.dirs ||
        next.bytes !== last.bytes ||
        next.skipped !== last.skipped;
      last = next;
      if (changed) onProgress?.({ ...next });
    };
    const sum = (field: number) => {
      let total = 0;
      for (let i = 0; i < threads; i++) total += counts[i * 5 + field]!;
      return total;
    };
    const timer = onProgress
      ? setInterval(
          () => report({ files: sum(0), dirs: sum(1), bytes: sum(2), skipped: sum(3) }),
          progressMs,
        )
      : undefined;
    timer?.unref();

    const finish = (err: unknown, summary?: ScanSummary) => {
      if (settled) return;
      settled = true;
      if (timer) clearInterval(timer);
      signal?.removeEventListener('abort', onAbort);
      if (err !== undefined) {
        // Busy threads stop at their next entry and close their folders; a thread stuck
        // in a call to a hung drive must not keep the engine from exiting.
        Atomics.store(ctl, 0, 1);
        for (let i = 0; i < threads; i++) Atomics.notify(ctl, 2 + i);
      }
      for (let i = 0; i < threads; i++) {
        send(i, { type: 'exit' });
        workers[i]!.unref();
      }
      if (err !== undefined) reject(err);
      else resolve(summary!);
    };
    const onAbort = () => finish(cancelledError(root));
    signal?.addEventListener('abort', onAbort, { once: true });

    const complete = () => {
      const total = { files: 0, dirs: 0, bytes: 0, skipped: 0, hidden: 0 };
      const skippedBy: ScanSummary['skippedBy'] = {};
      const examples: ScanSummary['examples'] = [];
      for (const final of finals.values()) {
        for (const key of Object.keys(total) as (keyof typeof total)[]) {
          total[key] += final.counts[key];
        }
        for (const [reason, n] of Object.entries(final.skippedBy) as [SkipReason, number][]) {
          skippedBy[reason] = (skippedBy[reason] ?? 0) + n;
        }
        examples.push(...final.examples);
      }
      report(total);
      finish(undefined, {
        root: realRoot ?? root,
        ...total,
        skippedBy,
        examples: examples.slice(0, maxExamples),
        elapsedMs: performance.now() - started,
      });
    };

    const onMessage = (message: WalkerMessage) => {
      if (settled) return;
      switch (message.type) {
        case 'batch': {
          const files: ScannedFile[] = new Array(message.rels.length);
          for (let i = 0; i < files.length; i++) {
            files[i] = {
              rel: message.rels[i]!,
              size: message.sizes[i]!,
              mtimeMs: message.mtimes[i]!,
            };
          }
          queue = queue.then(async () => {
            if (settled) return;
            try {
              await onBatch(files);
            } catch (err) {
              finish(err);
              return;
            }
            Atomics.add(ctl, 2 + message.index, 1);
            Atomics.notify(ctl, 2 + message.index);
          });
          break;
        }
        case 'donate': {
          const index = idle.pop();
          if (index === undefined) tasks.push(message.task);
          else send(index, { type: 'task', task: message.task });
          break;
        }
        case 'idle': {
          finals.set(message.index, message);
          if (message.root !== undefined) realRoot = message.root;
          const task = tasks.pop();
          if (task) {
            send(message.index, { type: 'task', task });
            break;
          }
          idle.push(message.index);
          Atomics.add(ctl, HUNGRY, 1);
          // Every thread idle and nothing offered: the walk is over once the caller has
          // taken the last batches.
          if (idle.length === threads) queue = queue.then(() => complete());
          break;
        }
        case 'refused':
          finish(
            message.kind === 'usage'
              ? new KeepsakeError('USAGE', message.message, { file: message.path })
              : fromFsError(
                  Object.assign(new Error(message.message), { code: message.errno }),
                  message.path,
                  'read',
                ),
          );
          break;
      }
    };
    workers.forEach((worker) => {
      worker.on('message', onMessage);
      worker.on('error', (err) =>
        finish(
          new KeepsakeError('INTERNAL', `the folder scan failed: ${err.message}`, { cause: err }),
        ),
      );
      worker.on('exit', () =>
        finish(new KeepsakeError('INTERNAL', 'the folder scan stopped unexpectedly')),
      );
    });

    // The first thread checks the start and walks it; the others wait to be handed folders.
    for (let i = 1; i < threads; i++) idle.push(i);
    Atomics.store(ctl, HUNGRY, threads - 1);
    send(0, {
      type: 'task',
      task: { start: root, dirs: [], parentDev: 0, ancestors: [], depth: 0 },
    });
  });
}

function cancelledError(root: string): KeepsakeError {
  return new KeepsakeError('SCAN_CANCELLED', 'the scan was cancelled; nothing was added', {
    file: root,
  });
}
