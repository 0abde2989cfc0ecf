// The cut lists of a tape, every saved version kept: a family that merges two clips by
// mistake, or imports the wrong spreadsheet, goes back one version instead of redoing an
// afternoon's work. A cut list holds titles and dates, as private as the tape, so each
// version is sealed with the vault (vault/sealed-value.ts) and bound to its tape and its
// version number; only the version number and when it was saved are in the clear.

import { KeepsakeError } from '../core/errors';
import { stmt, type Db } from '../jobs/db';
import type { Vault } from '../vault/keyring';
import { openValue, sealValue } from '../vault/sealed-value';
import { checkCutList, type CutList } from './cut-list';

const PURPOSE = 'keepsake tape cut list v1';

export interface SavedCutList {
  version: number;
  savedAt: number;
  list: CutList;
}

export interface CutListVersion {
  version: number;
  savedAt: number;
}

const binding = (fileId: string, version: number) => `${fileId}#${version}`;

export class CutListStore {
  constructor(private readonly db: Db) {}

  /**
   * Saves `list` as the tape's next version. `basedOn` is the version the editor started
   * from (0 for none): when someone saved in between (another window), nothing is
   * overwritten and CUT_LIST_CHANGED says so.
   */
  save(vault: Vault, fileId: string, list: CutList, basedOn: number): SavedCutList {
    const checked = checkCutList(list);
    return this.db.transaction((): SavedCutList => {
      const exists = stmt(this.db, 'SELECT 1 FROM library_files WHERE id = ?').pluck().get(fileId);
      if (exists === undefined) throw new KeepsakeError('NOT_FOUND', `no library file "${fileId}"`);
      const latest = this.latestVersion(fileId);
      if (basedOn !== latest) {
        throw new KeepsakeError(
          'CUT_LIST_CHANGED',
          `this tape's clips were changed elsewhere (now version ${latest}, you edited version ${basedOn}); open them again`,
        );
      }
      const version = latest + 1;
      const savedAt = Date.now();
      stmt(
        this.db,
        'INSERT INTO tape_cut_lists (file_id, version, sealed, saved_at) VALUES (?, ?, ?, ?)',
      ).run(fileId, version, sealValue(vault, PURPOSE, binding(fileId, version), checked), savedAt);
      return { version, savedAt, list: checked };
    })();
  }

  /** The newest version, or `version` itself; undefined when there is none (or it does not open). */
  get(vault: Vault, fileId: string, version?: number): SavedCutList | undefined {
    const row = (
      version === undefined
        ? stmt(
            this.db,
            'SELECT version, sealed, saved_at AS savedAt FROM tape_cut_lists WHERE file_id = ? ORDER BY version DESC LIMIT 1',
          ).get(fileId)
        : stmt(
            this.db,
            'SELECT version, sealed, saved_at AS savedAt FROM tape_cut_lists WHERE file_id = ? AND version = ?',
          ).get(fileId, version)
    ) as { version: number; sealed: Buffer; savedAt: number } | undefined;
    if (!row) return undefined;
    const list = openValue<CutList>(vault, PURPOSE, binding(fileId, row.version), row.sealed);
    return list ? { version: row.version, savedAt: row.savedAt, list } : undefined;
  }

  /** Every saved version, newest first. */
  versions(fileId: string): CutListVersion[] {
    return stmt(
      this.db,
      'SELECT version, saved_at AS savedAt FROM tape_cut_lists WHERE file_id = ? ORDER BY version DESC',
    ).all(fileId) as CutListVersion[];
  }

  private latestVersion(fileId: string): number {
    return (
      (stmt(this.db, 'SELECT MAX(version) FROM tape_cut_lists WHERE file_id = ?')
        .pluck()
        .get(fileId) as number | null) ?? 0
    );
  }
}
