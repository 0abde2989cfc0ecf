// Where a job's files are, as the queue stores them: paths inside the data folder are kept
// relative to it, so a copied (or moved, or restored) data folder reads and writes its
// own files, never the folder it was copied from. Paths outside it (a plain input picked
// on the disk) stay absolute. Jobs come out of the queue with absolute paths again.
//
// Databases from before this kept every path absolute. Those rows are rewritten when the
// queue opens: the folder they were written in is the one their output folder sits in
// (`<data folder>/outputs`), whatever folder the database is in now.

import { basename, dirname, isAbsolute, join, relative, sep } from 'node:path';
import { stmt, type Db } from './db';
import type { JobOutput } from './queue';

/** The data folder's own name for job outputs (jobOutputRoot). */
const OUTPUTS = 'outputs';

export class JobPaths {
  constructor(
    /** The data folder; undefined (an in-memory database) keeps paths as given. */
    readonly root: string | undefined,
  ) {}

  /** A data folder's database file names the folder it is in. */
  static forDb(db: Db): JobPaths {
    return new JobPaths(db.memory || !db.name ? undefined : dirname(db.name));
  }

  toStored(path: string): string {
    return this.root === undefined ? path : (relativeInside(this.root, path) ?? path);
  }

  fromStored(path: string): string {
    return this.root === undefined || isAbsolute(path) ? path : join(this.root, path);
  }

  outputsToStored(outputs: readonly JobOutput[]): JobOutput[] {
    return outputs.map((o) => ({ ...o, path: this.toStored(o.path) }));
  }

  outputsFromStored(outputs: readonly JobOutput[]): JobOutput[] {
    return outputs.map((o) => ({ ...o, path: this.fromStored(o.path) }));
  }
}

/** `path` relative to `root` when it lies inside it; undefined otherwise. */
function relativeInside(root: string, path: string): string | undefined {
  if (!isAbsolute(path)) return undefined;
  const rel = relative(root, path);
  if (rel === '' || rel === '..' || rel.startsWith(`..${sep}`) || isAbsolute(rel)) {
    return undefined;
  }
  return rel;
}

interface OldRow {
  id: string;
  input_path: string;
  output_dir: string;
  outputs: string;
}

/**
 * Rewrites rows that still hold absolute paths into the folder they were written in.
 * One statement finds them (none, after the first open), one transaction fixes them.
 * Returns how many rows changed.
 */
export function migrateJobPaths(db: Db): number {
  const rows = stmt(
    db,
    `SELECT id, input_path, output_dir, outputs FROM jobs
      WHERE substr(output_dir, 1, 1) = '/' OR output_dir GLOB '[A-Za-z]:*'`,
  ).all() as OldRow[];
  if (rows.length === 0) return 0;
  let changed = 0;
  db.transaction(() => {
    for (const row of rows) {
      // The data folder this row was written in: its outputs folder's parent.
      if (basename(row.output_dir) !== OUTPUTS) continue;
      const old = new JobPaths(dirname(row.output_dir));
      const outputs = JSON.parse(row.outputs) as JobOutput[];
      stmt(db, 'UPDATE jobs SET input_path = ?, output_dir = ?, outputs = ? WHERE id = ?').run(
        old.toStored(row.input_path),
        old.toStored(row.output_dir),
        JSON.stringify(old.outputsToStored(outputs)),
        row.id,
      );
      changed += 1;
    }
  }).immediate();
  return changed;
}
