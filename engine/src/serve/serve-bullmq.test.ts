// `keepsake serve` with its queue on BullMQ and a real redis-server: jobs run with real
// FFmpeg, their records look exactly as with the built-in queue, and Redis never holds
// the media, the title or a key, whatever happens to it meanwhile.

import { randomBytes } from 'node:crypto';
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { request } from 'undici';
import { afterEach, describe, expect, it } from 'vitest';
import { RemoteClient } from '../net/client';
import type { JobKeysBody } from '../net/contract';
import { pinnedAgent } from '../net/pinning';
import { signedHeaders } from '../net/signing';
import { parseServeConfig } from '../http/serve-config';
import { makeClip, testScratch } from '../testing/media';
import { NO_REDIS, freePort, startRedis, type TestRedis } from '../testing/redis-server';
import { TEST_SCRYPT, freshDir } from '../testing/tmp';
import { encryptFile } from '../vault/file-ops';
import { createVault, jobOutputVault, type Vault } from '../vault/keyring';
import { VaultFile } from '../vault/vault-file';
import { startServe, type RunningServer } from './serve';

const running: RunningServer[] = [];
const clients: RemoteClient[] = [];
afterEach(async () => {
  await Promise.all(clients.splice(0).map((c) => c.close()));
  await Promise.all(running.splice(0).map((s) => s.close()));
});

async function server(redis: TestRedis | undefined, dataDir?: string, kek = randomBytes(32)) {
  const dir = dataDir ?? join(await freshDir(), 'server');
  const s = await startServe({
    config: parseServeConfig({ port: 0, ...(redis ? { queue: { redis: redis.url } } : {}) }),
    dataDir: dir,
    kek,
    scratch: await testScratch(),
    logError: () => undefined,
    worker: { pollMs: 50, heartbeatMs: 100 },
  });
  running.push(s);
  return { s, dir, kek };
}

function clientFor(s: RunningServer) {
  const issued = s.credentials.add(`alice-${randomBytes(3).toString('hex')}`, 'client');
  const client = new RemoteClient({
    url: s.url,
    clientId: issued.clientId,
    key: issued.key,
    caCertPem: s.tls.caCertPem,
    caFingerprint: s.caFingerprint,
  });
  clients.push(client);
  return { ...issued, client };
}

async function localVault(): Promise<{ dir: string; vault: Vault }> {
  const dir = await freshDir();
  const { vault } = await createVault(join(dir, 'vault'), 'pw', {
    scrypt: TEST_SCRYPT,
    recovery: false,
  });
  return { dir, vault };
}

async function keysFor(vault: Vault, input: string, label: string): Promise<JobKeysBody> {
  const vf = await VaultFile.open(input, { vault });
  const fileKey = vf.fileKey.toString('base64');
  await vf.close();
  const out = jobOutputVault(vault, label);
  return {
    input: fileKey,
    output: { vaultId: out.vaultId, keyId: out.masterKeyId, key: out.masterKey.toString('base64') },
  };
}

/** A sealed clip uploaded, and a job on it created with its keys. */
async function submit(
  s: RunningServer,
  options: { comment?: string; title?: string; seconds?: number; preset?: string } = {},
) {
  const { client, clientId, key } = clientFor(s);
  const local = await localVault();
  const clip = await makeClip(local.dir, 'clip.mp4', {
    comment: options.comment,
    seconds: options.seconds,
  });
  const sealed = join(local.dir, 'clip.mp4.ksv');
  await encryptFile(clip, sealed, local.vault);
  const upload = await client.uploadFile(sealed);
  const keys = await keysFor(local.vault, sealed, randomBytes(4).toString('hex'));
  if (options.title) keys.labels = { title: options.title };
  const job = await client.createJob({
    input: { upload: upload.id },
    preset: options.preset ?? 'remux',
    params: {},
    mode: 'manual',
    priority: 0,
    thorough: false,
    keys,
  });
  return { client, clientId, key, job, keys, local };
}

/** Every key path of a JSON value, with the type found there. */
function shapeOf(value: unknown, path = ''): string[] {
  if (Array.isArray(value)) return [`${path}[]`, ...value.flatMap((v) => shapeOf(v, `${path}[]`))];
  if (value !== null && typeof value === 'object') {
    return Object.entries(value).flatMap(([k, v]) => shapeOf(v, `${path}.${k}`));
  }
  return [`${path}:${value === null ? 'null' : typeof value}`];
}

async function get(s: RunningServer, path: string, headers: Record<string, string> = {}) {
  const res = await request(new URL(path, s.url), {
    headers,
    dispatcher: pinnedAgent(s.tls.caCertPem, s.caFingerprint),
  });
  return { status: res.statusCode, text: await res.body.text() };
}

describe.skipIf(NO_REDIS)('keepsake serve on BullMQ', () => {
  it('runs jobs with real FFmpeg, and the job records keep the built-in queue’s shape', async () => {
    const redis = await startRedis();
    const onBull = await server(redis);
    const onSqlite = await server(undefined);
    const a = await submit(onBull.s);
    const b = await submit(onSqlite.s);
    const [doneA, doneB] = await Promise.all([
      a.client.waitFor(a.job.id),
      b.client.waitFor(b.job.id),
    ]);
    expect(doneA.state, JSON.stringify(doneA.lastError)).toBe('succeeded');
    expect(doneB.state).toBe('succeeded');
    expect(new Set(shapeOf(doneA))).toEqual(new Set(shapeOf(doneB)));
    const listed = (await a.client.jobs()).find((j) => j.id === a.job.id)!;
    expect(new Set(shapeOf(listed))).toEqual(
      new Set(shapeOf((await b.client.jobs()).find((j) => j.id === b.job.id))),
    );
    // SSE progress ends the same way.
    const path = `/v1/jobs/${a.job.id}/events`;
    const events = await get(onBull.s, path, signedHeaders(a.clientId, a.key, 'GET', path));
    expect(events.text.trim().split('\n\n').at(-1)).toMatch(/^event: end\ndata: \{.*"succeeded"/);

    // The job went through BullMQ, and left Redis when it finished.
    expect(onBull.s.engine.queue.constructor.name).toBe('BullmqJobQueue');
    expect((await redis.command('DBSIZE')).trim()).not.toBe(':0');
    expect(await redis.command('EXISTS', `keepsake:jobs:${a.job.id}`)).toBe(':0\r\n');

    // Operations: /healthz names the backend and Redis, /metrics the queue's depth.
    const health = JSON.parse((await get(onBull.s, '/healthz')).text);
    expect(health.queue).toEqual({ backend: 'redis', redis: redis.url, reachable: true });
    expect(JSON.parse((await get(onSqlite.s, '/healthz')).text).queue).toEqual({
      backend: 'sqlite',
    });
    const metrics = (await get(onBull.s, '/metrics')).text;
    expect(metrics).toMatch(/^keepsake_queue_depth\{state="waiting"\} 0$/m);
    expect(metrics).toMatch(/^keepsake_queue_redis_up 1$/m);
    await redis.kill();
    const down = await get(onBull.s, '/healthz');
    expect(down.status).toBe(503);
    expect(JSON.parse(down.text)).toMatchObject({
      status: 'failing',
      queue: { backend: 'redis', reachable: false },
    });
  });

  it('Redis down at start: a clear error, and no server on the built-in queue', async () => {
    const port = await freePort();
    const dir = join(await freshDir(), 'server');
    const start = startServe({
      config: parseServeConfig({ port: 0, queue: { redis: `redis://127.0.0.1:${port}` } }),
      dataDir: dir,
      kek: randomBytes(32),
      scratch: await testScratch(),
      logError: () => undefined,
    });
    await expect(start).rejects.toMatchObject({
      code: 'QUEUE_UNAVAILABLE',
      message: expect.stringMatching(
        new RegExp(`Redis at redis://127\\.0\\.0\\.1:${port} does not answer.*will not start`),
      ),
    });
    // Nothing was opened behind its back: not even the database.
    expect(await readdir(dir).catch(() => [])).not.toContain('engine.db');
  });

  it('a coordinator restart loses no job', async () => {
    const redis = await startRedis({ persist: 'aof' });
    const first = await server(redis);
    await first.s.engine.queue.pause();
    const { clientId, key, job, keys } = await submit(first.s);
    await first.s.close();
    running.splice(running.indexOf(first.s), 1);
    const second = await server(redis, first.dir, first.kek);
    await second.s.engine.queue.resume();
    const again = new RemoteClient({
      url: second.s.url,
      clientId,
      key,
      caCertPem: second.s.tls.caCertPem,
      caFingerprint: second.s.caFingerprint,
    });
    clients.push(again);
    // The keys lived in the old process's memory only: the client sends them again.
    await again.resendKeys(job.id, keys);
    const done = await again.waitFor(job.id);
    expect(done.state, JSON.stringify(done.lastError)).toBe('succeeded');
  });

  it('Redis killed mid-run and restarted: the job completes, nothing is lost', async () => {
    const redis = await startRedis({ persist: 'aof' });
    const { s } = await server(redis);
    const { client, job } = await submit(s, { seconds: 4, preset: 'web-h264' });
    const second = await submit(s);
    for (;;) {
      if ((await client.job(job.id)).state !== 'queued') break;
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    await redis.kill();
    await new Promise((resolve) => setTimeout(resolve, 1_000));
    await redis.restart();
    const done = await client.waitFor(job.id);
    expect(done.state, JSON.stringify(done.lastError)).toBe('succeeded');
    const other = await second.client.waitFor(second.job.id);
    expect(other.state, JSON.stringify(other.lastError)).toBe('succeeded');
  });

  it('Redis’s saved files hold neither the media, the title, a key, nor a file name', async () => {
    const redis = await startRedis({ persist: 'aof' });
    const { s } = await server(redis);
    const marker = `KSMARK${randomBytes(10).toString('hex')}`;
    const title = `Wedding ${randomBytes(6).toString('hex')}`;
    const jobs = [
      await submit(s, { comment: marker, title, preset: 'web-h264' }),
      await submit(s, { comment: marker, title }),
    ];
    for (const j of jobs) {
      const done = await j.client.waitFor(j.job.id);
      expect(done.state, JSON.stringify(done.lastError)).toBe('succeeded');
    }
    expect(await redis.command('SAVE')).toBe('+OK\r\n');
    const needles = [
      marker,
      title,
      'clip.mp4',
      ...jobs.flatMap((j) => [
        j.keys.input,
        j.keys.output.key,
        Buffer.from(j.keys.input, 'base64').toString('hex'),
        Buffer.from(j.keys.output.key, 'base64').toString('hex'),
      ]),
    ];
    const files = await readdir(redis.dir, { recursive: true, withFileTypes: true });
    const saved = files.filter((f) => f.isFile() && /\.(rdb|aof)$/.test(f.name));
    expect(saved.map((f) => f.name)).toEqual(
      expect.arrayContaining(['dump.rdb', expect.stringMatching(/\.aof$/)]),
    );
    const rawKeys = jobs.flatMap((j) => [
      Buffer.from(j.keys.input, 'base64'),
      Buffer.from(j.keys.output.key, 'base64'),
    ]);
    for (const f of saved) {
      const bytes = await readFile(join(f.parentPath, f.name));
      for (const needle of needles)
        expect(bytes.includes(needle), `${f.name}: ${needle}`).toBe(false);
      for (const key of rawKeys) expect(bytes.includes(key), `${f.name}: a raw key`).toBe(false);
    }
    // And the jobs did pass through it: their ids are in the append-only file.
    const aof = await Promise.all(
      saved.filter((f) => f.name.endsWith('.aof')).map((f) => readFile(join(f.parentPath, f.name))),
    );
    expect(aof.some((b) => b.includes(jobs[0]!.job.id))).toBe(true);
  });
});
