// The worker when its database misbehaves, on real SQLite files: another process holding
// the write lock past the busy timeout, and a full disk (a tiny tmpfs, root only). The
// worker must not die (an unhandled rejection would end the desktop or `job work`), must
// not throw a finished encode away, and must pick up where it was once the lock or the
// space is back.

import Database from 'better-sqlite3';
import { execFileSync } from 'node:child_process';
import { rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { KeepsakeError } from '../core/errors';
import { freshDir } from '../testing/tmp';
import { openDatabase } from './db';
import type { Job, JobSpec } from './queue';
import { SqliteJobQueue } from './sqlite-queue';
import { JobWorker, type ExecuteFn } from './worker';
import { canMountTmpfs } from '../testing/tmpfs';

const spec: JobSpec = {
  preset: 'remux',
  params: {},
  input: { kind: 'plain', path: '/in.mp4' },
  outputDir: '/out',
  maxAttempts: 3,
};

function worker(queue: SqliteJobQueue, execute: ExecuteFn, cleaned: string[]) {
  const w = new JobWorker(queue, execute, {
    concurrency: 1,
    cleanup: async (job) => {
      cleaned.push(job.id);
    },
    pollMs: 20,
    heartbeatMs: 50,
    retryBaseMs: 50,
    retryMaxMs: 200,
  });
  const stalls: string[] = [];
  w.on('stalled', (err: KeepsakeError) => stalls.push(err.code));
  return { worker: w, stalls };
}

function finished(w: JobWorker, id: string): Promise<Job> {
  return new Promise((resolve) => {
    w.on('finished', (job) => {
      if (job.id === id) resolve(job);
    });
  });
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe('JobWorker and a troubled database', () => {
  it('keeps running while another process holds the write lock past the busy timeout', async () => {
    const path = join(await freshDir(), 'engine.db');
    const db = openDatabase(path);
    db.pragma('busy_timeout = 100');
    const queue = new SqliteJobQueue(db);
    const job = await queue.submit(spec);
    const cleaned: string[] = [];
    const { worker: w, stalls } = worker(queue, async () => ({ outputs: [], notes: [] }), cleaned);
    const other = new Database(path);
    other.exec('BEGIN IMMEDIATE');
    try {
      const done = finished(w, job.id);
      await w.start();
      // Held for many busy timeouts: the worker reports it and waits, alive.
      await sleep(800);
      expect(stalls.length).toBeGreaterThan(0);
      expect(new Set(stalls)).toEqual(new Set(['DATABASE_BUSY']));
      expect((await queue.get(job.id)).state).toBe('queued');
      other.exec('COMMIT');
      expect(await done).toMatchObject({ state: 'succeeded', attempts: 1 });
      expect(cleaned).toEqual([]);
    } finally {
      if (other.inTransaction) other.exec('ROLLBACK');
      other.close();
      await w.stop();
      db.close();
    }
  });

  it('a finished encode whose outcome meets a held lock is recorded once it is free, not thrown away', async () => {
    const path = join(await freshDir(), 'engine.db');
    const db = openDatabase(path);
    db.pragma('busy_timeout = 100');
    const queue = new SqliteJobQueue(db);
    const job = await queue.submit(spec);
    const other = new Database(path);
    let release: () => void = () => undefined;
    const encoded = new Promise<void>((resolve) => (release = resolve));
    const cleaned: string[] = [];
    const { worker: w, stalls } = worker(
      queue,
      async () => {
        await encoded;
        return { outputs: [], notes: ['kept'] };
      },
      cleaned,
    );
    try {
      const done = finished(w, job.id);
      await w.start();
      while ((await queue.get(job.id)).state !== 'running') await sleep(10);
      other.exec('BEGIN IMMEDIATE');
      release();
      await sleep(600);
      expect(stalls).toContain('DATABASE_BUSY');
      other.exec('COMMIT');
      expect(await done).toMatchObject({ state: 'succeeded', notes: ['kept'] });
      // Its outputs were never cleaned up as if it had failed.
      expect(cleaned).toEqual([]);
    } finally {
      if (other.inTransaction) other.exec('ROLLBACK');
      other.close();
      await w.stop();
      db.close();
    }
  });

  // Root only: mounting a tmpfs is what fills a disk without touching the real one.
  it.skipIf(!canMountTmpfs())(
    'a full disk (1 MiB tmpfs) stalls the worker with DISK_FULL; it records the job once space is freed',
    async () => {
      const dir = await freshDir();
      const small = join(dir, 'small');
      execFileSync('mkdir', [small]);
      execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=1m', 'tmpfs', small]);
      const filler = join(small, 'filler');
      let queue: SqliteJobQueue | undefined;
      let w: JobWorker | undefined;
      try {
        queue = new SqliteJobQueue(join(small, 'engine.db'));
        const job = await queue.submit(spec);
        const cleaned: string[] = [];
        let release: () => void = () => undefined;
        const encoded = new Promise<void>((resolve) => (release = resolve));
        const made = worker(
          queue,
          async () => {
            await encoded;
            return { outputs: [], notes: [] };
          },
          cleaned,
        );
        w = made.worker;
        const done = finished(w, job.id);
        await w.start();
        while ((await queue.get(job.id)).state !== 'running') await sleep(10);
        // Fill every free byte, then let the encode finish: its outcome cannot be written.
        try {
          writeFileSync(filler, Buffer.alloc(2 * 1024 * 1024));
        } catch (err) {
          expect((err as NodeJS.ErrnoException).code).toBe('ENOSPC');
        }
        release();
        await sleep(500);
        expect(made.stalls).toContain('DISK_FULL');
        rmSync(filler);
        expect(await done).toMatchObject({ state: 'succeeded' });
        expect(cleaned).toEqual([]);
      } finally {
        await w?.stop();
        await queue?.close();
        execFileSync('umount', [small]);
      }
    },
  );

  it('a bug while recording an outcome is reported once, not retried forever with the job held', async () => {
    const path = join(await freshDir(), 'engine.db');
    const queue = new SqliteJobQueue(path);
    const job = await queue.submit(spec);
    let writes = 0;
    // The queue's own write fails with something that is not the database's trouble.
    queue.succeed = () => {
      writes++;
      return Promise.reject(new TypeError('a bug in recording'));
    };
    const { worker: w, stalls } = worker(queue, async () => ({ outputs: [], notes: [] }), []);
    await w.start();
    const deadline = Date.now() + 5000;
    while (stalls.length === 0 && Date.now() < deadline)
      await new Promise((r) => setTimeout(r, 20));
    await new Promise((r) => setTimeout(r, 500));
    await w.stop();
    expect(stalls).toEqual(['INTERNAL']);
    expect(writes).toBe(1);
    expect(w.activeJobs).toEqual([]);
    // Left running under the worker's owner: the next start recovers it, as after a crash.
    expect((await queue.get(job.id)).state).toBe('running');
    await queue.close();
  });
});
