import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { isKeepsakeError } from '../core/errors';
import { freshDir } from '../testing/tmp';
import type { Job, JobSpec } from './queue';
import { SqliteJobQueue } from './sqlite-queue';

const spec = (over: Partial<JobSpec> = {}): JobSpec => ({
  preset: 'remux',
  params: { container: 'mkv' },
  input: { kind: 'plain', path: '/media/tape1.mp4' },
  outputDir: '/data/jobs/out',
  ...over,
});

async function queue(clock = { t: 1_000_000 }) {
  const path = join(await freshDir(), 'engine.db');
  return { q: new SqliteJobQueue(path, () => clock.t), path, clock };
}

async function rejects(promise: Promise<unknown>, code: Parameters<typeof isKeepsakeError>[1]) {
  const err = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(isKeepsakeError(err, code), String(err)).toBe(true);
}

describe('SqliteJobQueue', () => {
  it('walks a job from queued to succeeded, with its history', async () => {
    const { q, clock } = await queue();
    const job = await q.submit(spec());
    expect(job).toMatchObject({ state: 'queued', attempts: 0, maxAttempts: 3, priority: 0 });
    expect(job.id).toMatch(/^j[a-z2-7]{12}$/);

    clock.t += 10;
    const running = await q.claim('w1', 5000);
    expect(running).toMatchObject({ id: job.id, state: 'running', attempts: 1, owner: 'w1' });
    expect(running!.startedAt).toBe(clock.t);
    expect(await q.claim('w2', 5000)).toBeUndefined();

    clock.t += 10;
    const beat = await q.heartbeat(job.id, 'w1', 5000, {
      percent: 42.5,
      fps: 30,
      speed: 1.2,
      etaSeconds: 8,
      at: clock.t,
    });
    expect(beat).toEqual({ owned: true, cancelRequested: false });
    expect((await q.get(job.id)).progress).toEqual({
      percent: 42.5,
      fps: 30,
      speed: 1.2,
      etaSeconds: 8,
      at: clock.t,
    });

    const outputs = [{ name: 'archive.mkv', path: '/data/jobs/out/archive.mkv.ksv', size: 10 }];
    const done = await q.succeed(job.id, 'w1', { outputs, notes: ['AV1 encoder: libaom-av1'] });
    expect(done).toMatchObject({ state: 'succeeded', outputs, notes: ['AV1 encoder: libaom-av1'] });
    expect(done.owner).toBeUndefined();
    expect((await q.events(job.id)).map((e) => e.kind)).toEqual([
      'submitted',
      'started',
      'succeeded',
    ]);
    // A finished job cannot be finished or cancelled again.
    await rejects(q.fail(job.id, 'w1', { code: 'INTERNAL', message: 'x' }), 'JOB_FINISHED');
    await rejects(q.cancel(job.id), 'JOB_FINISHED');
  });

  it('claims by priority, then submission order', async () => {
    const { q, clock } = await queue();
    const low = await q.submit(spec());
    clock.t += 1;
    const high = await q.submit(spec({ priority: 5 }));
    const low2 = await q.submit(spec());
    expect((await q.claim('w', 1000))!.id).toBe(high.id);
    expect((await q.claim('w', 1000))!.id).toBe(low.id);
    expect((await q.claim('w', 1000))!.id).toBe(low2.id);
  });

  it('retries wait for their backoff; a final failure keeps the reason', async () => {
    const { q, clock } = await queue();
    const job = await q.submit(spec({ maxAttempts: 2 }));
    await q.claim('w', 1000);
    const retry = await q.fail(
      job.id,
      'w',
      { code: 'JOB_TIMEOUT', message: 'no progress for 60 s' },
      clock.t + 2000,
    );
    expect(retry).toMatchObject({
      state: 'queued',
      attempts: 1,
      lastError: { code: 'JOB_TIMEOUT' },
    });
    expect(await q.claim('w', 1000)).toBeUndefined();
    clock.t += 2000;
    expect((await q.claim('w', 1000))!.attempts).toBe(2);
    const failed = await q.fail(job.id, 'w', { code: 'FFMPEG_FAILED', message: 'exit 1' });
    expect(failed).toMatchObject({
      state: 'failed',
      lastError: { code: 'FFMPEG_FAILED', message: 'exit 1' },
    });
  });

  it('a cancel asked for during an attempt wins over that attempt failing into a retry', async () => {
    const { q, clock } = await queue();
    const job = await q.submit(spec({ maxAttempts: 3 }));
    await q.claim('w', 1000);
    await q.cancel(job.id); // before the worker's next heartbeat would have seen it
    const after = await q.fail(
      job.id,
      'w',
      { code: 'JOB_TIMEOUT', message: 'no progress for 60 s' },
      clock.t + 2000,
    );
    expect(after).toMatchObject({ state: 'cancelled', lastError: { code: 'JOB_CANCELLED' } });
    clock.t += 2000;
    expect(await q.claim('w', 1000)).toBeUndefined();
  });

  it('cancels a queued job at once and asks a running one to stop', async () => {
    const { q } = await queue();
    const queued = await q.submit(spec());
    const running = await q.submit(spec({ priority: 1 }));
    await q.claim('w', 1000);
    expect(await q.cancel(queued.id)).toMatchObject({
      state: 'cancelled',
      lastError: { code: 'JOB_CANCELLED' },
    });
    expect(await q.cancel(running.id)).toMatchObject({ state: 'running', cancelRequested: true });
    expect(await q.heartbeat(running.id, 'w', 1000)).toEqual({
      owned: true,
      cancelRequested: true,
    });
    expect(await q.cancelled(running.id, 'w')).toMatchObject({ state: 'cancelled' });
    await rejects(q.cancel('jnope'), 'JOB_NOT_FOUND');
  });

  it('skips jobs the worker cannot run yet, keeping them queued in order', async () => {
    const { q } = await queue();
    const waiting = await q.submit(spec({ priority: 9 }));
    const ready = await q.submit(spec());
    const claimed = await q.claim('w', 1000, (job) => job.id !== waiting.id);
    expect(claimed!.id).toBe(ready.id);
    expect(await q.get(waiting.id)).toMatchObject({ state: 'queued', attempts: 0 });
    expect(await q.claim('w', 1000, () => false)).toBeUndefined();
  });

  it('reads from memory never hide a change made through another connection', async () => {
    const { q, path, clock } = await queue();
    const job = await q.submit(spec());
    expect((await q.get(job.id)).state).toBe('queued');
    const other = new SqliteJobQueue(path, () => clock.t);
    await other.cancel(job.id);
    await other.close();
    // Seen from the next turn of the event loop (data_version is read once per turn).
    await new Promise((resolve) => setImmediate(resolve));
    expect((await q.get(job.id)).state).toBe('cancelled');
    // A returned job is shared, so it is frozen all the way down: changing it throws
    // and changes nothing stored.
    const shared = (await q.get(job.id)) as Job;
    expect(await q.get(job.id)).toBe(shared);
    expect(() => shared.notes.push('scribble')).toThrow(TypeError);
    expect(() => (shared.input.path = '/elsewhere')).toThrow(TypeError);
    expect(() => (shared.state = 'queued')).toThrow(TypeError);
    expect((await q.get(job.id)).notes).toEqual([]);
  });

  it('lists the jobs fed by one upload, and counts jobs by state', async () => {
    const { q } = await queue();
    const fed = await q.submit(spec({ options: { upload: 'uaaa' } }));
    await q.submit(spec({ options: { upload: 'ubbb' } }));
    await q.submit(spec());
    expect((await q.list({ upload: 'uaaa' })).map((j) => j.id)).toEqual([fed.id]);
    expect(await q.list({ upload: 'uaaa', states: ['failed'] })).toEqual([]);
    await q.cancel(fed.id);
    expect(await q.counts()).toEqual({
      queued: 2,
      running: 0,
      succeeded: 0,
      failed: 0,
      cancelled: 1,
    });
  });

  it('a paused queue hands out nothing until resumed', async () => {
    const { q } = await queue();
    await q.submit(spec());
    await q.pause();
    expect(await q.isPaused()).toBe(true);
    expect(await q.claim('w', 1000)).toBeUndefined();
    await q.resume();
    expect(await q.claim('w', 1000)).toBeDefined();
  });

  it('a worker that lost its job (lease taken over) cannot finish it', async () => {
    const { q } = await queue();
    const job = await q.submit(spec());
    await q.claim('w1', 1000);
    await rejects(q.succeed(job.id, 'w2', { outputs: [], notes: [] }), 'JOB_FINISHED');
    expect(await q.heartbeat(job.id, 'w2', 1000)).toEqual({ owned: false, cancelRequested: false });
  });

  it('finds orphans: dead workers and expired leases, not live ones', async () => {
    const { q, clock } = await queue();
    const a = await q.submit(spec());
    const b = await q.submit(spec());
    const c = await q.submit(spec());
    await q.claim('dead', 10_000);
    await q.claim('alive', 10_000);
    await q.claim('hung', 1_000);
    clock.t += 5_000;
    const orphans = await q.orphans((owner) => owner !== 'dead');
    expect(orphans.map((j) => j.id).sort()).toEqual([a.id, c.id].sort());
    expect(orphans.some((j) => j.id === b.id)).toBe(false);
  });

  it('state survives closing and reopening the database file', async () => {
    const { q, path, clock } = await queue();
    const job = await q.submit(spec({ options: { thorough: true, threads: 2 } }));
    await q.pause();
    await q.close();
    const again = new SqliteJobQueue(path, () => clock.t);
    expect(await again.get(job.id)).toMatchObject({
      state: 'queued',
      options: { thorough: true, threads: 2 },
      input: { kind: 'plain', path: '/media/tape1.mp4' },
    });
    expect(await again.isPaused()).toBe(true);
    expect((await again.list()).map((j) => j.id)).toEqual([job.id]);
    expect(await again.list({ states: ['failed'] })).toEqual([]);
    await again.close();
  });
  it('says since when a job has waited for its server; any other outcome ends the wait', async () => {
    const { q, clock } = await queue();
    const job = await q.submit(spec());
    const unreachable = {
      code: 'SERVER_UNREACHABLE' as const,
      message: 'lxc: connect ECONNREFUSED',
    };
    const waitOnce = async () => {
      await q.claim('w1', 5000);
      clock.t += 5;
      await q.fail(job.id, 'w1', unreachable, clock.t, { countAttempt: false });
      clock.t += 1000;
    };
    expect(q.waitingSince(job.id)).toBeUndefined();
    const first = clock.t + 5;
    await waitOnce();
    await waitOnce();
    expect(q.waitingSince(job.id)).toBe(first);
    // Stopped by a lock in between: the wait starts again with the next failed try.
    await q.claim('w1', 5000);
    await q.interrupted(job.id, 'w1', 'the vault was locked');
    expect(q.waitingSince(job.id)).toBeUndefined();
    const again = clock.t + 5;
    await waitOnce();
    expect(q.waitingSince(job.id)).toBe(again);
    expect((await q.get(job.id)).attempts).toBe(0);
  });

  it("answers the library: each file's jobs newest first, and the files a job encoded", async () => {
    const { q, clock } = await queue();
    const forFile = (libraryFile: string, preset = 'remux') =>
      q.submit(spec({ preset, options: { libraryFile } }));
    const a1 = await forFile('maaa', 'web-h264');
    clock.t += 1;
    const b1 = await forFile('mbbb');
    clock.t += 1;
    const a2 = await forFile('maaa', 'photo-web');
    await q.submit(spec()); // a job on a plain file, in no library
    await forFile('mzzz');

    // They run in submission order: a1 succeeds, b1 fails, a2 succeeds (its file counts once).
    for (const [job, ok] of [
      [a1, true],
      [b1, false],
      [a2, true],
    ] as const) {
      expect((await q.claim('w', 1000))?.id).toBe(job.id);
      if (ok) await q.succeed(job.id, 'w', { outputs: [], notes: [] });
      else await q.fail(job.id, 'w', { code: 'FFMPEG_FAILED', message: 'no' });
    }

    const byFile = await q.jobsForFiles(['maaa', 'mbbb', 'mnone']);
    expect([...byFile.keys()].sort()).toEqual(['maaa', 'mbbb']);
    expect(byFile.get('maaa')).toEqual([
      { id: a2.id, preset: 'photo-web', state: 'succeeded' },
      { id: a1.id, preset: 'web-h264', state: 'succeeded' },
    ]);
    expect(byFile.get('mbbb')).toEqual([{ id: b1.id, preset: 'remux', state: 'failed' }]);
    expect(await q.jobsForFiles([])).toEqual(new Map());
    expect(await q.encodedFiles()).toEqual(['maaa']);
  });
});
