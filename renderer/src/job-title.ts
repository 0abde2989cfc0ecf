// A job in the family's words: what it makes and from what ("Copy to watch · Christmas
// 1989"), for the Jobs screen's rows, its search, and the notice when a long job ends.
// The preset id ("web-h264") stays for support, in small print, and still matches a search.
import type { DesktopJob } from './engine-client';
import { outputName } from './output-names';

type Named = Pick<DesktopJob, 'preset' | 'title' | 'fileName'>;

/** The item a job reads, as the family knows it: its title, else its file's name. */
export function jobItemName(job: Pick<DesktopJob, 'title' | 'fileName'>): string | undefined {
  if (job.title) return job.title;
  // fileName is the path in its folder ("1989/tape 3.mp4"): the name is its last part.
  return job.fileName?.split('/').pop() || undefined;
}

/** "Copy to watch · Christmas 1989", or only "Copy to watch" for a job with no item. */
export function jobTitle(job: Named): string {
  const item = jobItemName(job);
  return item ? `${outputName(job.preset)} · ${item}` : outputName(job.preset);
}

/**
 * Whether a job matches what was typed (already trimmed and lower-cased): what it makes,
 * the item's title, its file's name or path, the server it runs on, and for support its
 * preset id and job id.
 */
export function jobMatches(
  job: Named & Pick<DesktopJob, 'id' | 'remote'>,
  needle: string,
): boolean {
  if (!needle) return true;
  return [outputName(job.preset), job.title, job.fileName, job.remote, job.preset, job.id].some(
    (text) => text !== undefined && text.toLowerCase().includes(needle),
  );
}
