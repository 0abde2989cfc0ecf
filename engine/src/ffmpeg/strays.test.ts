// FFmpeg must not outlive the engine: a real engine (the CLI running a job) killed with
// SIGKILL takes its FFmpeg with it, and where that cannot happen the next start kills
// what a dead engine left (and only that) and cleans its working folder.

import { spawn, type ChildProcess } from 'node:child_process';
import { mkdir, readFile, readdir, readlink, writeFile } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { cliVault, runCli, startCli } from '../testing/cli';
import { openJobEngine } from '../jobs/job-engine';
import { makeClip, testScratch } from '../testing/media';
import { TEST_SCRYPT, freshDir } from '../testing/tmp';
import { createVault } from '../vault/keyring';
import { openScratch } from './scratch';
import { locateFfmpeg } from './locate';
import { processStart, reapStrays } from './strays';
import { diesWithEngine } from './tool-process';

const isLinux = process.platform === 'linux';

async function until(test: () => boolean | Promise<boolean>, ms: number, what: string) {
  const deadline = Date.now() + ms;
  while (!(await test())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

/** FFmpeg processes whose working folder is inside `dir` (FFmpeg runs in the job's scratch). */
async function ffmpegWorkingIn(dir: string): Promise<number[]> {
  const found: number[] = [];
  for (const pid of (await readdir('/proc')).filter((n) => /^\d+$/.test(n))) {
    const cwd = await readlink(`/proc/${pid}/cwd`).catch(() => '');
    const exe = await readlink(`/proc/${pid}/exe`).catch(() => '');
    if (cwd.startsWith(dir) && /ffmpeg$/.test(exe)) found.push(Number(pid));
  }
  return found;
}

const alive = (pid: number) => existsSync(`/proc/${pid}`) && processStart(pid) !== undefined;

/** Whether `pid` is gone or a zombie (dead, not yet reaped by its parent). */
async function dead(pid: number): Promise<boolean> {
  const stat = await readFile(`/proc/${pid}/stat`, 'latin1').catch(() => '');
  return stat === '' || stat.slice(stat.lastIndexOf(')') + 2).startsWith('Z');
}

describe('FFmpeg dies with the engine', () => {
  // Linux-only: the parent-death signal is Linux's (setpriv); other systems rely on the
  // stray registry tested below.
  it.skipIf(!isLinux || !diesWithEngine())(
    'a real engine killed with SIGKILL mid-job takes its FFmpeg with it at once',
    async () => {
      const { dir, env } = await cliVault();
      const scratchBase = join(dir, 'scratch');
      const cliEnv = { ...env, KEEPSAKE_SCRATCH: scratchBase };
      const clip = await makeClip(dir, 'long.mp4', { seconds: 20, size: '640x360' });
      const input = join(env.KEEPSAKE_HOME!, 'long.mp4.ksv');
      expect((await runCli(['encrypt', clip, input], { env: cliEnv })).code).toBe(0);
      const engine: ChildProcess = startCli(
        ['job', 'submit', input, '--preset', 'archive-hevc', '--param', 'speed=slow'],
        { env: cliEnv },
      );
      engine.stdin!.end();
      const scratchRoot = join(scratchBase, `keepsake-${process.getuid!()}`);
      let pids: number[] = [];
      await until(
        async () => (pids = await ffmpegWorkingIn(scratchRoot)).length > 0,
        60_000,
        'FFmpeg to start',
      );
      // Mid-job: FFmpeg has been encoding for a moment.
      await new Promise((r) => setTimeout(r, 1000));
      expect(pids.every(alive)).toBe(true);
      // The engine also wrote its FFmpeg down, for engines that start after it.
      const registry = join(env.KEEPSAKE_HOME!, 'cache', 'children', `${engine.pid}.json`);
      const written = JSON.parse(await readFile(registry, 'utf8')) as {
        children: { pid: number }[];
      };
      expect(written.children.map((c) => c.pid)).toEqual(expect.arrayContaining(pids));
      engine.kill('SIGKILL');
      await new Promise((r) => engine.on('close', r));
      const killedAt = Date.now();
      // The kernel kills it as the engine dies; without that, FFmpeg (x265 holding frames
      // in its lookahead) would go on encoding for seconds.
      await until(
        async () => (await Promise.all(pids.map(dead))).every(Boolean),
        5000,
        'FFmpeg to die',
      );
      const took = Date.now() - killedAt;
      expect(took).toBeLessThan(500);
    },
    180_000,
  );
});

describe('reapStrays', () => {
  it.skipIf(!isLinux)(
    'kills what a dead engine left running and cleans its folder; spares live engines and reused pids',
    async () => {
      const dir = await freshDir();
      const registry = join(dir, 'children');
      const scratchRoot = join(dir, 'scratch');
      await mkdir(registry, { recursive: true });
      const { ffmpegPath } = await locateFfmpeg();
      const started: ChildProcess[] = [];
      const ffmpeg = async (name: string) => {
        const cwd = join(scratchRoot, name);
        await mkdir(cwd, { recursive: true });
        // Runs until killed, and touches no socket: nothing else would stop it.
        const child = spawn(
          ffmpegPath,
          ['-v', 'error', '-re', '-f', 'lavfi', '-i', 'testsrc', '-f', 'null', '-'],
          { cwd, stdio: 'ignore' },
        );
        started.push(child);
        await until(() => processStart(child.pid!) !== undefined, 5000, 'FFmpeg to start');
        return { pid: child.pid!, start: processStart(child.pid!)!, tool: ffmpegPath, cwd };
      };
      // A dead engine: a process that has exited, written down while it ran.
      const gone = spawn('sleep', ['0.2']);
      await until(() => processStart(gone.pid!) !== undefined, 5000, 'sleep to start');
      const goneStart = processStart(gone.pid!)!;
      await new Promise((r) => gone.on('close', r));
      // A live engine (another engine running now, e.g. the desktop beside the CLI).
      const live = spawn('sleep', ['60']);
      started.push(live);
      await until(() => processStart(live.pid!) !== undefined, 5000, 'sleep to start');

      try {
        const stray = await ffmpeg('stray-job');
        const kept = await ffmpeg('live-job');
        const reused = await ffmpeg('reused-job');
        await writeFile(
          join(registry, `${gone.pid}.json`),
          JSON.stringify({
            pid: gone.pid,
            start: goneStart,
            // The last one's pid now names a process started at another time.
            children: [stray, { ...reused, start: String(Number(reused.start) - 7) }],
          }),
        );
        await writeFile(
          join(registry, `${live.pid}.json`),
          JSON.stringify({ pid: live.pid, start: processStart(live.pid!), children: [kept] }),
        );

        const report = await reapStrays(registry, scratchRoot);
        expect(report.killed).toEqual([stray.pid]);
        await until(() => dead(stray.pid), 5000, 'the stray to die');
        expect(alive(kept.pid) && alive(reused.pid)).toBe(true);
        expect(existsSync(stray.cwd)).toBe(false);
        expect(existsSync(kept.cwd)).toBe(true);
        // The dead engine's record is done with; the live one's stays.
        expect((await readdir(registry)).sort()).toEqual([`${live.pid}.json`]);
      } finally {
        for (const child of started) child.kill('SIGKILL');
      }
    },
    30_000,
  );
});

describe('an engine that starts', () => {
  it.skipIf(!isLinux)(
    'kills the FFmpeg a dead engine of its data folder left, and wipes its job folder',
    async () => {
      const dir = await freshDir();
      const dataDir = join(dir, 'data');
      const { vault } = await createVault(join(dataDir, 'vault'), 'pw', {
        scrypt: TEST_SCRYPT,
        recovery: false,
      });
      const scratch = await testScratch();
      const jobDir = join((await openScratch(scratch)).root, 'jdeadengine01');
      await mkdir(jobDir);
      const { ffmpegPath } = await locateFfmpeg();
      // What a dead engine's FFmpeg looks like where nothing killed it (no setpriv).
      const stray = spawn(
        ffmpegPath,
        ['-v', 'error', '-re', '-f', 'lavfi', '-i', 'testsrc', '-f', 'null', '-'],
        { cwd: jobDir, stdio: 'ignore' },
      );
      try {
        await until(() => processStart(stray.pid!) !== undefined, 5000, 'FFmpeg to start');
        const gone = spawn('true');
        await new Promise((r) => gone.on('close', r));
        const registry = join(dataDir, 'cache', 'children');
        await mkdir(registry, { recursive: true });
        await writeFile(
          join(registry, `${gone.pid}.json`),
          JSON.stringify({
            pid: gone.pid,
            start: '1',
            children: [
              { pid: stray.pid, start: processStart(stray.pid!), tool: ffmpegPath, cwd: jobDir },
            ],
          }),
        );
        const engine = await openJobEngine({ dataDir, keys: { vault }, scratch });
        try {
          await until(() => dead(stray.pid!), 5000, 'the stray to die');
          expect(existsSync(jobDir)).toBe(false);
          // Only this engine's own record is left.
          expect(await readdir(registry)).toEqual([`${process.pid}.json`]);
        } finally {
          await engine.close();
        }
      } finally {
        stray.kill('SIGKILL');
      }
    },
    30_000,
  );
});
