// Whether a copy made from an item carries the item's title and date in its own metadata
// (the engine records it per output, read back from the file): a copy to watch on the TV
// (HLS) has no place for a title, and one made before the title was set lacks it. The
// family is told beside that copy, in a sentence, rather than finding out later.

import type { DesktopJob, LibraryItem } from './engine-client';

type Labelled = Pick<LibraryItem, 'title' | 'capturedAt' | 'capturedFrom'>;
type Made = Pick<DesktopJob, 'state' | 'outputs'>;

/** The note to show beside a finished copy, or undefined when it carries all there is. */
export function missingLabelsNote(item: Labelled, job: Made | undefined): string | undefined {
  if (job?.state !== 'succeeded') return undefined;
  // Jobs from before the engine recorded it: unknown, so nothing is claimed.
  if (!job.outputs.some((o) => o.labels !== undefined)) return undefined;
  const carried = new Set(job.outputs.flatMap((o) => o.labels ?? []));
  // A date read from the file's time on disk is never written (it is rarely the real one).
  const dated = item.capturedAt !== undefined && item.capturedFrom !== 'mtime';
  const title = item.title !== undefined && !carried.has('title');
  const date = dated && !carried.has('date');
  if (title && date) return "This copy doesn't carry the title and date.";
  if (title) return "This copy doesn't carry the title.";
  if (date) return "This copy doesn't carry the date.";
  return undefined;
}
