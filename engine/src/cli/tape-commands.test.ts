// `keepsake tape …` through the real CLI on a generated tape (testing/tape-media.ts): the
// analysis finds what was planted, and a cut list in CSV becomes clips in a folder.

import { execFile } from 'node:child_process';
import { mkdir, mkdtemp, readFile, readdir, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ERROR_CODES } from '../core/errors';
import { locateFfmpeg } from '../ffmpeg/locate';
import { databasePath } from '../jobs/db';
import { parseServeConfig } from '../http/serve-config';
import { createPairingCode } from '../net/pairing';
import { startServe } from '../serve/serve';
import { filesContaining } from '../testing/marker';
import { testScratch } from '../testing/media';
import { cliVault, runCli, startCli } from '../testing/cli';
import { SqliteJobQueue } from '../jobs/sqlite-queue';
import { DEFAULT_SCENES, makeTape, plantedBoundaries } from '../testing/tape-media';

const run = promisify(execFile);
let tape: string;
// One tape for every test: freshDir's folders go after each test, this one after all.
let tapeDir: string;

beforeAll(async () => {
  tapeDir = await mkdtemp(join(tmpdir(), 'keepsake-tape-'));
  tape = await makeTape(tapeDir, 'christmas.ts');
}, 60_000);

afterAll(() => rm(tapeDir, { recursive: true, force: true }));

async function durationOf(path: string): Promise<number> {
  const { ffprobePath } = await locateFfmpeg();
  const { stdout } = await run(ffprobePath, [
    '-v',
    'error',
    '-show_entries',
    'format=duration',
    '-of',
    'csv=p=0',
    path,
  ]);
  return Number(stdout.trim());
}

describe('keepsake tape analyse', () => {
  it('--json finds the planted cuts, the field order and the noisy band', async () => {
    const { env } = await cliVault();
    const r = await runCli(['tape', 'analyse', tape, '--json', '-q'], { env });
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const a = JSON.parse(r.stdout) as {
      interlaced: boolean;
      fieldOrder: string;
      crop: { width: number; height: number; x: number; y: number };
      cuts: { at: number; confidence: number; reasons: string[] }[];
      qc: { hasAudio: boolean };
      durationSeconds: number;
    };
    expect(a).toMatchObject({ interlaced: true, fieldOrder: 'tff', qc: { hasAudio: true } });
    // The next clip starts where the picture comes back after a gap, or at a hard cut.
    const planted = plantedBoundaries(DEFAULT_SCENES).map((b) => b.end);
    expect(a.cuts).toHaveLength(planted.length);
    for (const [i, at] of planted.entries()) {
      expect(Math.abs(a.cuts[i]!.at - at)).toBeLessThanOrEqual(0.5);
      expect(a.cuts[i]!.confidence).toBeGreaterThan(0);
      expect(a.cuts[i]!.reasons.length).toBeGreaterThan(0);
    }
    // The 8 noisy rows at the bottom of the 720x576 picture are left out.
    expect(Math.abs(a.crop.height - 568)).toBeLessThanOrEqual(4);
    expect(Math.abs(a.crop.width - 720)).toBeLessThanOrEqual(4);
    expect(a.crop.y).toBeLessThanOrEqual(4);
    expect(a.durationSeconds).toBeCloseTo(33, 0);
  }, 120_000);

  it('says what it found in plain words', async () => {
    const { env } = await cliVault();
    const r = await runCli(['tape', 'analyse', tape, '-q'], { env });
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('Interlaced, top field first.');
    expect(r.stdout).toContain('Picture to keep: 720x568 from 0,0');
    expect(r.stdout).toMatch(/3 proposed cuts:\n {2}0:00:09 .*\n {2}0:00:19 .*\n {2}0:00:25 /);
    expect(r.stdout).toContain('No damage or problems found.');
  }, 120_000);

  it('refuses a paired server it does not know, before starting anything', async () => {
    const { env } = await cliVault();
    const r = await runCli(['tape', 'analyse', tape, '--remote', 'attic', '--json'], { env });
    expect(r.code).toBe(ERROR_CODES.USAGE.exit);
    expect(JSON.parse(r.stdout)).toMatchObject({ ok: false, code: 'USAGE' });
    expect(r.stderr).toContain('no paired server named "attic"');
  });
});

describe('keepsake tape analyse --remote', () => {
  it('analyses it on the paired server, which keeps none of it', async () => {
    const serverDir = await mkdtemp(join(tmpdir(), 'keepsake-tape-server-'));
    const server = await startServe({
      config: parseServeConfig({ port: 0 }),
      dataDir: serverDir,
      kek: randomBytes(32),
      scratch: await testScratch(),
      logError: () => undefined,
      worker: { pollMs: 50, heartbeatMs: 100 },
    });
    let closed = false;
    const close = async () => {
      if (!closed) await server.close();
      closed = true;
    };
    try {
      const { env } = await cliVault();
      const { code } = createPairingCode(server.db);
      const add = await runCli(['remote', 'add', server.url, '--code', code, '--name', 'attic'], {
        env,
      });
      expect(add.code, add.stderr).toBe(0);
      const r = await runCli(['tape', 'analyse', tape, '--remote', 'attic', '--json', '-q'], {
        env,
      });
      expect(r.stderr).toBe('');
      expect(r.code).toBe(0);
      const a = JSON.parse(r.stdout) as { fieldOrder: string; cuts: { at: number }[] };
      expect(a.fieldOrder).toBe('tff');
      expect(a.cuts.map((c) => Math.round(c.at))).toEqual([9, 19, 25]);
      const jobs = JSON.parse((await runCli(['job', 'list', '--json'], { env })).stdout) as {
        jobs: { notes: string[] }[];
      };
      expect(jobs.jobs[0]!.notes.join(' ')).toContain('ran on attic');
      // The server deleted its job; nothing of the analysis is left in the clear there.
      await close();
      expect(await filesContaining(serverDir, Buffer.from('"fieldOrder":"tff"'))).toEqual([]);
    } finally {
      await close();
      await rm(serverDir, { recursive: true, force: true });
    }
  }, 120_000);
});

describe('keepsake tape clips', () => {
  it('cuts a tape into dated clips in a folder, never replacing a file there', async () => {
    const { dir, env } = await cliVault();
    const cuts = join(dir, 'cuts.csv');
    await writeFile(
      cuts,
      'start,end,title,date\r\n' +
        '0,8,"Christmas, 1994",1994-12-25\r\n' +
        '9.5,17.5,Beach,1995-07\r\n' +
        '0:19,0:25,Grandpa’s birthday,\r\n',
    );
    const out = join(dir, 'clips');
    // Someone's file with the name the second clip would take.
    await mkdir(out);
    await writeFile(join(out, 'christmas clip 02.mkv'), 'mine');

    const r = await runCli(['tape', 'clips', tape, '--cuts', cuts, '--out', out, '--json', '-q'], {
      env,
    });
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const { clips } = JSON.parse(r.stdout) as {
      clips: {
        row: number;
        start: number;
        end: number;
        title: string | null;
        date: string | null;
        file: string;
      }[];
    };
    expect(
      clips.map(({ row, start, end, title, date }) => ({ row, start, end, title, date })),
    ).toEqual([
      { row: 2, start: 0, end: 8, title: 'Christmas, 1994', date: '1994-12-25' },
      { row: 3, start: 9.52, end: 17.52, title: 'Beach', date: '1995-07' },
      { row: 4, start: 19, end: 25, title: 'Grandpa’s birthday', date: null },
    ]);
    expect(clips.map((c) => c.file)).toEqual([
      join(out, 'christmas clip 01.mkv'),
      join(out, 'christmas clip 02 2.mkv'),
      join(out, 'christmas clip 03.mkv'),
    ]);
    expect(await readFile(join(out, 'christmas clip 02.mkv'), 'utf8')).toBe('mine');
    expect(await readdir(out)).toHaveLength(4);

    for (const c of clips) {
      expect(Math.abs((await durationOf(c.file)) - (c.end - c.start))).toBeLessThanOrEqual(0.08);
    }
    // A day alone is its noon, local time; a month alone its first day; no date: made now.
    const times = await Promise.all(clips.map((c) => stat(c.file).then((s) => s.mtimeMs)));
    expect(times[0]).toBe(new Date(1994, 11, 25, 12).getTime());
    expect(times[1]).toBe(new Date(1995, 6, 1, 12).getTime());
    expect(times[2]).toBeGreaterThan(Date.now() - 600_000);

    // Titles stay out of the queue's records (and so out of every FFmpeg command line).
    const db = databasePath(env.KEEPSAKE_HOME);
    for (const file of [db, `${db}-wal`]) {
      const bytes = await readFile(file).catch(() => Buffer.alloc(0));
      expect(bytes.includes('Christmas')).toBe(false);
    }
  }, 180_000);

  it('refuses a cut list that runs past the end of the tape, naming the row', async () => {
    const { dir, env } = await cliVault();
    const cuts = join(dir, 'cuts.csv');
    await writeFile(cuts, 'start,end\n0,8\n30,40\n');
    const out = join(dir, 'clips');
    const r = await runCli(['tape', 'clips', tape, '--cuts', cuts, '--out', out], { env });
    expect(r.code).toBe(ERROR_CODES.CUT_LIST_INVALID.exit);
    expect(r.stderr).toMatch(/row 3 ends at 0:40, after the tape ends/);
    await expect(stat(out)).rejects.toThrow();
    const jobs = await runCli(['job', 'list', '--json'], { env });
    expect(JSON.parse(jobs.stdout)).toMatchObject({ jobs: [] });
  }, 120_000);

  it('Ctrl-C cancels every clip still to make, and writes none', async () => {
    const { dir, env } = await cliVault();
    const cuts = join(dir, 'cuts.csv');
    await writeFile(cuts, 'start,end\n0,8\n9.5,17.5\n19,25\n25,33\n');
    const out = join(dir, 'clips');
    const child = startCli(['tape', 'clips', tape, '--cuts', cuts, '--out', out, '--json'], {
      env,
    });
    child.stdin!.end();
    const exited = new Promise<number | null>((r) => child.on('close', r));
    const db = databasePath(env.KEEPSAKE_HOME);
    const listed = async () => {
      const queue = new SqliteJobQueue(db);
      try {
        return await queue.list();
      } finally {
        await queue.close();
      }
    };
    const until = Date.now() + 60_000;
    while (!(await listed().catch(() => [])).some((j) => j.state === 'running')) {
      if (Date.now() > until) throw new Error('no clip started');
      await new Promise((r) => setTimeout(r, 100));
    }
    child.kill('SIGINT');
    expect(await exited).toBe(ERROR_CODES.JOB_CANCELLED.exit);
    const jobs = await listed();
    expect(jobs).toHaveLength(4);
    expect(jobs.every((j) => j.state === 'cancelled')).toBe(true);
    expect(await readdir(out).catch(() => [])).toEqual([]);
  }, 120_000);
});
