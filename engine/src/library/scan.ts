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
// - memory stays bounded: files are handed out in batches of `batchSize` and the walk
//   waits while the caller works on them; no list of all entries is ever held;
// - progress (files, folders, bytes, skipped) is reported every `progressMs` and once at
//   the end, and an AbortSignal cancels it at once with SCAN_CANCELLED.
//
// The walk itself runs in a worker thread (scan-walker.ts says why).

import { Worker } from 'node:worker_threads';
import { KeepsakeError, fromFsError } from '../errors';
import { scanWalker, type SkipReason, type WalkerData, type WalkerMessage } from './scan-walker';

export type { SkipReason } from './scan-walker';

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
  /** Called with each batch of files, in walk order; the scan waits for it to settle. */
  onBatch: (files: ScannedFile[]) => void | Promise<void>;
  /** Files per batch (default 1000). */
  batchSize?: number;
  /** How often progress is reported, in ms (default 100). */
  progressMs?: number;
  /** Skipped entries named in the summary (default 50). */
  maxExamples?: number;
  /** Tests only: folders to treat as the system's (default /proc, /sys, /dev, /run). */
  systemFolders?: string[];
}

/** What each skip reason means, in words for the family. */
export const SKIP_REASONS: Record<SkipReason, string> = {
  link: 'a shortcut (symbolic link); Keepsake keeps the files themselves, not shortcuts',
  special: 'not a file (a device, pipe or socket)',
  system: "one of the computer's system folders, not family files",
  unreadable: 'a folder or file this computer does not let Keepsake read',
  name: 'a name written in an old text encoding that cannot be shown',
  loop: 'a folder that appears inside itself',
  'too-deep': 'nested more than 1,000 folders deep',
};

// One thread runs this source; see scan-walker.ts. tsx and vitest compile with esbuild's
// keepNames, which wraps functions in a `__name(fn, "name")` helper defined outside the
// function's text: the thread gets its own.
const WORKER_SOURCE = `const { parentPort, workerData } = require('node:worker_threads');
const __name = (fn) => fn;
(${scanWalker.toString()})(parentPort, workerData);`;

export function scanFolder(root: string, options: ScanOptions): Promise<ScanSummary> {
  const started = performance.now();
  const batchSize = Math.max(1, Math.floor(options.batchSize ?? 1000));
  const progressMs = options.progressMs ?? 100;
  const { signal, onBatch, onProgress } = options;
  if (signal?.aborted) return Promise.reject(cancelledError(root));

  const control = new SharedArrayBuffer(2 * Int32Array.BYTES_PER_ELEMENT);
  const counters = new SharedArrayBuffer(5 * Float64Array.BYTES_PER_ELEMENT);
  const ack = new Int32Array(control);
  const counts = new Float64Array(counters);
  const data: WalkerData = {
    root,
    batchSize,
    bufferSize: 256,
    control,
    counters,
    maxExamples: options.maxExamples ?? 50,
    systemFolders: options.systemFolders,
  };

  return new Promise<ScanSummary>((resolve, reject) => {
    const worker = new Worker(WORKER_SOURCE, { eval: true, workerData: data });
    let settled = false;
    // Batches are handled one at a time, in order, each awaited before the next.
    let queue: Promise<void> = Promise.resolve();
    let last: ScanProgress = { files: 0, dirs: 0, bytes: 0, skipped: 0 };

    const report = (progress: ScanProgress) => {
      // Never backwards, whatever order the thread's counters are read in.
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
    const timer = onProgress
      ? setInterval(
          () =>
            report({
              files: counts[0]!,
              dirs: counts[1]!,
              bytes: counts[2]!,
              skipped: counts[3]!,
            }),
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
        // The thread stops at its next entry and closes its folders; a thread stuck in a
        // call to a hung drive must not keep the engine from exiting.
        Atomics.store(ack, 1, 1);
        Atomics.notify(ack, 0);
        worker.unref();
        reject(err);
      } else {
        resolve(summary!);
      }
    };
    const onAbort = () => finish(cancelledError(root));
    signal?.addEventListener('abort', onAbort, { once: true });

    worker.on('message', (message: WalkerMessage) => {
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
            Atomics.add(ack, 0, 1);
            Atomics.notify(ack, 0);
          });
          break;
        }
        case 'done':
          queue = queue.then(() => {
            if (settled) return;
            report(message.counts);
            finish(undefined, {
              root: message.root,
              ...message.counts,
              skippedBy: message.skippedBy,
              examples: message.examples,
              elapsedMs: performance.now() - started,
            });
          });
          break;
        case 'cancelled':
          finish(cancelledError(root));
          break;
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
    });
    worker.on('error', (err) =>
      finish(
        new KeepsakeError('INTERNAL', `the folder scan failed: ${err.message}`, { cause: err }),
      ),
    );
    worker.on('exit', () => {
      // After 'done' the result waits for the last batches; any other exit is a failure.
      void queue.then(() =>
        finish(new KeepsakeError('INTERNAL', 'the folder scan stopped unexpectedly')),
      );
    });
  });
}

function cancelledError(root: string): KeepsakeError {
  return new KeepsakeError('SCAN_CANCELLED', 'the scan was cancelled; nothing was added', {
    file: root,
  });
}
