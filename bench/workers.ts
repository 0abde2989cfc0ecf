// npm run bench:workers — a pool of encoding workers on one machine, against itself.
//
//   A real `keepsake serve` (compiled engine) with its queue on BullMQ in a real
//   redis-server on a free port, running no job itself (concurrency 0), and real
//   `keepsake worker` processes paired with it, each limited to one FFmpeg thread.
//   1. BENCH_JOBS (default 8) web-h264 480p copies of a generated BENCH_CLIP_SECONDS
//      (default 20 s) 480p clip, submitted at once with one worker: jobs per minute;
//   2. the same with two workers: jobs per minute, and the ratio to (1) (target >= 1.8);
//   3. one more job; the worker running it is killed (SIGKILL) once it runs: the time
//      until it runs on the other worker, with default settings (target < 35 s);
//   4. the peak RSS of the coordinator and of each worker process (their FFmpeg
//      children not included).
//
// Run it on an otherwise idle machine with at least two free cores: with fewer, two
// one-thread workers cannot run twice as fast as one.

import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { RemoteClient } from '../engine/src/net/client';
import { pairWithServer } from '../engine/src/net/pair-client';
import { encryptFile } from '../engine/src/vault/file-ops';
import { createVault, jobOutputVault } from '../engine/src/vault/keyring';
import { VaultFile } from '../engine/src/vault/vault-file';

const root = fileURLToPath(new URL('..', import.meta.url));
const CLI = join(root, 'engine/bin/keepsake.mjs');
const dir = resolve(process.env.BENCH_DIR ?? join(root, 'bench/out/workers'));
const JOBS = Number(process.env.BENCH_JOBS ?? 8);
const CLIP_SECONDS = Number(process.env.BENCH_CLIP_SECONDS ?? 20);
const REDIS = ['/usr/bin/redis-server', '/usr/local/bin/redis-server'].find((p) => {
  try {
    readFileSync(p);
    return true;
  } catch {
    return false;
  }
});

function freePort(): Promise<number> {
  return new Promise((resolvePort, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolvePort(port));
    });
  });
}

function run(cmd: string, args: string[], env: NodeJS.ProcessEnv = process.env): Promise<string> {
  return new Promise((resolveRun, reject) => {
    const child = spawn(cmd, args, { env, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr.on('data', (d: Buffer) => (err += d.toString()));
    child.on('close', (code) =>
      code === 0 ? resolveRun(out) : reject(new Error(`${cmd} ${args.join(' ')}: ${err}`)),
    );
  });
}

/** Peak RSS (VmHWM) of each process, sampled until `stop`, in MB. */
class PeakRss {
  private readonly peaks = new Map<string, number>();
  private readonly pids = new Map<string, number>();
  private readonly timer = setInterval(() => this.sample(), 200);
  watch(name: string, pid: number | undefined): void {
    if (pid) this.pids.set(name, pid);
  }
  sample(): void {
    for (const [name, pid] of this.pids) {
      try {
        const m = /VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
        if (m)
          this.peaks.set(name, Math.max(this.peaks.get(name) ?? 0, (Number(m[1]) * 1024) / 1e6));
      } catch {
        /* gone */
      }
    }
  }
  stop(): Map<string, number> {
    this.sample();
    clearInterval(this.timer);
    return this.peaks;
  }
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function main(): Promise<void> {
  if (!REDIS) throw new Error('redis-server is not installed (apt-get install redis-server)');
  await rm(dir, { recursive: true, force: true });
  await mkdir(dir, { recursive: true });
  // The compiled engine, as installed (a stale build would run the sources through tsx).
  const build = spawnSync(process.execPath, [join(root, 'engine/scripts/build.mjs')], {
    stdio: 'inherit',
  });
  if (build.status !== 0) throw new Error('engine build failed');

  const children: ChildProcess[] = [];
  const peaks = new PeakRss();
  const stopAll = async () => {
    for (const child of children.reverse()) {
      if (child.exitCode !== null || child.signalCode !== null) continue;
      const exited = new Promise((r) => child.once('exit', r));
      child.kill('SIGTERM');
      await Promise.race([exited, sleep(10_000)]);
    }
  };
  try {
    // Redis, private to the coordinator, with nothing saved.
    const redisPort = await freePort();
    await mkdir(join(dir, 'redis'));
    const redis = spawn(
      REDIS,
      [
        '--port',
        String(redisPort),
        '--bind',
        '127.0.0.1',
        '--save',
        '',
        '--appendonly',
        'no',
        '--dir',
        join(dir, 'redis'),
      ],
      { stdio: 'ignore' },
    );
    children.push(redis);

    // The coordinator: BullMQ queue, runs no job itself.
    const serveDir = join(dir, 'serve');
    await mkdir(serveDir, { mode: 0o700 });
    const kek = join(dir, 'kek');
    await writeFile(kek, randomBytes(32).toString('base64'), { mode: 0o600 });
    const port = await freePort();
    const config = join(dir, 'serve.json');
    await writeFile(
      config,
      JSON.stringify({
        host: '127.0.0.1',
        port,
        dataDir: serveDir,
        concurrency: 0,
        queue: { redis: `redis://127.0.0.1:${redisPort}` },
      }),
    );
    const env = { ...process.env, KEEPSAKE_KEK_FILE: kek };
    for (let i = 0; ; i++) {
      try {
        await run(process.execPath, [CLI, 'validate', '-c', config], env);
        break;
      } catch (err) {
        if (i > 50) throw err; // Redis not up yet
        await sleep(100);
      }
    }
    const serve = spawn(process.execPath, [CLI, 'serve', '-c', config], {
      env,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    children.push(serve);
    peaks.watch('coordinator', serve.pid);
    let serveOut = '';
    const url = await new Promise<string>((resolveUrl, reject) => {
      const timer = setTimeout(() => reject(new Error(`serve not ready: ${serveOut}`)), 60_000);
      const onData = (d: Buffer) => {
        serveOut += d.toString();
        const m = /Keepsake server at (https:\/\/\S+)/.exec(serveOut);
        if (m?.[1]) {
          clearTimeout(timer);
          resolveUrl(m[1]);
        }
      };
      serve.stdout.on('data', onData);
      serve.stderr.on('data', onData);
      serve.once('exit', () => reject(new Error(`serve exited: ${serveOut}`)));
    });
    const code = async (role: 'client' | 'worker') =>
      (
        JSON.parse(
          await run(process.execPath, [CLI, '--json', 'pair', '-c', config, '--role', role], env),
        ) as { code: string }
      ).code;

    // Workers: paired by one-time codes, one FFmpeg thread each, default heartbeats.
    const workers: { name: string; child: ChildProcess }[] = [];
    const startWorker = async (name: string) => {
      const file = join(dir, `${name}.json`);
      const home = join(dir, name);
      const wenv = { ...process.env, KEEPSAKE_HOME: home };
      await run(
        process.execPath,
        [CLI, 'worker', 'pair', url, '--code', await code('worker'), '-o', file, '--name', name],
        wenv,
      );
      const paired = JSON.parse(await readFile(file, 'utf8')) as Record<string, unknown>;
      await writeFile(file, JSON.stringify({ ...paired, threads: 1 }), { mode: 0o600 });
      const child = spawn(process.execPath, [CLI, 'worker', '-c', file], {
        env: wenv,
        stdio: 'ignore',
      });
      children.push(child);
      peaks.watch(name, child.pid);
      workers.push({ name, child });
    };

    // The desktop: a vault, the clip sealed in it, paired as a client.
    const remote = await pairWithServer(url, await code('client'), 'bench-desktop', 'bench');
    const client = new RemoteClient(remote);
    const health = () => client.health();
    const { vault } = await createVault(join(dir, 'desktop-vault'), 'bench password', {
      recovery: false,
    });
    /** A generated 480p clip, sealed in the vault: its path and its file key. */
    const sealedClip = async (name: string, seconds: number) => {
      const clip = join(dir, `${name}.mp4`);
      await run('ffmpeg', [
        '-v',
        'error',
        '-f',
        'lavfi',
        '-i',
        `testsrc2=size=854x480:rate=30:duration=${seconds}`,
        '-f',
        'lavfi',
        '-i',
        `sine=frequency=440:duration=${seconds}`,
        '-c:v',
        'libx264',
        '-preset',
        'veryfast',
        '-pix_fmt',
        'yuv420p',
        '-c:a',
        'aac',
        '-shortest',
        clip,
      ]);
      const sealed = join(dir, `${name}.ksv`);
      await encryptFile(clip, sealed, vault);
      const file = await VaultFile.open(sealed, { vault });
      const key = file.fileKey.toString('base64');
      await file.close();
      return { sealed, key };
    };
    const short = await sealedClip('clip', CLIP_SECONDS);
    // Long enough that the killed worker is still at it, whatever the machine.
    const long = await sealedClip('long-clip', Math.max(60, CLIP_SECONDS * 3));
    const out = jobOutputVault(vault, 'bench-workers');
    const submit = async (input = short) => {
      const upload = await client.uploadFile(input.sealed);
      return (
        await client.createJob({
          input: { upload: upload.id },
          preset: 'web-h264',
          params: { maxHeight: '480' },
          mode: 'automated',
          priority: 0,
          thorough: false,
          keys: {
            input: input.key,
            output: {
              vaultId: out.vaultId,
              keyId: out.masterKeyId,
              key: out.masterKey.toString('base64'),
            },
          },
        })
      ).id;
    };
    const batch = async (label: string): Promise<number> => {
      // From the first upload to the last job done, as a family would wait for them.
      const started = Date.now();
      const ids: string[] = [];
      for (let i = 0; i < JOBS; i++) ids.push(await submit());
      // One at a time: they run at once anyway, and eight clients polling together
      // would meet the server's per-credential rate limit.
      const done = [];
      for (const id of ids) done.push(await client.waitFor(id, undefined, 1000));
      const seconds = (Date.now() - started) / 1000;
      const failed = done.filter((j) => j.state !== 'succeeded');
      if (failed.length)
        throw new Error(
          `${label}: ${failed.length} jobs did not succeed: ${JSON.stringify(failed[0]?.lastError)}`,
        );
      const perMinute = (JOBS * 60) / seconds;
      console.log(
        `${label}: ${JOBS} jobs in ${seconds.toFixed(1)} s = ${perMinute.toFixed(2)} jobs/min`,
      );
      return perMinute;
    };
    const announced = async (n: number) => {
      for (;;) {
        if (((await health()).workers ?? []).length >= n) return;
        await sleep(200);
      }
    };

    await startWorker('worker-1');
    await announced(1);
    const one = await batch('1 worker ');
    await startWorker('worker-2');
    await announced(2);
    const two = await batch('2 workers');
    console.log(`throughput ratio, 2 workers / 1: ${(two / one).toFixed(2)} (target >= 1.8)`);

    // kill -9 of the worker running a job, to the job running on the other one.
    const id = await submit(long);
    let holder: string | undefined;
    for (const deadline = Date.now() + 120_000; !holder; await sleep(100)) {
      if (Date.now() > deadline) throw new Error('no worker took the job');
      holder = ((await health()).workers ?? []).find((w) => w.running.includes(id))?.name;
    }
    const doomed = workers.find((w) => w.name === holder)!;
    const before = (await client.job(id)).startedAt ?? 0;
    const killedAt = Date.now();
    doomed.child.kill('SIGKILL');
    let queuedAt: number | undefined;
    for (;;) {
      const view = await client.job(id);
      if (view.state === 'queued') queuedAt ??= Date.now();
      if (view.state === 'running' && (view.startedAt ?? 0) > Math.max(before, killedAt)) break;
      if (Date.now() - killedAt > 120_000) throw new Error('the job never ran on the other worker');
      await sleep(100);
    }
    const handover = (Date.now() - killedAt) / 1000;
    console.log(
      `kill -9 of ${holder} to its job running on the other worker: ${handover.toFixed(1)} s (target < 35 s)`,
    );
    if (queuedAt !== undefined) {
      console.log(
        `  (back in the queue after ${((queuedAt - killedAt) / 1000).toFixed(1)} s: the lock ran out and BullMQ's check found it)`,
      );
    }
    const last = await client.waitFor(id, undefined, 500);
    if (last.state !== 'succeeded') throw new Error(`the handed-on job ended ${last.state}`);

    const rss = peaks.stop();
    const mb = (name: string) => `${(rss.get(name) ?? 0).toFixed(0)} MB`;
    console.log(
      `peak RSS: coordinator ${mb('coordinator')}, worker-1 ${mb('worker-1')}, worker-2 ${mb('worker-2')} (FFmpeg children not included)`,
    );
    await client.close();
  } finally {
    peaks.stop();
    await stopAll();
  }
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
