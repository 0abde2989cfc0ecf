// Clips cut from a tape's exact master, on real FFmpeg, a real job engine and a real
// SQLite library: once the tape has a master, the clips are copied from it (not encoded
// again), last what the cut list says to the frame, and hold exactly the master's pictures
// over the same stretch; before it has one, they are encoded from the tape as always.

import { execFile } from 'node:child_process';
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterEach, describe, expect, it } from 'vitest';
import { databasePath, openDatabase, type Db } from '../jobs/db';
import type { JobEngine } from '../jobs/job-engine';
import type { Job, JobSnapshot } from '../jobs/queue';
import { submitJob } from '../jobs/worker';
import { ItemLabelStore } from '../library/item-labels';
import { Library } from '../library/library';
import { COPIED } from '../presets/clip';
import { testEngine } from '../testing/engine';
import { makeTape } from '../testing/tape-media';
import { decryptFile } from '../vault/file-ops';
import { fromCuts, split } from './cut-list';
import { CutListStore } from './cut-list-store';
import { exportClips, recordClip, type ClipExportDeps } from './clip-export';

const run = promisify(execFile);
const FPS = 25;

let engine: JobEngine | undefined;
let db: Db | undefined;

afterEach(async () => {
  await engine?.close();
  db?.close();
});

describe('clips of a tape that has an exact master', () => {
  it('are copied from the master, frame for frame; without one they are encoded from the tape', async () => {
    const t = await testEngine();
    engine = t.engine;
    const { vault, dir } = t;
    db = openDatabase(databasePath(t.dataDir));
    const library = new Library(db, t.dataDir);
    const media = join(dir, 'tapes');
    await mkdir(media);
    // 4.5 s of interlaced MPEG-2 in MPEG-TS, as a capture box writes: long-GOP, so a clip
    // of the tape itself can only be made by decoding it.
    await makeTape(media, 'Tape 5.mts', {
      scenes: [
        { source: 'testsrc', seconds: 2, tone: 440, gapAfter: 0.5 },
        { source: 'smptebars', seconds: 2, tone: 660 },
      ],
    });
    const { folder } = await library.addFolder(media);
    await library.encrypt(folder.id, vault);
    const tape = library.files(folder.id)[0]!;
    const deps: ClipExportDeps = {
      db,
      library,
      labels: new ItemLabelStore(db),
      cutLists: new CutListStore(db),
      queue: t.engine.queue,
      outputRoot: t.engine.outputRoot,
    };
    await t.engine.worker.start();

    const finished = async (id: string): Promise<JobSnapshot> => {
      let job = await t.engine.queue.get(id);
      while (job.state === 'queued' || job.state === 'running') {
        await new Promise((r) => setTimeout(r, 100));
        job = await t.engine.queue.get(id);
      }
      expect(job.state, job.lastError?.message).toBe('succeeded');
      return job;
    };
    const plain = async (encrypted: string, name: string) => {
      const path = join(dir, name);
      await decryptFile(encrypted, path, { vault });
      return path;
    };
    /** Each decoded picture's MD5, in order. */
    const pictures = async (path: string): Promise<string[]> => {
      const { stdout } = await run(t.engine.env.ffmpeg.ffmpegPath, [
        ...['-v', 'error', '-i', path, '-map', '0:v:0', '-f', 'framemd5', '-'],
      ]);
      return stdout
        .split('\n')
        .filter((l) => l && !l.startsWith('#'))
        .map((l) => l.split(',').at(-1)!.trim());
    };
    /** Exports, waits for the clips, records them; their jobs and decrypted files. */
    const exportAll = async () => {
      const { jobIds } = await exportClips(deps, vault, tape.id);
      const out: { job: JobSnapshot; path: string }[] = [];
      for (const id of jobIds) {
        const job = await finished(id);
        const item = await recordClip(deps, vault, job as Job);
        out.push({ job, path: await plain(library.file(item!).encryptedPath!, `${id}.mkv`) });
      }
      return out;
    };

    // No master yet: the clips are encoded from the tape (MPEG-2 cannot be copied exactly).
    let list = fromCuts(4.5, [1.2], FPS);
    const saved = deps.cutLists.save(vault, tape.id, list, 0);
    const fromTape = await exportAll();
    expect(fromTape).toHaveLength(2);
    const tapePictures: string[][] = [];
    for (const { job, path } of fromTape) {
      expect(job.input).toMatchObject({ path: tape.encryptedPath });
      expect(job.notes).not.toContain(COPIED);
      tapePictures.push(await pictures(path));
    }

    // The exact master, made as the family would, by its own job on the tape.
    const masterJob = await finished(
      (
        await submitJob(t.engine.queue, {
          preset: 'exact-master',
          params: {},
          input: { kind: 'vault', path: tape.encryptedPath! },
          outputDir: t.engine.outputRoot,
          options: { mode: 'manual', libraryFile: tape.id, sourceName: 'Tape 5.mts' },
        })
      ).id,
    );
    const masterVault = masterJob.outputs[0]!.path;
    const master = await pictures(await plain(masterVault, 'master.mkv'));
    // 225 fields woven into 112 frames.
    expect(master.length).toBe(112);
    // The clips encoded from the tape hold exactly its pictures too (the master's, which
    // are the tape's), also the one starting inside it: MPEG-TS has no index, and a plain
    // seek there started six frames late.
    expect(tapePictures).toEqual([master.slice(0, 30), master.slice(30, 112)]);

    // An edit splits the second clip: both halves are new, and are copied from the master.
    list = split(list, 1, 2.96);
    deps.cutLists.save(vault, tape.id, list, saved.version);
    const copied = await exportAll();
    expect(copied).toHaveLength(2);
    const stretches = [
      [30, 74],
      [74, 112],
    ] as const;
    for (const [i, { job, path }] of copied.entries()) {
      expect(job.input).toMatchObject({ path: masterVault });
      expect(job.notes).toContain(COPIED);
      const [from, to] = stretches[i]!;
      expect(job.params.start).toBe(from / FPS);
      // To the frame, and exactly the master's pictures over that stretch.
      expect(await pictures(path)).toEqual(master.slice(from, to));
      const { stdout } = await run(t.engine.env.ffmpeg.ffprobePath, [
        ...['-v', 'error', '-show_entries', 'stream=codec_name', '-of', 'csv=p=0', path],
      ]);
      expect(stdout.trim().split('\n')).toEqual(['ffv1', 'flac']);
    }
  }, 180_000);
});
