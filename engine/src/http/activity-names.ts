// The activity log as the desktop API shows it: each entry with what its target is called
// for people. The log itself keeps ids (a job's, a file's, a folder's), which say nothing
// to a family and which nobody should have to look up; the names are read from the library
// and the queue as the log is shown, so the log on disk holds no more than it did.

import { basename } from 'node:path';
import type { AuditEntry } from '../audit/audit';
import { isKeepsakeError } from '../core/errors';
import { folderName } from '../library/library';
import type { ActivityEntry } from '../net/desktop-contract';
import type { DesktopSession } from '../session/session';

/** Ids are made by core/ids.ts: one letter for the kind, then base32. */
const FOLDER_ID = /^f[a-z2-7]{12}$/;
const FILE_ID = /^m[a-z2-7]{12}$/;

/** Turns audit entries into activity entries, each named where its target still exists. */
export async function activityEntries(
  session: DesktopSession,
  entries: readonly AuditEntry[],
): Promise<ActivityEntry[]> {
  const names = new Map<string, string | undefined>();
  const out: ActivityEntry[] = [];
  for (const e of entries) {
    let name: string | undefined;
    if (e.target) {
      if (!names.has(e.target)) names.set(e.target, await nameOf(session, e.action, e.target));
      name = names.get(e.target);
    }
    out.push({
      seq: e.seq,
      at: e.at,
      action: e.action,
      target: e.target,
      name,
      outcome: e.outcome,
      detail: e.detail,
    });
  }
  return out;
}

/** A target's name for people, or undefined when it is gone (or the vault is locked). */
async function nameOf(
  session: DesktopSession,
  action: string,
  target: string,
): Promise<string | undefined> {
  try {
    if (action.startsWith('job.')) {
      // Jobs live in the queue, which is open only while the vault is.
      if (!session.currentVault()) return undefined;
      const job = await session.requireEngine().queue.get(target);
      if (job.options.sourceName) return job.options.sourceName;
      const fileId = job.options.libraryFile;
      return fileId ? basename(session.library.file(fileId).rel) : undefined;
    }
    if (FOLDER_ID.test(target)) return folderName(session.library.folder(target));
    if (FILE_ID.test(target)) return basename(session.library.file(target).rel);
    // A paired server is logged by its name already.
    if (action.startsWith('server.')) return target;
    return undefined;
  } catch (err) {
    // Removed since (a deleted job, a folder taken out of the library), or the vault
    // still opening: the entry is shown without a name.
    if (isKeepsakeError(err)) return undefined;
    throw err;
  }
}
