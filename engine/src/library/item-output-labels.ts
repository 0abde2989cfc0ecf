// What a job made from a library item writes into its outputs' metadata: the title the
// family gave it, and its date (the family's date wins over the one read from the file).

import { sealJobLabels } from '../jobs/job-labels';
import type { LabelChapter, OutputLabels } from '../presets/output-labels';
import type { Vault } from '../vault/keyring';
import type { ItemInfo } from './item-info';
import type { ItemLabels } from './item-labels';
import type { LibraryItems } from './library-items';

/**
 * The labels of an item for its outputs, or undefined when nothing is known yet. A day the
 * family typed stays a day (`1989-12-24`), not a midnight: an output's `date` says no more
 * than they did. A date guessed from the file's time on disk (`mtime`: often the day it
 * was copied or digitised) is not written: other tools would take it for the camera's.
 */
export function itemOutputLabels(item: {
  info?: ItemInfo | undefined;
  labels?: ItemLabels | undefined;
}): OutputLabels | undefined {
  const title = item.labels?.title;
  const read = item.info?.capturedFrom === 'mtime' ? undefined : item.info?.capturedAt;
  const date = item.labels?.date ?? read;
  if (title === undefined && date === undefined) return undefined;
  return {
    ...(title !== undefined ? { title } : {}),
    ...(date !== undefined ? { date } : {}),
  };
}

/**
 * What a job made from library file `fileId` carries for its outputs (JobOptions.labels):
 * the item's labels as they are now, and a tape's clips as chapters, sealed with the
 * vault; undefined when there is none of these.
 */
export function jobLabelsFor(
  items: LibraryItems,
  vault: Vault,
  fileId: string,
  chapters: readonly LabelChapter[] = [],
): string | undefined {
  const [item] = items.facts(vault, { fileId });
  const labels = {
    ...(item && itemOutputLabels(item)),
    ...(chapters.length ? { chapters: [...chapters] } : {}),
  };
  return Object.keys(labels).length ? sealJobLabels(vault, fileId, labels) : undefined;
}
