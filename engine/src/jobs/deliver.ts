// Automated mode's last step: a finished job's encrypted outputs, decrypted into a folder
// the user chose (the CLI's `--out`, the desktop's output folder). Output names come from
// the job record; any that would leave the folder are refused. A copy of a dated item
// gets the item's date as its file time, so a photo app or a file browser sorts it with
// the day it shows, not the day it was made.

import { mkdir, utimes } from 'node:fs/promises';
import { basename, dirname, extname, join } from 'node:path';
import { KeepsakeError, isKeepsakeError } from '../core/errors';
import { isSafeName } from '../fs/paths';
import { decryptFile } from '../vault/file-ops';
import type { Vault } from '../vault/keyring';
import { openJobLabels } from './job-labels';
import type { JobSnapshot } from './queue';

export async function deliverOutputs(
  job: JobSnapshot,
  vault: Vault,
  dir: string,
  overwrite: boolean,
  onBytes?: (n: number) => void,
): Promise<string[]> {
  const written: string[] = [];
  for (const out of job.outputs) {
    if (!out.name.split('/').every((part) => isSafeName(part))) {
      throw new KeepsakeError('HEADER_CORRUPT', `output name "${out.name}" is not safe`);
    }
    const dest = join(dir, out.name);
    // Folders made for plaintext results are private (0700), like the files (0600).
    await mkdir(dirname(dest), { recursive: true, mode: 0o700 });
    await decryptFile(out.path, dest, { vault }, { overwrite, onBytes });
    await dateFile(dest, job, vault);
    written.push(dest);
  }
  return written;
}

/**
 * The job's date (the item's, sealed with the job: job-labels.ts) as a file time, or
 * undefined when it has none. A time without an offset is local; a day alone is its noon,
 * so no time zone moves it to another day; a month or a year alone is its first day.
 */
export function labelDateMs(date: string | undefined): number | undefined {
  const m =
    date &&
    /^(\d{4})(?:-(\d{2})(?:-(\d{2})(?:T(\d{2}):(\d{2})(?::(\d{2}))?(?:\.\d+)?(Z|[+-]\d{2}:?\d{2})?)?)?)?$/.exec(
      date,
    );
  if (!m) return undefined;
  const [, y, mo = '01', d = '01', h, mi = '0', s = '0', zone] = m;
  const ms =
    zone !== undefined
      ? Date.parse(date)
      : new Date(+y!, +mo - 1, +d, h === undefined ? 12 : +h, +mi, +s).getTime();
  return Number.isFinite(ms) ? ms : undefined;
}

async function dateFile(path: string, job: JobSnapshot, vault: Vault): Promise<void> {
  const ms = labelDateMs(openJobLabels(vault, job.options)?.date);
  if (ms !== undefined) await utimes(path, new Date(), new Date(ms));
}

/** Attempts at a free name before giving up (`beach (web-h264) 2.mp4` … ` 100`). */
const MAX_SUFFIX = 100;

/**
 * The desktop's delivery: outputs named after the source and the preset, so results of
 * many jobs can share one folder. One output becomes `<name>.<ext>`, several (an HLS
 * ladder) a folder `<name>/` holding them; an existing file or folder is never replaced,
 * the next free ` 2`, ` 3`… is taken instead. Returns the file or folder written.
 */
export async function deliverNamed(
  job: JobSnapshot,
  vault: Vault,
  dir: string,
  name: string,
  onBytes?: (n: number) => void,
): Promise<string> {
  if (!isSafeName(name)) throw new KeepsakeError('USAGE', `"${name}" is not a safe file name`);
  const single = job.outputs.length === 1 ? job.outputs[0] : undefined;
  await mkdir(dir, { recursive: true, mode: 0o700 });
  for (let n = 1; n <= MAX_SUFFIX; n++) {
    const stem = n === 1 ? name : `${name} ${n}`;
    try {
      if (single) {
        const dest = join(dir, `${stem}${extname(single.name)}`);
        await decryptFile(single.path, dest, { vault }, { overwrite: false, onBytes });
        await dateFile(dest, job, vault);
        return dest;
      }
      const folder = join(dir, stem);
      // mkdir without `recursive` fails on an existing folder: that is the claim on it.
      await mkdir(folder, { mode: 0o700 }).catch((err: NodeJS.ErrnoException) => {
        throw err.code === 'EEXIST' ? new KeepsakeError('OUTPUT_EXISTS', 'already exists') : err;
      });
      await deliverOutputs(job, vault, folder, false, onBytes);
      return folder;
    } catch (err) {
      if (!isKeepsakeError(err) || err.code !== 'OUTPUT_EXISTS') throw err;
    }
  }
  throw new KeepsakeError(
    'OUTPUT_EXISTS',
    `${name} and ${MAX_SUFFIX - 1} numbered copies exist in ${dir}`,
  );
}

/** `beach (web-h264)`: the source's name without its extension, and what was made of it. */
export function deliveryName(job: JobSnapshot): string {
  const source = job.options.sourceName ?? basename(job.input.path);
  const stem = source.slice(0, source.length - extname(source).length) || source;
  return `${stem} (${job.preset})`;
}
