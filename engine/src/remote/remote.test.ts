// Two real engines on loopback: a "desktop" engine with a vault, and a "remote" hardened
// server. They pair with a one-time code, the desktop dispatches a job, and the result
// comes back verified and decryptable by the desktop alone; the server keeps nothing.

import { execFileSync } from 'node:child_process';
import { writeFile } from 'node:fs/promises';
import { randomBytes } from 'node:crypto';
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { request } from 'undici';
import { afterEach, describe, expect, it } from 'vitest';
import { isKeepsakeError } from '../core/errors';
import { locateFfmpeg } from '../ffmpeg/locate';
import { openScratch } from '../ffmpeg/scratch';
import { databasePath } from '../jobs/db';
import { removeJob } from '../jobs/remove-job';
import { openJobEngine, type JobEngine } from '../jobs/job-engine';
import { runRemote } from './remote-runner';
import type { Job } from '../jobs/queue';
import { submitJob } from '../jobs/worker';
import { createPairingCode, pairingRequest, redeemPairing } from '../net/pairing';
import { startServe, type RunningServer } from '../serve/serve';
import { pinnedAgent } from '../net/pinning';
import { parseServeConfig } from '../http/serve-config';
import { filesContaining } from '../testing/marker';
import { runCli, startCli } from '../testing/cli';
import { testEngine } from '../testing/engine';
import { makeClip, testScratch } from '../testing/media';
import { freshDir } from '../testing/tmp';
import { decryptFile } from '../vault/file-ops';
import { pairWithServer } from '../net/pair-client';
import { getRemote, listRemotes, saveRemote } from './remotes';

const cleanup: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const c of cleanup.splice(0).reverse()) await c();
});

async function remoteServer(dataDir?: string, kek?: Buffer, port = 0) {
  const dir = dataDir ?? join(await freshDir(), 'server');
  const key = kek ?? randomBytes(32);
  const scratch = await testScratch();
  const server = await startServe({
    config: parseServeConfig({ port }),
    dataDir: dir,
    kek: key,
    scratch,
    logError: () => undefined,
    worker: { pollMs: 50, heartbeatMs: 100 },
  });
  let closed = false;
  const close = async () => {
    if (!closed) await server.close();
    closed = true;
  };
  cleanup.push(close);
  return { server, dir, kek: key, close, scratchRoot: (await openScratch(scratch)).root };
}

async function desktop(remoteChunkBytes?: number) {
  const local = await testEngine({ retryBaseMs: 200, retryMaxMs: 400 }, { remoteChunkBytes });
  cleanup.push(() => local.engine.close());
  return local;
}

/** A server and a desktop engine paired with it as "lxc". */
async function pairedEngines(remoteChunkBytes?: number) {
  const first = await remoteServer();
  const local = await desktop(remoteChunkBytes);
  const { code } = createPairingCode(first.server.db);
  await saveRemote(
    local.dataDir,
    local.vault,
    await pairWithServer(first.server.url, code, 'laptop', 'lxc'),
  );
  return { first, local };
}

function finished(engine: JobEngine, id: string): Promise<Job> {
  return new Promise((resolve) => {
    const on = (job: Job) => {
      if (job.id !== id) return;
      engine.worker.off('finished', on);
      resolve(job);
    };
    engine.worker.on('finished', on);
  });
}

/** Bytes the server accepted into uploads since it started, from its own /metrics. */
async function uploadedBytes(server: RunningServer): Promise<number> {
  const agent = pinnedAgent(server.tls.caCertPem, server.caFingerprint);
  try {
    const res = await request(new URL('/metrics', server.url), { dispatcher: agent });
    const text = await res.body.text();
    return Number(/^keepsake_bytes_uploaded_total (\d+)/m.exec(text)?.[1] ?? NaN);
  } finally {
    await agent.close();
  }
}

/** Where the server's one upload stands, read from its database file. */
function committed(dataDir: string): { offset: number; size: number } | undefined {
  const db = new Database(databasePath(dataDir), { readonly: true });
  try {
    return db.prepare('SELECT offset, size FROM uploads').get() as
      { offset: number; size: number } | undefined;
  } finally {
    db.close();
  }
}

/** Waits, a turn of the event loop at a time, until a third of the upload is committed. */
async function aThirdUploaded(server: RunningServer) {
  const deadline = Date.now() + 60_000;
  for (;;) {
    const row = server.db.prepare('SELECT offset, size FROM uploads').get() as
      { offset: number; size: number } | undefined;
    if (row && row.offset >= row.size / 3) return;
    if (Date.now() > deadline) throw new Error('the upload never got a third of the way');
    await new Promise((r) => setImmediate(r));
  }
}

const CHUNK = 32 * 1024;

describe('pairing and remote dispatch', () => {
  it('pairs, runs a job remotely, and gets a verified result only the desktop can open', async () => {
    const remote = await remoteServer();
    const local = await desktop();
    const { code } = createPairingCode(remote.server.db);
    const paired = await pairWithServer(remote.server.url, code, 'laptop', 'lxc');
    expect(paired.caFingerprint).toBe(remote.server.caFingerprint);
    await saveRemote(local.dataDir, local.vault, paired);
    expect((await listRemotes(local.dataDir)).map((r) => r.name)).toEqual(['lxc']);
    // The saved file holds the key sealed, not in the clear.
    const saved = await readFile(join(local.dataDir, 'remotes.json'), 'utf8');
    expect(saved).not.toContain(paired.key);
    expect((await getRemote(local.dataDir, local.vault, 'lxc')).key).toBe(paired.key);

    const marker = `KSMARK${randomBytes(10).toString('hex')}`;
    const clip = await makeClip(local.dir, 'tape.mp4', { comment: marker });
    const job = await submitJob(local.engine.queue, {
      preset: 'web-h264',
      params: { maxHeight: '360' },
      input: { kind: 'plain', path: clip },
      outputDir: local.engine.outputRoot,
      options: { remote: 'lxc' },
    });
    const done = finished(local.engine, job.id);
    await local.engine.worker.start();
    const result = await done;
    expect(result.state, JSON.stringify(result.lastError)).toBe('succeeded');
    expect(result.notes.join(' ')).toMatch(/ran on lxc/);

    const plain = join(local.dir, 'web.mp4');
    await decryptFile(result.outputs[0]!.path, plain, { vault: local.vault });
    const { ffmpegPath } = await locateFfmpeg();
    execFileSync(ffmpegPath, ['-v', 'error', '-i', plain, '-f', 'null', '-']);
    expect((await readFile(plain)).includes(Buffer.from(marker))).toBe(true);

    // The server deleted the job, its upload and its results, and never held plaintext.
    expect(await remote.server.engine.queue.list()).toEqual([]);
    await remote.close();
    expect([
      ...(await filesContaining(remote.dir, Buffer.from(marker))),
      ...(await filesContaining(remote.scratchRoot, Buffer.from(marker))),
    ]).toEqual([]);
  });

  it('refuses a used, wrong or intercepted pairing', async () => {
    const remote = await remoteServer();
    const { code } = createPairingCode(remote.server.db);
    const refused = (p: Promise<unknown>) =>
      p.then(
        () => 'paired',
        (e: unknown) => (isKeepsakeError(e) ? e.code : String(e)),
      );
    expect(await refused(pairWithServer(remote.server.url, 'WRONG-CODE0', 'a', 'x'))).toBe(
      'UNAUTHORIZED',
    );
    // A machine in the middle shows its own CA: the mac is bound to that fingerprint.
    const { body } = pairingRequest(code, 'mitm', 'AB:'.repeat(31) + 'AB');
    expect(() =>
      redeemPairing(remote.server.db, remote.server.credentials, remote.server.caFingerprint, body),
    ).toThrow(/no live pairing code matches/);
    expect(await refused(pairWithServer(remote.server.url, code, 'laptop', 'x'))).toBe('paired');
    expect(await refused(pairWithServer(remote.server.url, code, 'again', 'x'))).toBe(
      'UNAUTHORIZED',
    );
    // An expired code is refused too.
    const old = createPairingCode(remote.server.db, { now: Date.now() - 11 * 60_000 });
    expect(await refused(pairWithServer(remote.server.url, old.code, 'late', 'x'))).toBe(
      'UNAUTHORIZED',
    );
  });

  it('a server restarted mid-job finishes the same attempt when it is back, and keeps nothing', async () => {
    const { first, local } = await pairedEngines();
    // Held on the server, so that the job is there, not yet run, when the server stops.
    await first.server.engine.queue.pause();
    const job = await submitJob(local.engine.queue, {
      preset: 'remux',
      params: {},
      input: { kind: 'plain', path: await makeClip(local.dir) },
      outputDir: local.engine.outputRoot,
      options: { remote: 'lxc' },
    });
    const done = finished(local.engine, job.id);
    await local.engine.worker.start();
    const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
    for (let i = 0; i < 200 && (await first.server.engine.queue.list()).length === 0; i++) {
      await sleep(50);
    }
    expect(await first.server.engine.queue.list()).toHaveLength(1);
    const port = first.server.port;
    await first.close();
    await sleep(700); // the desktop's polls fail meanwhile
    expect(await local.engine.queue.get(job.id)).toMatchObject({ state: 'running', attempts: 1 });

    // Back with the same data: the job waits for its keys, which the desktop resends.
    const second = await remoteServer(first.dir, first.kek, port);
    await second.server.engine.queue.resume();
    const result = await done;
    expect(result.state, JSON.stringify(result.lastError)).toBe('succeeded');
    expect(result.attempts).toBe(1);
    // One job and one upload on the server, both gone once the result came back.
    expect(await second.server.engine.queue.list()).toEqual([]);
    expect(await readdir(join(first.dir, 'uploads'))).toEqual([]);
  });

  it('a job for an unreachable server waits and resumes when the server returns', async () => {
    const { first, local } = await pairedEngines();
    const port = first.server.port;
    await first.close();

    const clip = await makeClip(local.dir);
    const job = await submitJob(local.engine.queue, {
      preset: 'remux',
      params: {},
      input: { kind: 'plain', path: clip },
      outputDir: local.engine.outputRoot,
      options: { remote: 'lxc' },
    });
    expect(job.maxAttempts).toBe(3);
    const done = finished(local.engine, job.id);
    await local.engine.worker.start();
    // It fails to connect, again and again, more times than it has attempts: it stays
    // queued, waiting for the server, and uses none of them up.
    const tries = async () =>
      (await local.engine.queue.events(job.id)).filter((e) => e.kind === 'retry').length;
    for (let i = 0; i < 200 && (await tries()) < 5; i++) {
      await new Promise((r) => setTimeout(r, 50));
    }
    expect(await tries()).toBeGreaterThanOrEqual(5);
    expect(await local.engine.queue.get(job.id)).toMatchObject({
      state: 'queued',
      attempts: 0,
      lastError: { code: 'SERVER_UNREACHABLE' },
    });
    await remoteServer(first.dir, first.kek, port);
    expect((await done).state).toBe('succeeded');
  });

  it('a server restarted between chunks gets only the rest of the upload', async () => {
    const { first, local } = await pairedEngines(CHUNK);
    const clip = await makeClip(local.dir, 'long.mp4', { seconds: 30, size: '640x480' });
    const job = await submitJob(local.engine.queue, {
      preset: 'remux',
      params: {},
      input: { kind: 'plain', path: clip },
      outputDir: local.engine.outputRoot,
      options: { remote: 'lxc' },
    });
    const done = finished(local.engine, job.id);
    await local.engine.worker.start();
    await aThirdUploaded(first.server);
    const port = first.server.port;
    await first.close();
    const atStop = committed(first.dir)!;
    expect(atStop.offset).toBeLessThan(atStop.size);

    const second = await remoteServer(first.dir, first.kek, port);
    const result = await done;
    expect(result.state, JSON.stringify(result.lastError)).toBe('succeeded');
    const after = await uploadedBytes(second.server);
    const rest = atStop.size - atStop.offset;
    console.log(
      `server restart at ${atStop.offset} of ${atStop.size} bytes: ${after} sent afterwards (rest ${rest})`,
    );
    // The rest, give or take the chunk that was on the wire; not the whole file again.
    expect(after).toBeGreaterThanOrEqual(rest);
    expect(after).toBeLessThanOrEqual(rest + CHUNK);
    expect(await second.server.engine.queue.list()).toEqual([]);
    expect(await readdir(join(first.dir, 'uploads'))).toEqual([]);
  });

  it('a desktop restarted between chunks sends only the rest of the upload', async () => {
    const { first, local } = await pairedEngines(CHUNK);
    const clip = await makeClip(local.dir, 'long.mp4', { seconds: 30, size: '640x480' });
    const job = await submitJob(local.engine.queue, {
      preset: 'remux',
      params: {},
      input: { kind: 'plain', path: clip },
      outputDir: local.engine.outputRoot,
      options: { remote: 'lxc' },
    });
    await local.engine.worker.start();
    await aThirdUploaded(first.server);
    // The desktop goes away mid-upload (quit, or the engine restarted by the app).
    await local.engine.close();
    const atStop = committed(first.dir)!;
    const before = await uploadedBytes(first.server);
    expect(atStop.offset).toBeLessThan(atStop.size);

    const again = await openJobEngine({
      dataDir: local.dataDir,
      keys: { vault: local.vault },
      runRemote,
      scratch: await testScratch(),
      concurrency: 1,
      worker: { pollMs: 50, heartbeatMs: 100, retryBaseMs: 200, retryMaxMs: 400 },
      remoteChunkBytes: CHUNK,
    });
    cleanup.push(() => again.close());
    const done = finished(again, job.id);
    await again.worker.start();
    const result = await done;
    expect(result.state, JSON.stringify(result.lastError)).toBe('succeeded');
    const after = (await uploadedBytes(first.server)) - before;
    const rest = atStop.size - atStop.offset;
    console.log(
      `desktop restart at ${atStop.offset} of ${atStop.size} bytes: ${after} sent afterwards (rest ${rest})`,
    );
    expect(after).toBeGreaterThanOrEqual(rest);
    expect(after).toBeLessThanOrEqual(rest + CHUNK);
    // Nothing left behind on either side.
    expect(await first.server.engine.queue.list()).toEqual([]);
    expect(await readdir(join(first.dir, 'uploads'))).toEqual([]);
    expect(
      (await readdir(local.engine.outputRoot).catch(() => [] as string[])).filter((n) =>
        n.startsWith('.'),
      ),
    ).toEqual([]);
  });

  it('a desktop killed (kill -9) between chunks sends only the rest after it starts again', async () => {
    const remote = await remoteServer();
    const dir = await freshDir();
    const env = {
      KEEPSAKE_HOME: join(dir, 'desktop'),
      KEEPSAKE_PASSWORD: 'quiet lantern orchard',
      KEEPSAKE_SCRATCH: (await testScratch()).configured!,
    };
    const init = await runCli(['vault', 'init', '--kdf-log-n', '10', '--no-recovery'], { env });
    expect(init.code, init.stderr).toBe(0);
    // 1 MiB chunks, so that a kill lands between two of them.
    await writeFile(join(dir, 'desktop', 'config.json'), JSON.stringify({ uploadChunkMiB: 1 }));
    const { code } = createPairingCode(remote.server.db);
    const add = await runCli(
      ['remote', 'add', remote.server.url, '--code', code, '--name', 'lxc'],
      {
        env,
      },
    );
    expect(add.code, add.stderr).toBe(0);
    // About 12 MB that remuxes: lossless x264 of noise.
    const clip = join(dir, 'noisy.mkv');
    const { ffmpegPath } = await locateFfmpeg();
    execFileSync(ffmpegPath, [
      ...['-v', 'error', '-f', 'lavfi', '-i', 'testsrc2=size=640x480:rate=25:duration=1'],
      ...['-vf', 'noise=alls=40:allf=t', '-c:v', 'libx264', '-preset', 'ultrafast', '-qp', '0'],
      ...['-pix_fmt', 'yuv420p', clip],
    ]);
    const submitted = await runCli(
      ['job', 'submit', clip, '--preset', 'remux', '--remote', 'lxc', '--detach', '--json'],
      { env },
    );
    expect(submitted.code, submitted.stderr).toBe(0);
    const jobId = (JSON.parse(submitted.stdout) as { job: { id: string } }).job.id;

    const worker = startCli(['job', 'work'], { env });
    const exited = new Promise((r) => worker.once('exit', r));
    await aThirdUploaded(remote.server);
    worker.kill('SIGKILL');
    await exited;
    await new Promise((r) => setTimeout(r, 300));
    const atKill = committed(remote.dir)!;
    const before = await uploadedBytes(remote.server);
    expect(atKill.offset).toBeLessThan(atKill.size);

    const again = await runCli(['job', 'work', '--until-idle'], { env });
    expect(again.code, again.stderr).toBe(0);
    const listed = await runCli(['job', 'list', '--json'], { env });
    const jobs = (JSON.parse(listed.stdout) as { jobs: { id: string; state: string }[] }).jobs;
    expect(jobs.find((j) => j.id === jobId)?.state).toBe('succeeded');
    const after = (await uploadedBytes(remote.server)) - before;
    const rest = atKill.size - atKill.offset;
    console.log(
      `desktop kill -9 at ${atKill.offset} of ${atKill.size} bytes: ${after} sent afterwards (rest ${rest})`,
    );
    expect(after).toBeGreaterThanOrEqual(rest);
    expect(after).toBeLessThanOrEqual(rest + 1024 * 1024);
    expect(await remote.server.engine.queue.list()).toEqual([]);
    expect(await readdir(join(remote.dir, 'uploads'))).toEqual([]);
  }, 120_000);

  it('what a waiting remote job kept goes when it is cancelled (at the next start) or deleted', async () => {
    const { first, local } = await pairedEngines();
    await first.close(); // the server is away: both jobs wait, keeping their sealed input
    const submit = async (name: string) =>
      submitJob(local.engine.queue, {
        preset: 'remux',
        params: {},
        input: { kind: 'plain', path: await makeClip(local.dir, name) },
        outputDir: local.engine.outputRoot,
        options: { remote: 'lxc' },
      });
    const cancelled = await submit('a.mp4');
    const deleted = await submit('b.mp4');
    await local.engine.worker.start();
    const kept = async () =>
      (await readdir(local.engine.outputRoot).catch(() => [] as string[])).filter((n) =>
        /\.(input\.ksv|remote\.json)$/.test(n),
      );
    for (let i = 0; i < 400 && (await kept()).length < 4; i++) {
      await new Promise((r) => setTimeout(r, 50));
    }
    expect((await kept()).sort()).toEqual(
      [
        `.${cancelled.id}.input.ksv`,
        `.${cancelled.id}.remote.json`,
        `.${deleted.id}.input.ksv`,
        `.${deleted.id}.remote.json`,
      ].sort(),
    );
    await local.engine.worker.cancel(cancelled.id);
    await removeJob(local.engine, await local.engine.queue.get(deleted.id));
    expect((await kept()).sort()).toEqual(
      [`.${cancelled.id}.input.ksv`, `.${cancelled.id}.remote.json`].sort(),
    );
    await local.engine.close();
    const again = await openJobEngine({
      dataDir: local.dataDir,
      keys: { vault: local.vault },
      runRemote,
      scratch: await testScratch(),
      concurrency: 1,
    });
    cleanup.push(() => again.close());
    expect(await kept()).toEqual([]);
  });
});
