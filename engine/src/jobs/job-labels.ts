// The title and date a job writes into its outputs (presets/output-labels.ts), taken from
// the library item when the job is made. The job's row is plain JSON in engine.db, and a
// title is as private as the picture, so they are kept there sealed with the vault
// (vault/sealed-value.ts), bound to the library file the job reads: only the engine that
// holds the vault opens them, when the job runs.

import type { OutputLabels } from '../presets/output-labels';
import type { Vault } from '../vault/keyring';
import { openValue, sealValue } from '../vault/sealed-value';
import type { JobOptions } from './queue';

const PURPOSE = 'keepsake job labels v1';

/** `labels` sealed for a job that reads library file `fileId` (JobOptions.labels). */
export function sealJobLabels(vault: Vault, fileId: string, labels: OutputLabels): string {
  return sealValue(vault, PURPOSE, fileId, labels).toString('base64');
}

/**
 * The labels a job carries, or undefined: none sealed, or they do not open with this vault
 * (a paired server's job keys, another vault), in which case the outputs go without them.
 */
export function openJobLabels(
  vault: Vault,
  options: Pick<JobOptions, 'labels' | 'libraryFile'>,
): OutputLabels | undefined {
  if (!options.labels || !options.libraryFile) return undefined;
  const labels = openValue<OutputLabels>(
    vault,
    PURPOSE,
    options.libraryFile,
    Buffer.from(options.labels, 'base64'),
  );
  if (!labels || typeof labels !== 'object') return undefined;
  const { title, date, chapters } = labels;
  const valid = Array.isArray(chapters)
    ? chapters.filter(
        (c) => Number.isFinite(c?.start) && Number.isFinite(c?.end) && typeof c?.title === 'string',
      )
    : [];
  return {
    ...(typeof title === 'string' && title ? { title } : {}),
    ...(typeof date === 'string' && date ? { date } : {}),
    ...(valid.length ? { chapters: valid } : {}),
  };
}
