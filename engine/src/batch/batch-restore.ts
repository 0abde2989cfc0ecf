// batch-decrypt: restores a batch into a folder with the exact tree, names (as bytes),
// modes and modification times. Existing files are never overwritten.

import { chmod, mkdir, utimes } from 'node:fs/promises';
import { KeepsakeError, fromFsError, isKeepsakeError } from '../errors';
import { displayPath, isSafeName, joinPath } from '../fs/paths';
import { decryptFile } from '../vault/file-ops';
import type { Vault } from '../vault/keyring';
import { runConcurrently } from './concurrency';
import { loadManifest, objectPath, type ManifestEntry } from './manifest';
import { defaultJobs, type BatchFailure, type BatchHooks } from './batch-encrypt';

export interface BatchRestoreReport {
  restored: number;
  bytes: number;
  failures: BatchFailure[];
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
  options: BatchHooks & { jobs?: number } = {},
): Promise<BatchRestoreReport> {
  const manifest = await loadManifest(dest, vault);
  const report: BatchRestoreReport = { restored: 0, bytes: 0, failures: [] };
  const root = Buffer.from(restore);
  await mkdir(restore, { recursive: true }).catch((err: unknown) => {
    throw fromFsError(err, restore, 'write');
  });
  const dirs = manifest.dirs.map((d) => ({ ...d, rel: safeRel(d.path) }));
  for (const dir of dirs) {
    await mkdir(joinPath(root, dir.rel), { recursive: true }).catch((err: unknown) => {
      throw fromFsError(err, displayPath(joinPath(root, dir.rel)), 'write');
    });
  }
  options.onPlan?.({
    files: manifest.entries.length,
    bytes: manifest.entries.reduce((n, e) => n + e.size, 0),
  });

  await runConcurrently(
    manifest.entries,
    options.jobs ?? defaultJobs(),
    async (entry: ManifestEntry) => {
      const target = joinPath(root, safeRel(entry.path));
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
