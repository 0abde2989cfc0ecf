// verify: proves every chunk of every object against the manifest. Reports, by original
// name, files whose object is missing or altered, and object files the manifest does
// not know (extra).

import { relative } from 'node:path';
import { isKeepsakeError } from '../core/errors';
import { verifyFile } from '../vault/file-ops';
import type { Vault } from '../vault/keyring';
import { runConcurrently } from '../core/concurrency';
import { defaultJobs, type BatchHooks } from './batch-encrypt';
import { listObjectFiles, loadManifest, objectPath } from './manifest';

export interface VerifyProblem {
  kind: 'missing' | 'altered' | 'extra';
  file: string;
  detail: string;
}

export interface BatchVerifyReport {
  checked: number;
  bytes: number;
  complete: boolean;
  problems: VerifyProblem[];
}

export async function batchVerify(
  dest: string,
  vault: Vault,
  options: BatchHooks & { jobs?: number } = {},
): Promise<BatchVerifyReport> {
  const manifest = await loadManifest(dest, vault);
  const report: BatchVerifyReport = {
    checked: 0,
    bytes: 0,
    complete: manifest.complete,
    problems: [],
  };
  const known = new Set(manifest.entries.map((e) => objectPath(dest, e.object)));
  options.onPlan?.({
    files: manifest.entries.length,
    bytes: manifest.entries.reduce((n, e) => n + e.size, 0),
  });

  await runConcurrently(manifest.entries, options.jobs ?? defaultJobs(), async (entry) => {
    const name = Buffer.from(entry.path, 'base64').toString('utf8');
    try {
      const meta = await verifyFile(
        objectPath(dest, entry.object),
        { vault },
        { expectFileId: entry.fileId, onBytes: options.onBytes },
      );
      if (meta.size !== entry.size) {
        report.problems.push({
          kind: 'altered',
          file: name,
          detail: `size ${meta.size}, manifest says ${entry.size}`,
        });
      } else {
        report.checked++;
        report.bytes += entry.size;
      }
    } catch (err) {
      const missing = isKeepsakeError(err, 'NOT_FOUND');
      report.problems.push({
        kind: missing ? 'missing' : 'altered',
        file: name,
        detail: missing
          ? 'its object file is gone'
          : err instanceof Error
            ? err.message
            : String(err),
      });
    }
    options.onFileDone?.();
  });

  for (const path of await listObjectFiles(dest)) {
    if (!known.has(path)) {
      report.problems.push({
        kind: 'extra',
        file: relative(dest, path),
        detail: 'not listed in the manifest',
      });
    }
  }
  return report;
}
