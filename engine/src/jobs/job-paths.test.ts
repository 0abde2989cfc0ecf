// A data folder copied elsewhere (a backup restored, a move to a new disk) must read and
// write its own files: real engines, real FFmpeg, the copy made with the engine stopped.

import { cp, mkdir, readdir, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { makeClip, testScratch } from '../testing/media';
import { TEST_SCRYPT, freshDir } from '../testing/tmp';
import { decryptFile, encryptFile } from '../vault/file-ops';
import { createVault, type Vault } from '../vault/keyring';
import { databasePath, openDatabase, stmt } from './db';
import { openJobEngine, type JobEngine } from './job-engine';
import type { Job } from './queue';
import { SqliteJobQueue } from './sqlite-queue';
import { submitJob } from './worker';

const cleanup: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const c of cleanup.splice(0).reverse()) await c();
});

async function engineOn(dataDir: string, vault: Vault): Promise<JobEngine> {
  const engine = await openJobEngine({
    dataDir,
    keys: { vault },
    scratch: await testScratch(),
    concurrency: 1,
    worker: { pollMs: 50, heartbeatMs: 100 },
  });
  const closeEngine = engine.close.bind(engine);
  let closed = false;
  const close = async () => {
    if (!closed) await closeEngine();
    closed = true;
  };
  cleanup.push(close);
  return Object.assign(engine, { close });
}

function finished(engine: JobEngine, id: string): Promise<Job> {
  return new Promise((resolve) => {
    engine.worker.on('finished', (job: Job) => {
      if (job.id === id) resolve(job);
    });
  });
}

/** Every file under `dir` with its size and modification time. */
async function snapshot(dir: string): Promise<Record<string, string>> {
  const out: Record<string, string> = {};
  for (const e of await readdir(dir, { recursive: true, withFileTypes: true })) {
    const path = join(e.parentPath, e.name);
    const info = await stat(path);
    out[path] = e.isDirectory() ? 'dir' : `${info.size} ${info.mtimeMs}`;
  }
  return out;
}

/** A data folder with one finished job and one still queued (its input in the folder). */
async function folderWithJobs() {
  const dir = await freshDir();
  const dataDir = join(dir, 'data');
  const { vault } = await createVault(join(dataDir, 'vault'), 'pw', {
    scrypt: TEST_SCRYPT,
    recovery: false,
  });
  const clip = await makeClip(dir);
  const engine = await engineOn(dataDir, vault);
  const done = await submitJob(engine.queue, {
    preset: 'remux',
    params: {},
    input: { kind: 'plain', path: clip },
    outputDir: engine.outputRoot,
  });
  const ran = finished(engine, done.id);
  await engine.worker.start();
  expect((await ran).state).toBe('succeeded');
  await engine.worker.stop();
  await mkdir(join(dataDir, 'inbox'), { recursive: true });
  const sealed = join(dataDir, 'inbox', 'clip.ksv');
  await encryptFile(clip, sealed, vault);
  const queued = await submitJob(engine.queue, {
    preset: 'remux',
    params: {},
    input: { kind: 'vault', path: sealed },
    outputDir: engine.outputRoot,
  });
  await engine.close();
  return { dir, dataDir, vault, clip, doneId: done.id, queuedId: queued.id };
}

describe('a copied data folder', () => {
  it('reads and runs its own jobs, and writes nothing into the folder it came from', async () => {
    const { dir, dataDir, vault, doneId, queuedId } = await folderWithJobs();
    const copy = join(dir, 'copy');
    await cp(dataDir, copy, { recursive: true, preserveTimestamps: true });
    const before = await snapshot(dataDir);

    const engine = await engineOn(copy, vault);
    const done = await engine.queue.get(doneId);
    expect(done?.outputDir).toBe(join(copy, 'outputs'));
    expect(done?.outputs.length).toBeGreaterThan(0);
    for (const output of done!.outputs) {
      expect(output.path.startsWith(`${copy}/`), output.path).toBe(true);
      await decryptFile(output.path, join(dir, `read-${output.name}`), { vault });
    }
    const queued = await engine.queue.get(queuedId);
    expect(queued?.input.path).toBe(join(copy, 'inbox', 'clip.ksv'));

    const ran = finished(engine, queuedId);
    await engine.worker.start();
    const result = await ran;
    expect(result.state, JSON.stringify(result.lastError)).toBe('succeeded');
    for (const output of result.outputs) {
      expect(output.path.startsWith(`${copy}/`), output.path).toBe(true);
    }
    await engine.close();
    expect(await snapshot(dataDir)).toEqual(before);
  });

  it('migrates absolute paths written by older versions to the copy it is opened in', async () => {
    const { dir, dataDir, doneId, queuedId } = await folderWithJobs();
    // What older versions stored: every path absolute, into the folder as it was then.
    const db = openDatabase(databasePath(dataDir));
    const row = (id: string) =>
      stmt(db, 'SELECT input_path, output_dir, outputs FROM jobs WHERE id = ?').get(id) as {
        input_path: string;
        output_dir: string;
        outputs: string;
      };
    const abs = (p: string) => (p.startsWith('/') ? p : join(dataDir, p));
    for (const id of [doneId, queuedId]) {
      const r = row(id);
      const outputs = (JSON.parse(r.outputs) as { path: string }[]).map((o) => ({
        ...o,
        path: abs(o.path),
      }));
      stmt(db, 'UPDATE jobs SET input_path = ?, output_dir = ?, outputs = ? WHERE id = ?').run(
        abs(r.input_path),
        abs(r.output_dir),
        JSON.stringify(outputs),
        id,
      );
    }
    expect(row(queuedId).input_path).toBe(join(dataDir, 'inbox', 'clip.ksv'));
    db.close();

    const copy = join(dir, 'copy');
    await cp(dataDir, copy, { recursive: true });
    const queue = new SqliteJobQueue(databasePath(copy));
    try {
      const done = await queue.get(doneId);
      expect(done?.outputDir).toBe(join(copy, 'outputs'));
      for (const o of done!.outputs) expect(o.path.startsWith(`${copy}/`)).toBe(true);
      expect((await queue.get(queuedId))?.input.path).toBe(join(copy, 'inbox', 'clip.ksv'));
    } finally {
      await queue.close();
    }
    // Stored relative from then on; an input outside the folder stays absolute.
    const migrated = openDatabase(databasePath(copy));
    const stored = stmt(migrated, 'SELECT input_path, output_dir FROM jobs WHERE id = ?').get(
      doneId,
    ) as { input_path: string; output_dir: string };
    migrated.close();
    expect(stored.output_dir).toBe('outputs');
    expect(stored.input_path.startsWith('/')).toBe(true);
  });
});
