// batch-decrypt: restores a batch into a folder with the exact tree, names (as bytes),
// modes and modification times. Existing files are never overwritten, and nothing is
// written through a link found inside the restore folder (a folder symlink planted there
// would send plaintext elsewhere). A run killed midway leaves finished files under their
// names and partial ones as hidden temp files: the next run removes those, and with
// --resume keeps the finished files and restores the rest.

import { chmod, lstat, mkdir, utimes } from 'node:fs/promises';
import { KeepsakeError, fromFsError, isKeepsakeError } from '../core/errors';
import { displayPath, isSafeName, joinPath, type FsPath } from '../fs/paths';
import { addCleaned, removeStaleTemps, type CleanedTemps } from '../fs/stale-temps';
import { decryptFile } from '../vault/file-ops';
import type { Vault } from '../vault/keyring';
import { runConcurrently } from '../core/concurrency';
import { loadManifest, objectPath, type ManifestEntry } from './manifest';
import { defaultJobs, type BatchFailure, type BatchHooks } from './batch-encrypt';

export interface BatchRestoreReport {
  restored: number;
  /** Files a resumed run found already restored (same size and time as the backup's). */
  alreadyDone: number;
  bytes: number;
  failures: BatchFailure[];
  /** Partial files of an earlier, killed run that were removed. */
  cleaned: CleanedTemps;
}

/**
 * Makes `rel` under `root` a real folder, one component at a time: a component that is
 * a link (or not a folder) is refused, so no write ever goes through it.
 */
async function realFolder(root: Buffer, rel: Buffer, made: Set<string>): Promise<void> {
  const parts = rel.length ? rel.toString('latin1').split('/') : [];
  let sofar = '';
  for (const part of parts) {
    sofar = sofar ? `${sofar}/${part}` : part;
    if (made.has(sofar)) continue;
    const full = joinPath(root, Buffer.from(sofar, 'latin1'));
    const info = await lstat(full).catch((err: NodeJS.ErrnoException) => {
      if (err.code === 'ENOENT') return undefined;
      throw fromFsError(err, displayPath(full), 'write');
    });
    if (!info) {
      // Private until the end, when it gets the mode the backup recorded.
      await mkdir(full, { mode: 0o700 }).catch((err: unknown) => {
        throw fromFsError(err, displayPath(full), 'write');
      });
    } else if (!info.isDirectory()) {
      throw new KeepsakeError(
        'OUTPUT_EXISTS',
        info.isSymbolicLink()
          ? 'is a link in the restore folder; batch-decrypt never writes through links (remove it, or restore into an empty folder)'
          : 'is in the way of a folder of the backup (it is not a folder)',
        { file: displayPath(full) },
      );
    }
    made.add(sofar);
  }
}

/** Whether `target` already holds this entry, restored by an earlier run. */
async function alreadyRestored(target: FsPath, entry: ManifestEntry): Promise<boolean> {
  const info = await lstat(target).catch(() => undefined);
  return (
    !!info &&
    info.isFile() &&
    info.size === entry.size &&
    Math.abs(info.mtimeMs - entry.mtimeMs) < 1
  );
}

/** Relative path bytes from the manifest, refused if they could escape the target. */
export function safeRel(pathB64: string): Buffer {
  const rel = Buffer.from(pathB64, 'base64');
  if (
    !rel
      .toString('latin1')
      .split('/')
      .every((part) => isSafeName(part))
  ) {
    throw new KeepsakeError(
      'HEADER_CORRUPT',
      `the manifest holds an unsafe path (${rel.toString('utf8')})`,
    );
  }
  return rel;
}

export async function batchRestore(
  dest: string,
  restore: string,
  vault: Vault,
  options: BatchHooks & { jobs?: number; resume?: boolean } = {},
): Promise<BatchRestoreReport> {
  const manifest = await loadManifest(dest, vault);
  const report: BatchRestoreReport = {
    restored: 0,
    alreadyDone: 0,
    bytes: 0,
    failures: [],
    cleaned: { files: 0, bytes: 0 },
  };
  const root = Buffer.from(restore);
  // The restore folder itself is the user's choice (it may be a link they made).
  await mkdir(restore, { recursive: true, mode: 0o700 }).catch((err: unknown) => {
    throw fromFsError(err, restore, 'write');
  });
  const dirs = manifest.dirs.map((d) => ({ ...d, rel: safeRel(d.path) }));
  const made = new Set<string>();
  for (const dir of dirs) await realFolder(root, dir.rel, made);
  const entries = manifest.entries.map((entry) => ({ entry, rel: safeRel(entry.path) }));
  for (const { rel } of entries) {
    const cut = rel.lastIndexOf('/');
    await realFolder(root, cut < 0 ? Buffer.alloc(0) : rel.subarray(0, cut), made);
  }
  // Partial plaintext of a killed run, in every folder this restore writes to.
  report.cleaned = await removeStaleTemps(root);
  for (const rel of made) {
    const cleaned = await removeStaleTemps(joinPath(root, Buffer.from(rel, 'latin1')));
    report.cleaned = addCleaned(report.cleaned, cleaned);
  }

  const todo: typeof entries = [];
  for (const item of entries) {
    if (options.resume && (await alreadyRestored(joinPath(root, item.rel), item.entry))) {
      report.alreadyDone++;
    } else {
      todo.push(item);
    }
  }
  options.onPlan?.({
    files: todo.length,
    bytes: todo.reduce((n, t) => n + t.entry.size, 0),
  });

  await runConcurrently(
    todo,
    options.jobs ?? defaultJobs(),
    async ({ entry, rel }: { entry: ManifestEntry; rel: Buffer }) => {
      const target = joinPath(root, rel);
      try {
        await decryptFile(
          objectPath(dest, entry.object),
          target,
          { vault },
          {
            expectFileId: entry.fileId,
            onBytes: options.onBytes,
            durable: options.fsync,
            mode: entry.mode & 0o777,
          },
        );
        report.restored++;
        report.bytes += entry.size;
      } catch (err) {
        if (isKeepsakeError(err, 'DISK_FULL')) throw err;
        const e = isKeepsakeError(err) ? err : fromFsError(err, displayPath(target), 'write');
        const name = Buffer.from(entry.path, 'base64').toString('utf8');
        report.failures.push({ file: name, code: e.code, message: e.message });
      }
      options.onFileDone?.();
    },
  );

  // Folder times last, deepest first: writing a file inside a folder changes its mtime.
  dirs.sort((a, b) => b.rel.length - a.rel.length);
  for (const dir of dirs) {
    const full = joinPath(root, dir.rel);
    await chmod(full, dir.mode & 0o777).catch(() => undefined);
    await utimes(full, Date.now() / 1000, dir.mtimeMs / 1000).catch(() => undefined);
  }
  return report;
}
