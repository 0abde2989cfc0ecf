// What happens when a tape's analysis job succeeds (session.ts calls this): its result is
// kept with the library item (analysis-store.ts), so deleting the job loses nothing, and
// then the pictures of its proposed clips are made from the tape's vault copy.

import { isKeepsakeError } from '../core/errors';
import type { JobSnapshot } from '../jobs/queue';
import { isTapeAnalysis, readTapeAnalysis } from '../jobs/tape-job';
import type { InfoTools } from '../library/item-info';
import type { Library } from '../library/library';
import type { Vault } from '../vault/keyring';
import { VaultFile } from '../vault/vault-file';
import type { TapeAnalysisStore } from './analysis-store';
import { makeClipPictures, MAX_CLIPS_WITH_PICTURES, proposedClips } from './clip-pictures';

export interface KeeperDeps {
  store: TapeAnalysisStore;
  library: Library;
  tools: () => Promise<InfoTools>;
}

export type KeepOutcome =
  { kept: false } | { kept: true; fileId: string; pictures: number; failed?: string };

export async function keepTapeAnalysis(
  deps: KeeperDeps,
  vault: Vault,
  job: JobSnapshot,
): Promise<KeepOutcome> {
  const fileId = job.options.libraryFile;
  if (!isTapeAnalysis(job) || job.state !== 'succeeded' || !fileId) return { kept: false };
  const analysis = await readTapeAnalysis(job, vault);
  await deps.store.keep(vault, fileId, job.id, analysis);

  let file;
  try {
    file = deps.library.file(fileId);
  } catch (err) {
    if (isKeepsakeError(err, 'NOT_FOUND')) return { kept: false }; // left the library
    throw err;
  }
  if (!file.encryptedPath) return { kept: true, fileId, pictures: 0 };
  const clips = proposedClips(analysis).slice(0, MAX_CLIPS_WITH_PICTURES);
  let made: Buffer[][] | { detail?: string };
  try {
    const copy = await VaultFile.open(file.encryptedPath, { vault });
    try {
      made = await makeClipPictures(copy, await deps.tools(), analysis, clips);
    } finally {
      await copy.close();
    }
  } catch (err) {
    made = { detail: (err as Error).message };
  }
  // No pictures is not a lost analysis: the strip shows the clips without them, and is
  // not left waiting for pictures that will not come.
  const jpegs = Array.isArray(made) ? made : [];
  await deps.store.addPictures(vault, fileId, job.id, clips, jpegs);
  return {
    kept: true,
    fileId,
    pictures: jpegs.flat().length,
    ...(Array.isArray(made) ? {} : { failed: made.detail ?? 'no pictures' }),
  };
}
