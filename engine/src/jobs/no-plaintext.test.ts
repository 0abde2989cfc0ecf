// "No decrypted media on any disk", proven where it is hardest: a scratch folder on a
// real disk (not tmpfs), as macOS and Windows have, and outputs large enough to be
// spooled. A job of every preset, a cancel and a kill -9 mid-job; then the scratch and
// the data folder are searched for a marker the input carries and for byte runs of
// every output's plaintext. The search is shown to find both in a plaintext copy.

import { randomBytes } from 'node:crypto';
import { mkdir, readFile, readdir, readlink, statfs, writeFile } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { PRESETS } from '../presets';
import { cliVault, runCli, startCli } from '../testing/cli';
import { filesContaining } from '../testing/marker';
import { makeClip } from '../testing/media';
import { TEST_SCRYPT, freshDir } from '../testing/tmp';
import { encryptFile } from '../vault/file-ops';
import { createVault, type Vault } from '../vault/keyring';
import { VaultFile } from '../vault/vault-file';
import { databasePath } from './db';
import { openJobEngine, type JobEngine } from './job-engine';
import type { Job, JobSpec } from './queue';
import { SqliteJobQueue } from './sqlite-queue';
import { submitJob } from './worker';

const RAM_FILESYSTEMS = new Set([0x01021994, 0x858458f6]); // tmpfs, ramfs

/** The quickest settings, so that the slow encoders finish a 2 s clip in seconds. */
const FAST: Record<string, Record<string, unknown>> = {
  'archive-hevc': { speed: 'ultrafast' },
  'archive-av1': { speed: 12 },
};
/** Presets whose output keeps the source's tags, so the marker travels into it. */
const KEEPS_TAGS = new Set(['archive-hevc', 'archive-av1', 'web-h264', 'vhs-restore', 'remux']);

/** A folder on a real disk: the point of these tests. */
async function diskDir(): Promise<string> {
  const dir = await freshDir();
  const type = (await statfs(dir)).type;
  if (RAM_FILESYSTEMS.has(type)) {
    throw new Error(
      `${dir} is RAM-backed (statfs type ${type.toString(16)}); these tests need a disk`,
    );
  }
  return dir;
}

async function plaintextOf(path: string, vault: Vault): Promise<Buffer> {
  const file = await VaultFile.open(path, { vault });
  try {
    return await file.read(0, file.size);
  } finally {
    await file.close();
  }
}

/** Three 32-byte runs from inside a plaintext: found on disk only if it was written there. */
function needlesOf(plain: Buffer): Buffer[] {
  if (plain.length < 256) return [];
  return [0.25, 0.5, 0.75].map((at) => {
    const start = Math.floor(plain.length * at);
    return Buffer.from(plain.subarray(start, start + 32));
  });
}

/**
 * Files under the folders holding any needle. A file that vanishes between listing and
 * reading (a spool being sealed while the watcher looks) is skipped, not an error.
 */
async function search(folders: string[], needles: Buffer[]): Promise<string[]> {
  const hits: string[] = [];
  for (const folder of folders) {
    const entries = await readdir(folder, { recursive: true, withFileTypes: true }).catch(() => []);
    for (const entry of entries) {
      if (!entry.isFile()) continue;
      const path = join(entry.parentPath, entry.name);
      const bytes = await readFile(path).catch(() => undefined);
      if (bytes && needles.some((needle) => bytes.includes(needle))) hits.push(path);
    }
  }
  return hits;
}

function finishedOnce(engine: JobEngine, id: string): Promise<Job> {
  return new Promise((resolve) => {
    const on = (j: Job) => {
      if (j.id !== id) return;
      engine.worker.off('finished', on);
      resolve(j);
    };
    engine.worker.on('finished', on);
  });
}

async function runJob(engine: JobEngine, spec: Omit<JobSpec, 'outputDir'>): Promise<Job> {
  const job = await submitJob(engine.queue, { ...spec, outputDir: engine.outputRoot });
  const finished = finishedOnce(engine, job.id);
  if (engine.worker.activeJobs.length === 0) await engine.worker.start();
  return finished;
}

/** Waits until `test` holds (polling), or fails after `ms`. */
async function until(test: () => boolean | Promise<boolean>, ms: number, what: string) {
  const deadline = Date.now() + ms;
  while (!(await test())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** Processes whose working folder is inside `dir` (FFmpeg runs in the job's scratch). */
async function processesWorkingIn(dir: string): Promise<number[]> {
  const pids = (await readdir('/proc')).filter((n) => /^\d+$/.test(n));
  const found: number[] = [];
  for (const pid of pids) {
    const cwd = await readlink(`/proc/${pid}/cwd`).catch(() => '');
    if (cwd.startsWith(dir)) found.push(Number(pid));
  }
  return found;
}

/** Files of a folder tree, relative names. */
async function filesUnder(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { recursive: true, withFileTypes: true }).catch(() => []);
  return entries.filter((e) => e.isFile()).map((e) => join(e.parentPath, e.name).slice(dir.length));
}

describe('no decrypted media on a disk-backed scratch', () => {
  it('every preset, then a cancel mid-job: neither the marker nor any output is on disk', async () => {
    const disk = await diskDir();
    const plainDir = await freshDir(); // the plaintext clips: outside the searched folders
    const dataDir = join(disk, 'data');
    const scratchBase = join(disk, 'scratch');
    const { vault } = await createVault(join(dataDir, 'vault'), 'pw', {
      scrypt: TEST_SCRYPT,
      recovery: false,
    });
    // No allowDisk and no KEEPSAKE_SCRATCH: a disk scratch is simply accepted now.
    const engine = await openJobEngine({
      dataDir,
      keys: { vault },
      scratch: { configured: scratchBase, env: {} },
      concurrency: 1,
      worker: { pollMs: 50, heartbeatMs: 100 },
    });
    // Outputs above 64 KiB go through the encrypted spool on the disk, not memory only.
    engine.env.sinkMemoryLimit = 64 * 1024;
    const scratchRoot = join(scratchBase, `keepsake-${process.getuid!()}`);
    const searched = [dataDir, scratchBase];
    try {
      const marker = Buffer.from(`KSDISK${randomBytes(10).toString('hex')}`);
      const clip = await makeClip(plainDir, 'marked.mp4', { comment: marker.toString() });
      const still = await makeClip(plainDir, 'photo.png', { still: true });
      await mkdir(join(dataDir, 'inbox'));
      const inputs = {
        video: join(dataDir, 'inbox', 'marked.mp4.ksv'),
        image: join(dataDir, 'inbox', 'photo.png.ksv'),
      };
      await encryptFile(clip, inputs.video, vault);
      await encryptFile(still, inputs.image, vault);

      // Watch while jobs run, too: plaintext deleted after use would escape a search at the end.
      const seenWhileRunning: string[] = [];
      let watching = true;
      const watcher = (async () => {
        while (watching) {
          seenWhileRunning.push(...(await search(searched, [marker])));
          await new Promise((r) => setTimeout(r, 100));
        }
      })();

      const needles: Buffer[] = [marker];
      const ran: string[] = [];
      let control: { plain: Buffer; name: string } | undefined;
      for (const preset of PRESETS) {
        const job = await runJob(engine, {
          preset: preset.name,
          params: FAST[preset.name] ?? {},
          input: { kind: 'vault', path: inputs[preset.accepts] },
        });
        if (job.state === 'failed' && job.lastError?.code === 'FEATURE_UNAVAILABLE') continue;
        expect(job.state, `${preset.name}: ${job.lastError?.message}`).toBe('succeeded');
        ran.push(preset.name);
        for (const output of job.outputs) {
          if (output.name.endsWith('.m3u8')) continue;
          const plain = await plaintextOf(output.path, vault);
          needles.push(...needlesOf(plain));
          if (KEEPS_TAGS.has(preset.name) && !output.name.endsWith('.jpg')) {
            // The marker really travels into this output, so finding none means something.
            expect(plain.includes(marker), `${preset.name} ${output.name} keeps the tag`).toBe(
              true,
            );
            control ??= { plain, name: output.name };
          }
        }
        expect(await filesUnder(scratchRoot), preset.name).toEqual([]);
      }
      expect(ran).toEqual(expect.arrayContaining(['archive-hevc', 'web-h264', 'hls-playback']));
      expect(ran).toEqual(expect.arrayContaining(['thumbnails', 'remux', 'vhs-restore']));

      // A cancel while an output is being spooled.
      const long = await makeClip(plainDir, 'long.mp4', {
        seconds: 10,
        size: '640x360',
        comment: marker.toString(),
        outputArgs: ['-vf', 'noise=alls=60:allf=t+u'],
      });
      const longInput = join(dataDir, 'inbox', 'long.mp4.ksv');
      await encryptFile(long, longInput, vault);
      const job = await submitJob(engine.queue, {
        preset: 'archive-hevc',
        params: { speed: 'ultrafast', crf: 10 },
        input: { kind: 'vault', path: longInput },
        outputDir: engine.outputRoot,
      });
      const finished = finishedOnce(engine, job.id);
      const spool = join(engine.outputRoot, `.${job.id}.partial`, '.spool');
      await until(async () => (await readdir(spool).catch(() => [])).length > 0, 60_000, 'a spool');
      await engine.worker.cancel(job.id);
      expect(await finished).toMatchObject({ state: 'cancelled' });
      expect(existsSync(join(engine.outputRoot, `.${job.id}.partial`))).toBe(false);
      expect(await filesUnder(scratchRoot)).toEqual([]);

      watching = false;
      await watcher;
      expect(seenWhileRunning).toEqual([]);
      await engine.close();
      expect(await search(searched, needles)).toEqual([]);

      // The search can fail: a plaintext copy of an output is found, marker and runs alike.
      const copy = join(dataDir, 'plain-copy.bin');
      await writeFile(copy, control!.plain);
      expect(await filesContaining(dataDir, marker)).toEqual([copy]);
      for (const needle of needlesOf(control!.plain)) {
        expect(await search([dataDir], [needle])).toEqual([copy]);
      }
    } finally {
      await engine.close();
    }
  });

  it('kill -9 of a worker mid-job leaves only ciphertext, removed when the job is retried', async () => {
    const disk = await diskDir();
    const { dir, env } = await cliVault();
    const scratchBase = join(disk, 'scratch');
    // A disk scratch, and nothing telling the CLI to allow it.
    const cliEnv = { ...env, KEEPSAKE_SCRATCH: scratchBase };
    const home = env.KEEPSAKE_HOME;
    const marker = Buffer.from(`KSKILL${randomBytes(10).toString('hex')}`);
    // Noise: large outputs, so the output is spooled (past the sink's memory limit).
    const clip = await makeClip(dir, 'tape.mp4', {
      seconds: 10,
      size: '640x360',
      comment: marker.toString(),
      outputArgs: ['-vf', 'noise=alls=60:allf=t+u'],
    });
    const input = join(home, 'tape.mp4.ksv');
    const enc = await runCli(['encrypt', clip, input], { env: cliEnv });
    expect(enc.code, enc.stderr).toBe(0);
    const child = startCli(
      [
        'job',
        'submit',
        input,
        '--preset',
        'archive-hevc',
        '--param',
        'speed=ultrafast',
        '--param',
        'crf=10',
      ],
      { env: cliEnv },
    );
    child.stdin!.end();
    const outputs = join(home, 'outputs');
    let spooled: string[] = [];
    await until(
      async () => {
        const names = await filesUnder(outputs);
        spooled = names.filter((n) => n.includes('/.spool/'));
        return spooled.length > 0;
      },
      60_000,
      'a spool file',
    );
    child.kill('SIGKILL');
    await new Promise((r) => child.on('close', r));
    // The killed engine's FFmpeg loses its input and output and exits.
    const scratchRoot = join(scratchBase, `keepsake-${process.getuid!()}`);
    await until(
      async () => (await processesWorkingIn(scratchRoot)).length === 0,
      30_000,
      'FFmpeg to exit',
    );

    // What the kill left: the spool (ciphertext under a key that died with the engine)
    // and the job's empty working folder; neither holds the marker.
    expect((await filesUnder(outputs)).length).toBeGreaterThan(0);
    expect(await filesUnder(scratchRoot)).toEqual([]);
    expect(await search([home, scratchBase], [marker])).toEqual([]);

    // The next start recovers the job, cleans the leftovers and runs it to success.
    const work = await runCli(['job', 'work', '--until-idle'], { env: cliEnv });
    expect(work.code, work.stderr).toBe(0);
    const queue = new SqliteJobQueue(databasePath(home));
    const jobs = await queue.list();
    await queue.close();
    expect(jobs).toHaveLength(1);
    expect(jobs[0]).toMatchObject({ state: 'succeeded', attempts: 2 });
    expect(
      (await filesUnder(outputs)).filter((n) => n.includes('.partial') || n.includes('.spool')),
    ).toEqual([]);
    expect(await readdir(scratchRoot)).toEqual([]);
    expect(await search([home, scratchBase], [marker])).toEqual([]);
  });
});
