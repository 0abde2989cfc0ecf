// A tape's analysis kept with the library item (migration 17), not only as the output of
// the job that made it: the Jobs screen can delete that job and the family keeps what it
// found. Only the newest is kept; a newer analysis replaces it.
//
// The analysis (where the family's events begin) is sealed with the vault and bound to the
// file (vault/sealed-value.ts). The pictures of its proposed clips are one vault file
// (every JPEG end to end, in `<data>/previews/` under a random name like the library's
// pictures, swept with them when no row names it); where each picture lies in it is part
// of the sealed value. Nothing of either is in the clear on disk.

import { mkdir, rm } from 'node:fs/promises';
import { dirname } from 'node:path';
import { Readable } from 'node:stream';
import { newHexId128 } from '../core/ids';
import type { TapeAnalysis } from '../ffmpeg/tape-analysis';
import { stmt, type Db } from '../jobs/db';
import { previewPath } from '../library/preview-store';
import type { Vault } from '../vault/keyring';
import { openValue, sealValue } from '../vault/sealed-value';
import { VaultFile, writeVaultFile } from '../vault/vault-file';
import type { ProposedClip } from './clip-pictures';

const PURPOSE = 'keepsake tape analysis v1';

/** A proposed clip with its pictures: byte ranges [offset, length] in the pictures file. */
export interface PicturedClip extends ProposedClip {
  frames: [number, number][];
}

interface Sealed {
  analysis: TapeAnalysis;
  /** Once the pictures are made. */
  clips?: PicturedClip[];
}

export interface KeptAnalysis {
  jobId: string;
  keptAt: number;
  analysis: TapeAnalysis;
  /** The pictures file's name, once made. */
  pictures?: string;
  clips?: PicturedClip[];
}

interface Row {
  job_id: string;
  sealed: Buffer;
  pictures: string | null;
  vault_file_id: string | null;
  kept_at: number;
}

export class TapeAnalysisStore {
  constructor(
    private readonly db: Db,
    private readonly dataDir: string,
  ) {}

  /** Keeps `analysis` (from job `jobId`) as the file's, replacing any before and its pictures. */
  async keep(vault: Vault, fileId: string, jobId: string, analysis: TapeAnalysis): Promise<void> {
    const sealed = sealValue(vault, PURPOSE, fileId, { analysis } satisfies Sealed);
    const old = this.db
      .transaction(() => {
        const before = this.row(fileId)?.pictures ?? null;
        // The item may have left the library meanwhile: nothing to keep.
        if (!stmt(this.db, 'SELECT 1 FROM library_files WHERE id = ?').get(fileId)) return before;
        stmt(
          this.db,
          `INSERT OR REPLACE INTO tape_analyses (file_id, job_id, sealed, pictures, vault_file_id, kept_at)
           VALUES (?, ?, ?, NULL, NULL, ?)`,
        ).run(fileId, jobId, sealed, Date.now());
        return before;
      })
      .immediate();
    if (old) await rm(previewPath(this.dataDir, old), { force: true });
  }

  /**
   * Seals the clips' pictures into one vault file and records them with the analysis of job
   * `jobId`; false (and nothing kept) when a newer analysis replaced it meanwhile.
   */
  async addPictures(
    vault: Vault,
    fileId: string,
    jobId: string,
    clips: readonly ProposedClip[],
    jpegs: readonly Buffer[][],
  ): Promise<boolean> {
    const kept = this.get(vault, fileId);
    if (!kept || kept.jobId !== jobId) return false;
    let offset = 0;
    const pictured: PicturedClip[] = clips.map((clip, i) => ({
      ...clip,
      frames: (jpegs[i] ?? []).map((jpeg): [number, number] => {
        const at: [number, number] = [offset, jpeg.length];
        offset += jpeg.length;
        return at;
      }),
    }));
    const body = Buffer.concat(jpegs.flat());
    const name = newHexId128();
    const path = previewPath(this.dataDir, name);
    await mkdir(dirname(path), { recursive: true, mode: 0o700 });
    const { fileId: vaultFileId } = await writeVaultFile(Readable.from([body]), path, vault, {
      name: 'clips.jpg',
      size: body.length,
      mtimeMs: Date.now(),
      mediaType: 'application/octet-stream',
    });
    const sealed = sealValue(vault, PURPOSE, fileId, {
      analysis: kept.analysis,
      clips: pictured,
    } satisfies Sealed);
    const stored = stmt(
      this.db,
      `UPDATE tape_analyses SET sealed = ?, pictures = ?, vault_file_id = ?
       WHERE file_id = ? AND job_id = ? AND pictures IS NULL`,
    ).run(sealed, name, vaultFileId, fileId, jobId);
    if (stored.changes === 0) await rm(path, { force: true });
    return stored.changes > 0;
  }

  /** The file's kept analysis; undefined when there is none (or it does not open). */
  get(vault: Vault, fileId: string): KeptAnalysis | undefined {
    const row = this.row(fileId);
    if (!row) return undefined;
    const value = openValue<Sealed>(vault, PURPOSE, fileId, row.sealed);
    if (!value) return undefined;
    return {
      jobId: row.job_id,
      keptAt: row.kept_at,
      analysis: value.analysis,
      ...(row.pictures !== null && value.clips
        ? { pictures: row.pictures, clips: value.clips }
        : {}),
    };
  }

  /** Picture `index` (counting every clip's in order) of the pictures file `name`, decrypted. */
  async picture(
    vault: Vault,
    fileId: string,
    name: string,
    index: number,
  ): Promise<Buffer | undefined> {
    const row = this.row(fileId);
    if (!row || row.pictures !== name || row.vault_file_id === null) return undefined;
    const kept = this.get(vault, fileId);
    const range = kept?.clips?.flatMap((c) => c.frames)[index];
    if (!range) return undefined;
    const file = await VaultFile.open(previewPath(this.dataDir, name), { vault });
    try {
      // A file put in this one's place is not read as it.
      if (file.fileId !== row.vault_file_id) return undefined;
      return await file.read(range[0], range[0] + range[1]);
    } finally {
      await file.close();
    }
  }

  private row(fileId: string): Row | undefined {
    return stmt(
      this.db,
      'SELECT job_id, sealed, pictures, vault_file_id, kept_at FROM tape_analyses WHERE file_id = ?',
    ).get(fileId) as Row | undefined;
  }
}
