// Clips of a tape as library items of their own. Exporting the tape's latest cut list
// starts one `clip` job (presets/clip.ts) per clip that has no item yet; when a job
// succeeds its encrypted output joins the library beside the uploads (it has no source on
// disk either), with the clip's title and date, and the library makes its poster and
// preview as for any video. The tape itself is only read.
//
// Exporting again after an edit redoes only what changed: a clip whose start and end are
// those of an item made before keeps that item (its title and date are brought up to
// date), one whose job is still running is left to it, and only new or moved clips get a
// job. Items of clips that are no longer in the list stay: the library is an archive, and
// the family deletes them itself if it wants to.
//
// When the tape has an exact master (a succeeded `exact-master` job on it whose output is
// still there), the clips are cut from the master instead of the tape: its frames are the
// tape's, decoded exactly, and stored whole, so the clip preset copies its packets rather
// than encoding every picture again, which costs little more than reading them.

import { access, link, copyFile, mkdir, rm } from 'node:fs/promises';
import { basename, dirname, extname } from 'node:path';
import { KeepsakeError } from '../core/errors';
import { stmt, type Db } from '../jobs/db';
import { openJobLabels, sealJobLabels } from '../jobs/job-labels';
import type { FileJob, JobQueue, JobSnapshot } from '../jobs/queue';
import { submitJob } from '../jobs/worker';
import type { ItemLabelStore } from '../library/item-labels';
import type { Library } from '../library/library';
import type { Vault } from '../vault/keyring';
import { VaultFile } from '../vault/vault-file';
import type { Clip } from './cut-list';
import type { CutListStore } from './cut-list-store';

export interface ClipExportDeps {
  db: Db;
  library: Library;
  labels: ItemLabelStore;
  cutLists: CutListStore;
  queue: JobQueue;
  /** Where the jobs write their encrypted outputs (the job engine's output root). */
  outputRoot: string;
}

export interface ClipExportSummary {
  /** The cut list version exported. */
  version: number;
  /** Where the clips appear in the library ("Clips of Tape 3"). */
  folder: string;
  /** Clips that got a job now. */
  started: number;
  /** Clips whose item already exists (their title and date brought up to date). */
  kept: number;
  /** Clips whose job from an earlier export is still queued or running. */
  running: number;
  /** Items made from clips that this version no longer lists (kept, not deleted). */
  unlisted: number;
  jobIds: string[];
}

interface ClipRow {
  itemId: string;
  start: number;
  end: number;
}

const PRESET = 'clip';
/** The preset whose output is the tape's exact master, and that output's name. */
const MASTER = { preset: 'exact-master', output: 'master.mkv' } as const;
const exists = (path: string) =>
  access(path).then(
    () => true,
    () => false,
  );
/** Times within a millisecond are the same frame boundary (frames are 17 ms or more). */
const same = (a: { start: number; end: number }, b: { start: number; end: number }) =>
  Math.abs(a.start - b.start) < 0.001 && Math.abs(a.end - b.end) < 0.001;

function clipRows(db: Db, tapeId: string): ClipRow[] {
  return stmt(
    db,
    'SELECT item_id AS itemId, start_s AS start, end_s AS end FROM tape_clips WHERE tape_id = ?',
  ).all(tapeId) as ClipRow[];
}

function labelsOf(clip: Clip): { title?: string; date?: string } {
  return {
    ...(clip.title ? { title: clip.title } : {}),
    ...(clip.date ? { date: clip.date } : {}),
  };
}

/** Brings an item's title and date to the clip's, when they differ. */
function relabel(deps: ClipExportDeps, vault: Vault, itemId: string, clip: Clip): void {
  const now = deps.labels.get([itemId], vault).get(itemId) ?? {};
  if ((now.title ?? '') === (clip.title ?? '') && (now.date ?? '') === (clip.date ?? '')) return;
  deps.labels.set(vault, itemId, { title: clip.title ?? null, date: clip.date ?? null });
}

/** Starts the jobs the tape's latest cut list still needs (see the top of this file). */
export async function exportClips(
  deps: ClipExportDeps,
  vault: Vault,
  tapeId: string,
): Promise<ClipExportSummary> {
  const tape = deps.library.file(tapeId);
  if (tape.kind !== 'video') {
    throw new KeepsakeError('PRESET_KIND_MISMATCH', `${basename(tape.rel)} is not a video`);
  }
  if (!tape.encryptedPath) {
    throw new KeepsakeError(
      'NOT_ENCRYPTED',
      `${tape.rel} is not encrypted yet: encrypt its folder first`,
    );
  }
  const saved = deps.cutLists.get(vault, tapeId);
  if (!saved) {
    throw new KeepsakeError('NOT_FOUND', `${basename(tape.rel)} has no clips marked yet`);
  }
  const made = clipRows(deps.db, tapeId);
  const pending: { start: number; end: number }[] = [];
  const jobs = (await deps.queue.jobsForFiles([tapeId])).get(tapeId) ?? [];
  const source = (await exactMaster(deps, jobs)) ?? tape.encryptedPath;
  for (const j of jobs) {
    if (j.preset !== PRESET || (j.state !== 'queued' && j.state !== 'running')) continue;
    const { params } = await deps.queue.get(j.id);
    pending.push({ start: Number(params.start), end: Number(params.end) });
  }

  const summary: ClipExportSummary = {
    version: saved.version,
    folder: clipFolder(basename(tape.rel)),
    started: 0,
    kept: 0,
    running: 0,
    unlisted: made.filter((row) => !saved.list.clips.some((c) => same(c, row))).length,
    jobIds: [],
  };
  for (const clip of saved.list.clips) {
    const item = made.find((row) => same(row, clip));
    if (item) {
      relabel(deps, vault, item.itemId, clip);
      summary.kept++;
    } else if (pending.some((p) => same(p, clip))) {
      summary.running++;
    } else {
      const job = await submitJob(deps.queue, {
        preset: PRESET,
        params: { start: clip.start, end: clip.end },
        input: { kind: 'vault', path: source },
        outputDir: deps.outputRoot,
        options: {
          mode: 'manual',
          libraryFile: tapeId,
          sourceName: basename(tape.rel),
          labels: sealJobLabels(vault, tapeId, labelsOf(clip)),
        },
      });
      summary.jobIds.push(job.id);
      summary.started++;
    }
  }
  return summary;
}

/**
 * The vault file of the tape's newest exact master, if one is still there: an output of a
 * succeeded `exact-master` job that read this tape (`jobs` is newest first) and kept its
 * tags, so a clip cut from it carries the tape's own dates as one cut from the tape would.
 */
async function exactMaster(
  deps: ClipExportDeps,
  jobs: readonly FileJob[],
): Promise<string | undefined> {
  for (const j of jobs) {
    if (j.preset !== MASTER.preset || j.state !== 'succeeded') continue;
    const job = await deps.queue.get(j.id);
    if (String(job.params.keepMetadata) === 'false') continue;
    const output = job.outputs.find((o) => o.name === MASTER.output);
    // Removing a job removes its outputs; a master deleted by hand is passed over too.
    if (output && (await exists(output.path))) return output.path;
  }
  return undefined;
}

/** "Clips of Tape 3": the library folder a tape's clips appear under, never a title. */
function clipFolder(tapeName: string): string {
  return `Clips of ${basename(tapeName, extname(tapeName))}`;
}

/** `Tape 3 clip 0.12.30.mkv`: the tape's name and where the clip starts, never its title. */
function clipName(tapeRel: string, start: number): string {
  const stem = basename(tapeRel, extname(tapeRel));
  const total = Math.floor(start);
  const h = Math.floor(total / 3600);
  const m = String(Math.floor((total % 3600) / 60)).padStart(2, '0');
  const s = String(total % 60).padStart(2, '0');
  return `${stem} clip ${h}.${m}.${s}.mkv`;
}

/**
 * A succeeded clip job's output as a library item (once: a second call for the same job
 * does nothing). The output's vault file is linked, not copied, where the disk allows: it
 * is already sealed with this vault, and the job's own copy goes when the job is removed.
 * Returns the new item's id, or undefined when the job is not a clip job to record.
 */
export async function recordClip(
  deps: ClipExportDeps,
  vault: Vault,
  job: JobSnapshot,
): Promise<string | undefined> {
  const tapeId = job.options.libraryFile;
  const output = job.outputs[0];
  if (job.preset !== PRESET || job.state !== 'succeeded' || !tapeId || !output) return undefined;
  const known = stmt(deps.db, 'SELECT item_id FROM tape_clips WHERE job_id = ?')
    .pluck()
    .get(job.id);
  if (known !== undefined) return known as string;
  // The tape may have been deleted from the library since: its clips are still kept.
  const tapeName = job.options.sourceName ?? 'tape';
  const tapeKnown =
    stmt(deps.db, 'SELECT 1 FROM library_files WHERE id = ?').pluck().get(tapeId) !== undefined;
  const start = Number(job.params.start);
  const end = Number(job.params.end);

  const object = deps.library.newUploadObject();
  await mkdir(dirname(object.path), { recursive: true, mode: 0o700 });
  await link(output.path, object.path).catch(() => copyFile(output.path, object.path));
  try {
    const vf = await VaultFile.open(object.path, { vault });
    const size = vf.size;
    await vf.close();
    // The clip's title and date as the cut list has them now, else as the job carried them.
    const latest = deps.cutLists
      .get(vault, tapeId)
      ?.list.clips.find((c) => same(c, { start, end }));
    const labels = latest ? labelsOf(latest) : (openJobLabels(vault, job.options) ?? {});
    const folder = clipFolder(tapeName);
    const name = clipName(tapeName, start);
    return deps.db.transaction(() => {
      let rel = `${folder}/${name}`;
      for (let n = 2; deps.library.uploaded(rel); n++) {
        rel = `${folder}/${basename(name, '.mkv')} ${n}.mkv`;
      }
      const file = deps.library.recordUpload(object, { rel, size, mtimeMs: Date.now() });
      stmt(
        deps.db,
        'INSERT INTO tape_clips (item_id, tape_id, job_id, start_s, end_s) VALUES (?, ?, ?, ?, ?)',
      ).run(file.id, tapeKnown ? tapeId : null, job.id, start, end);
      if (labels.title || labels.date) {
        deps.labels.set(vault, file.id, { title: labels.title ?? null, date: labels.date ?? null });
      }
      return file.id;
    })();
  } catch (err) {
    await rm(object.path, { force: true });
    throw err;
  }
}
