// `keepsake job …` through the real CLI in child processes: a queue shared through the
// data directory's SQLite file, cancel from another terminal, and `kill -9` recovery.

import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync, readlinkSync } from 'node:fs';
import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { locateFfmpeg } from '../ffmpeg/locate';
import { databasePath } from '../jobs/db';
import type { Job } from '../jobs/queue';
import { SqliteJobQueue } from '../jobs/sqlite-queue';
import { cliVault, runCli, startCli } from '../testing/cli';
import { makeClip, testScratch } from '../testing/media';

async function jobEnv() {
  const { dir, env } = await cliVault();
  const scratch = await testScratch();
  return {
    dir,
    env: {
      ...env,
      KEEPSAKE_SCRATCH: scratch.configured!,
    },
    // The CLI works in its private folder inside the configured base.
    scratch: join(scratch.configured!, `keepsake-${process.getuid!()}`),
    db: databasePath(env.KEEPSAKE_HOME),
  };
}

/** Polls the queue (as another process would) until `test` holds for some job. */
async function waitForJob(db: string, test: (job: Job) => boolean, timeoutMs = 60_000) {
  const started = Date.now();
  while (Date.now() - started < timeoutMs) {
    if (existsSync(db)) {
      const queue = new SqliteJobQueue(db);
      const jobs = await queue.list();
      await queue.close();
      const found = jobs.find(test);
      if (found) return found;
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error('timed out waiting for the job');
}

const running = (j: Job) => j.state === 'running' && (j.progress?.percent ?? 0) > 1;

/**
 * Processes working inside `dir`: FFmpeg runs in its job's scratch folder (its argv names
 * only loopback URLs), so a leftover FFmpeg of a job shows here.
 */
function processesWorkingIn(dir: string): string[] {
  const found: string[] = [];
  for (const pid of readdirSync('/proc').filter((name) => /^\d+$/.test(name))) {
    try {
      if (readlinkSync(`/proc/${pid}/cwd`).startsWith(dir)) found.push(pid);
    } catch {
      // Gone meanwhile, or not ours to look at.
    }
  }
  return found;
}

describe('keepsake job', () => {
  it('submit runs a preset, --out decrypts the result, list shows it', async () => {
    const { dir, env } = await jobEnv();
    const clip = await makeClip(dir);
    const out = join(dir, 'out');
    const submit = await runCli(
      [
        'job',
        'submit',
        clip,
        '--preset',
        'web-h264',
        '--param',
        'maxHeight=360',
        '--out',
        out,
        '--json',
      ],
      { env },
    );
    expect(submit.code, submit.stderr).toBe(0);
    const result = JSON.parse(submit.stdout) as {
      job: { id: string; state: string };
      decrypted: string[];
    };
    expect(result.job.state).toBe('succeeded');
    expect(result.decrypted).toEqual([join(out, 'web.mp4')]);
    const { ffmpegPath } = await locateFfmpeg();
    execFileSync(ffmpegPath, ['-v', 'error', '-i', join(out, 'web.mp4'), '-f', 'null', '-']);
    const list = await runCli(['job', 'list', '--json'], { env });
    const listed = JSON.parse(list.stdout) as { jobs: { id: string; state: string }[] };
    expect(listed.jobs).toEqual([
      expect.objectContaining({ id: result.job.id, state: 'succeeded' }),
    ]);
    // A second run into the same --out refuses to overwrite.
    const again = await runCli(['job', 'submit', clip, '--preset', 'web-h264', '--out', out], {
      env,
    });
    expect(again.code).not.toBe(0);
    expect(again.stderr).toMatch(/OUTPUT_EXISTS/);
  });

  it('refuses a bad parameter before queueing, naming it', async () => {
    const { dir, env } = await jobEnv();
    const clip = await makeClip(dir);
    const res = await runCli(
      ['job', 'submit', clip, '--preset', 'web-h264', '--param', 'crf=-i;rm -rf /'],
      { env },
    );
    expect(res.code).toBe(2);
    expect(res.stderr).toMatch(/crf.*\[INVALID_PARAMETER\]/);
    const list = await runCli(['job', 'list', '--json'], { env });
    expect((JSON.parse(list.stdout) as { jobs: unknown[] }).jobs).toEqual([]);
  });

  it('job cancel from another process stops a running job and removes its leftovers', async () => {
    const { dir, env, scratch, db } = await jobEnv();
    const clip = await makeClip(dir, 'long.mp4', { seconds: 30, size: '1280x720' });
    const child = startCli(
      ['job', 'submit', clip, '--preset', 'archive-hevc', '--param', 'speed=slow'],
      { env },
    );
    child.stdin!.end();
    const exited = new Promise<number | null>((r) => child.on('close', r));
    const job = await waitForJob(db, running);
    // FFmpeg is seen at work in the job's scratch folder, so the check after can fail.
    const seen = Date.now() + 20_000;
    while (processesWorkingIn(scratch).length === 0 && Date.now() < seen) {
      await new Promise((r) => setTimeout(r, 100));
    }
    expect(processesWorkingIn(scratch).length).toBeGreaterThan(0);
    const watch = startCli(['job', 'watch', job.id], { env });
    const watchOut: Buffer[] = [];
    watch.stdout!.on('data', (d: Buffer) => watchOut.push(d));
    watch.stdin!.end();
    const cancel = await runCli(['job', 'cancel', job.id], { env });
    expect(cancel.code, cancel.stderr).toBe(0);
    expect(await exited).toBe(8); // JOB_CANCELLED
    await new Promise((r) => watch.on('close', r));
    expect(Buffer.concat(watchOut).toString()).toMatch(/cancelled/);
    const after = await waitForJob(db, (j) => j.id === job.id);
    expect(after.state).toBe('cancelled');
    expect(await readdir(scratch)).toEqual([]);
    expect(processesWorkingIn(scratch)).toEqual([]);
  });

  it('after kill -9 mid-job, the next start cleans up and retries to success', async () => {
    const { dir, env, scratch, db } = await jobEnv();
    const clip = await makeClip(dir, 'tape.mp4', { seconds: 20, size: '640x360' });
    const child = startCli(
      ['job', 'submit', clip, '--preset', 'archive-hevc', '--param', 'speed=medium'],
      { env },
    );
    child.stdin!.end();
    const job = await waitForJob(db, running);
    child.kill('SIGKILL');
    await new Promise((r) => child.on('close', r));
    // The dead engine's row still says running; its FFmpeg loses its input and exits.
    expect((await waitForJob(db, (j) => j.id === job.id)).state).toBe('running');
    const deadline = Date.now() + 20_000;
    while (processesWorkingIn(scratch).length && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 200));
    }
    expect(processesWorkingIn(scratch)).toEqual([]);
    // The killed attempt left its scratch folder behind: recovery has something to clean.
    expect(await readdir(scratch)).toEqual([job.id]);

    const work = await runCli(['job', 'work', '--until-idle'], { env });
    expect(work.code, work.stderr).toBe(0);
    expect(work.stderr).toMatch(new RegExp(`Recovered job ${job.id}: queued`));
    const queue = new SqliteJobQueue(db);
    const final = await queue.get(job.id);
    const events = (await queue.events(job.id)).map((e) => `${e.kind}:${e.detail ?? ''}`);
    await queue.close();
    expect(final).toMatchObject({ state: 'succeeded', attempts: 2 });
    expect(events.some((e) => e.startsWith('retry:JOB_INTERRUPTED'))).toBe(true);
    expect(await readdir(scratch)).toEqual([]);
    const outputs = await readdir(join(env.KEEPSAKE_HOME, 'outputs'));
    expect(outputs).toEqual([job.id]);
  });
});
