// Clips of a tape made into library items, on real FFmpeg, a real job engine and a real
// SQLite library: each clip lasts what the cut list says, to the frame, carries its title
// and date, and joins the library; exporting again after an edit makes only the clips
// that changed, and the tape's vault copy is never written to.

import { execFile } from 'node:child_process';
import { mkdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterEach, describe, expect, it } from 'vitest';
import { databasePath, openDatabase, type Db } from '../jobs/db';
import type { Job } from '../jobs/queue';
import type { JobEngine } from '../jobs/job-engine';
import { ItemLabelStore } from '../library/item-labels';
import { Library } from '../library/library';
import { testEngine } from '../testing/engine';
import { makeClip } from '../testing/media';
import { decryptFile } from '../vault/file-ops';
import type { Vault } from '../vault/keyring';
import { fromCuts, label, moveEdge } from './cut-list';
import { CutListStore } from './cut-list-store';
import { exportClips, recordClip, type ClipExportDeps } from './clip-export';

const run = promisify(execFile);

let engine: JobEngine;
let vault: Vault;
let db: Db;
let dir: string;
let deps: ClipExportDeps;
let tapeId: string;
let tapeBytes: Buffer;

/** A job engine and a library holding one encrypted 12 s tape (made afresh per test). */
async function setUp(): Promise<void> {
  const t = await testEngine();
  ({ engine, vault, dir } = t);
  db = openDatabase(databasePath(t.dataDir));
  const library = new Library(db, t.dataDir);
  const media = join(dir, 'tapes');
  await mkdir(media);
  // 12 s at 25 fps, H.264 with a keyframe every 250 frames: a clip starting between
  // keyframes proves the cut is made on the frame, not on the keyframe before it.
  await makeClip(media, 'Tape 3.mp4', { seconds: 12, outputArgs: ['-g', '250'] });
  const { folder } = await library.addFolder(media);
  await library.encrypt(folder.id, vault);
  const [tape] = library.files(folder.id);
  tapeId = tape!.id;
  tapeBytes = await readFile(tape!.encryptedPath!);
  deps = {
    db,
    library,
    labels: new ItemLabelStore(db),
    cutLists: new CutListStore(db),
    queue: engine.queue,
    outputRoot: engine.outputRoot,
  };
  await engine.worker.start();
}

// Before testing/tmp.ts removes the test's folders.
afterEach(async () => {
  await engine?.close();
  db?.close();
});

/** Waits for these jobs to end, then records each as the session does when one ends. */
async function finish(jobIds: readonly string[]): Promise<string[]> {
  const items: string[] = [];
  for (const id of jobIds) {
    let job = await engine.queue.get(id);
    while (job.state === 'queued' || job.state === 'running') {
      await new Promise((r) => setTimeout(r, 100));
      job = await engine.queue.get(id);
    }
    expect(job.state, job.lastError?.message).toBe('succeeded');
    const item = await recordClip(deps, vault, job as Job);
    expect(item).toBeDefined();
    // Recording twice (an engine restarting between the two) makes no second item.
    expect(await recordClip(deps, vault, job as Job)).toBe(item);
    items.push(item!);
  }
  return items;
}

/** The item's length in seconds (from its packets) and its title tag, read with FFprobe. */
async function probeItem(itemId: string): Promise<{ seconds: number; title?: string }> {
  const file = deps.library.file(itemId);
  const plain = join(dir, `${itemId}.mkv`);
  await decryptFile(file.encryptedPath!, plain, { vault });
  const { stdout } = await run(engine.env.ffmpeg.ffprobePath, [
    ...['-v', 'error', '-count_frames', '-select_streams', 'v:0'],
    ...['-show_entries', 'stream=nb_read_frames:format_tags=title', '-of', 'json', plain],
  ]);
  const probed = JSON.parse(stdout) as {
    streams: { nb_read_frames: string }[];
    format: { tags?: { title?: string; TITLE?: string } };
  };
  const tags = probed.format.tags ?? {};
  return {
    seconds: Number(probed.streams[0]!.nb_read_frames) / 25,
    title: tags.title ?? tags.TITLE,
  };
}

describe('exporting the clips of a tape', () => {
  it('makes one item per clip, frame-accurate and titled, and after an edit only what moved', async () => {
    await setUp();
    let list = fromCuts(12, [2.2, 7.04], 25);
    list = label(list, 0, { title: 'Birthday candles', date: '1990-05-01' });
    list = label(list, 2, { title: 'Garden' });
    const saved = deps.cutLists.save(vault, tapeId, list, 0);

    const first = await exportClips(deps, vault, tapeId);
    expect(first).toMatchObject({ version: saved.version, started: 3, kept: 0, running: 0 });
    // Asked again while the jobs wait: nothing is started twice.
    const again = await exportClips(deps, vault, tapeId);
    expect(again.started + again.running).toBe(3);
    expect(again.started).toBe(0);

    const items = await finish(first.jobIds);
    const probed = await Promise.all(items.map(probeItem));
    expect(probed.map((p) => p.seconds)).toEqual([2.2, 4.84, 4.96]);
    expect(probed[0]!.title).toBe('Birthday candles');
    expect(probed[2]!.title).toBe('Garden');

    const labels = deps.labels.get(items, vault);
    expect(labels.get(items[0]!)).toEqual({ title: 'Birthday candles', date: '1990-05-01' });
    expect(labels.get(items[1]!)).toBeUndefined();
    const files = items.map((id) => deps.library.file(id));
    expect(files.map((f) => f.rel)).toEqual([
      'Clips of Tape 3/Tape 3 clip 0.00.00.mkv',
      'Clips of Tape 3/Tape 3 clip 0.00.02.mkv',
      'Clips of Tape 3/Tape 3 clip 0.00.07.mkv',
    ]);
    expect(files.every((f) => f.kind === 'video' && f.encryptedPath)).toBe(true);

    // After an edit, only the clips that moved are made again; the rest are relabelled.
    list = moveEdge(list, 2, 'start', 8);
    list = label(list, 0, { title: 'Birthday cake' });
    deps.cutLists.save(vault, tapeId, list, saved.version);

    const summary = await exportClips(deps, vault, tapeId);
    // Clip 1 is unchanged (relabelled), clip 2 moved its end and clip 3 its start.
    expect(summary).toMatchObject({ started: 2, kept: 1, running: 0, unlisted: 2 });
    const remade = await finish(summary.jobIds);
    expect((await Promise.all(remade.map(probeItem))).map((p) => p.seconds)).toEqual([5.8, 4]);

    const kept = db
      .prepare('SELECT item_id FROM tape_clips WHERE tape_id = ? AND start_s = 0')
      .pluck()
      .get(tapeId) as string;
    expect(deps.labels.get([kept], vault).get(kept)?.title).toBe('Birthday cake');
    // Nothing made before is deleted: the library is an archive.
    expect(db.prepare('SELECT COUNT(*) FROM tape_clips').pluck().get()).toBe(5);
    // And the tape itself was only read.
    expect((await readFile(deps.library.file(tapeId).encryptedPath!)).equals(tapeBytes)).toBe(true);
  }, 180_000);

  it('refuses a tape with no clips marked, saying so', async () => {
    await setUp();
    await expect(exportClips(deps, vault, tapeId)).rejects.toMatchObject({ code: 'NOT_FOUND' });
  });
});
