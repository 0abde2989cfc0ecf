// What a scan left out of the library, and why, in words a family reads. A family deletes
// originals it believes are protected: a photo left out without a word (a name from an
// old camera card that is not valid UTF-8, a hidden folder) must be said out loud.

import type { ScanSummary, SkipReason } from './scan';

export interface LeftOut {
  /** Entries left out, hidden ones included. */
  total: number;
  /** Hidden (dot) files and folders: left out by design. */
  hidden: number;
  byReason: Partial<Record<SkipReason, number>>;
  /** The first few, with why. */
  examples: { rel: string; reason: SkipReason; detail?: string }[];
}

/** One for one entry, the other for several; each says why it is not in the library. */
const WORDS: Record<SkipReason, [string, string]> = {
  name: ['file with a name Keepsake cannot read', 'files with names Keepsake cannot read'],
  link: ['link (links are not followed)', 'links (links are not followed)'],
  special: ['special file (not a photo or video)', 'special files (not photos or videos)'],
  system: ['system folder (such as /proc)', 'system folders (such as /proc)'],
  excluded: ["folder of Keepsake's own", "folders of Keepsake's own"],
  unreadable: ['file or folder that could not be read', 'files or folders that could not be read'],
  loop: ['folder inside itself', 'folders inside themselves'],
  'too-deep': ['folder nested too deep', 'folders nested too deep'],
};

export function leftOutOf(summary: ScanSummary | void): LeftOut {
  if (!summary) return { total: 0, hidden: 0, byReason: {}, examples: [] };
  return {
    total: summary.skipped + summary.hidden,
    hidden: summary.hidden,
    byReason: summary.skippedBy,
    examples: summary.examples.slice(0, 5),
  };
}

/**
 * "Left out 5: 3 files with names Keepsake cannot read, 2 hidden files or folders (names
 * starting with a dot).", or
 * undefined when nothing was.
 */
export function leftOutWords(left: LeftOut | undefined): string | undefined {
  if (!left || left.total === 0) return undefined;
  const parts = (Object.entries(left.byReason) as [SkipReason, number][])
    .filter(([, n]) => n > 0)
    .map(([reason, n]) => `${n} ${WORDS[reason][n === 1 ? 0 : 1]}`);
  if (left.hidden) {
    parts.push(
      `${left.hidden} hidden ${left.hidden === 1 ? 'file or folder' : 'files or folders'} (names starting with a dot)`,
    );
  }
  return `Left out ${left.total}: ${parts.join(', ')}.`;
}
