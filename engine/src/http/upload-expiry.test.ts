// Disk space on the hardened server, for real: uploads are admitted only if the disk
// holds them on top of every byte promised to the others, and what nobody will finish
// (an idle upload, a job whose owner never came back) expires with its files.

import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdir, readdir, statfs, utimes, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterEach, describe, expect, it } from 'vitest';
import { databasePath } from '../jobs/db';
import { runCli } from '../testing/cli';
import { testScratch } from '../testing/media';
import { freshDir } from '../testing/tmp';
import { RemoteClient } from '../net/client';
import { startServe, type RunningServer } from '../serve/serve';
import { parseServeConfig } from './serve-config';
import { canMountTmpfs } from '../testing/tmpfs';

const cleanup: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const c of cleanup.splice(0).reverse()) await c();
});

async function server(dataDir: string, kek: Buffer, overrides: Record<string, unknown> = {}) {
  const s = await startServe({
    config: parseServeConfig({ port: 0, ...overrides }),
    dataDir,
    kek,
    scratch: await testScratch(),
    logError: () => undefined,
    worker: { pollMs: 50, heartbeatMs: 100 },
  });
  let closed = false;
  const close = async () => {
    if (!closed) await s.close();
    closed = true;
  };
  cleanup.push(close);
  return { s, close };
}

function clientFor(s: RunningServer, name: string) {
  const issued = s.credentials.add(name, 'client');
  const client = new RemoteClient({
    url: s.url,
    clientId: issued.clientId,
    key: issued.key,
    caCertPem: s.tls.caCertPem,
    caFingerprint: s.caFingerprint,
  });
  cleanup.push(() => client.close());
  return client;
}

const refusal = (p: Promise<unknown>) =>
  p.then(
    () => 'admitted',
    (e: unknown) => (e as { code?: string }).code ?? String(e),
  );

describe('upload space and expiry on keepsake serve', () => {
  // Skipped where a tmpfs cannot be mounted (not root, or a container without mount):
  // the refusal must come from the real free space of a real small disk.
  it.skipIf(!canMountTmpfs())(
    'admits uploads only while the disk holds all of them (mounts a 16 MiB tmpfs)',
    async () => {
      const dataDir = join(await freshDir(), 'server');
      const disk = join(dataDir, 'uploads');
      await mkdir(disk, { recursive: true, mode: 0o700 });
      execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=16m,mode=0700', 'tmpfs', disk]);
      cleanup.push(() => {
        execFileSync('umount', ['-l', disk]);
      });
      const reserve = 2 * 1024 * 1024;
      const { s } = await server(dataDir, randomBytes(32), { reserveBytes: reserve });
      const client = clientFor(s, 'alice');
      const fs = await statfs(disk);
      const free = fs.bavail * fs.bsize;
      // Each fits alone (free − reserve), two do not.
      const size = Math.floor(((free - reserve) * 2) / 3);
      const first = await client.createUpload(size);
      expect(await refusal(client.createUpload(size))).toBe('DISK_FULL');
      expect(await refusal(client.createUpload(size))).toBe('DISK_FULL');
      // What is left after the first one's promise still fits.
      const rest = free - reserve - size - 64 * 1024;
      const small = await client.createUpload(rest);
      expect(await refusal(client.createUpload(128 * 1024))).toBe('DISK_FULL');
      // Bytes that arrive move from "promised" to "used": the sum stays the same.
      const chunk = randomBytes(1024 * 1024);
      await client.call('PATCH', `/v1/uploads/${small.id}`, {
        body: chunk,
        headers: { 'content-type': 'application/offset+octet-stream', 'upload-offset': '0' },
      });
      expect(await refusal(client.createUpload(128 * 1024))).toBe('DISK_FULL');
      // Deleting the first frees its promise.
      await client.call('DELETE', `/v1/uploads/${first.id}`);
      expect(await refusal(client.createUpload(size))).toBe('admitted');
    },
  );

  it('expires an idle upload with its file and its reservation, and keeps a fresh one', async () => {
    const dataDir = join(await freshDir(), 'server');
    const kek = randomBytes(32);
    const first = await server(dataDir, kek);
    const client = clientFor(first.s, 'alice');
    const idle = await client.createUpload(4096);
    await client.call('PATCH', `/v1/uploads/${idle.id}`, {
      body: randomBytes(1000),
      headers: { 'content-type': 'application/offset+octet-stream', 'upload-offset': '0' },
    });
    const fresh = await client.createUpload(4096);
    await first.close();

    // Two days pass for the idle one: nothing arrived since.
    const twoDaysAgo = Date.now() - 2 * 86_400_000;
    const db = new Database(databasePath(dataDir));
    db.prepare('UPDATE uploads SET created_at = ? WHERE id = ?').run(twoDaysAgo, idle.id);
    db.close();
    const idleFile = join(dataDir, 'uploads', `${idle.id}.ksv`);
    await utimes(idleFile, twoDaysAgo / 1000, twoDaysAgo / 1000);
    // A chunk staged by a server that crashed mid-request.
    await writeFile(join(dataDir, 'uploads', `${fresh.id}.0123456789ab.part`), 'x');

    const second = await server(dataDir, kek);
    const deadline = Date.now() + 5000;
    while (Date.now() < deadline && (await readdir(join(dataDir, 'uploads'))).length > 1) {
      await new Promise((r) => setTimeout(r, 50));
    }
    expect(await readdir(join(dataDir, 'uploads'))).toEqual([`${fresh.id}.ksv`]);
    const rows = second.s.db.prepare('SELECT id, size - offset AS promised FROM uploads').all();
    expect(rows).toEqual([{ id: fresh.id, promised: 4096 }]);
    const expired = second.s.audit.query({}).filter((e) => e.action === 'upload.expire');
    expect(expired.map((e) => e.target)).toEqual([idle.id]);
  });

  it('expires jobs whose owner never came back for them, with their uploads, and keeps a recent one', async () => {
    const dataDir = join(await freshDir(), 'server');
    const kek = randomBytes(32);
    const first = await server(dataDir, kek);
    await first.s.engine.queue.pause();
    const client = clientFor(first.s, 'alice');
    const source = join(await freshDir(), 'in.ksv');
    await writeFile(source, randomBytes(3000));
    const keyB64 = randomBytes(32).toString('base64');
    const newJob = async () =>
      client.createJob({
        input: { upload: (await client.uploadFile(source)).id },
        preset: 'remux',
        params: {},
        mode: 'automated',
        priority: 0,
        thorough: false,
        keys: {
          input: keyB64,
          output: { vaultId: randomBytes(16).toString('hex'), keyId: 'k', key: keyB64 },
        },
      });
    const waiting = await newJob();
    const uncollected = await newJob();
    const recent = await newJob();
    await client.cancel(uncollected.id); // finished (cancelled), and nobody deletes it
    await client.cancel(recent.id);
    await first.close();
    // The desktop crashed for good: one job waits for keys it will never get, the other
    // finished two days ago and was never collected.
    const twoDaysAgo = Date.now() - 2 * 86_400_000;
    const db = new Database(databasePath(dataDir));
    db.prepare('UPDATE jobs SET created_at = ? WHERE id = ?').run(twoDaysAgo, waiting.id);
    db.prepare('UPDATE jobs SET created_at = ?, finished_at = ? WHERE id = ?').run(
      twoDaysAgo,
      twoDaysAgo,
      uncollected.id,
    );
    db.close();

    const second = await server(dataDir, kek);
    const deadline = Date.now() + 5000;
    while (Date.now() < deadline && (await second.s.engine.queue.list()).length > 1) {
      await new Promise((r) => setTimeout(r, 50));
    }
    expect((await second.s.engine.queue.list()).map((j) => j.id)).toEqual([recent.id]);
    expect(await readdir(join(dataDir, 'uploads'))).toHaveLength(1);
    const expired = second.s.audit.query({}).filter((e) => e.action === 'job.expire');
    expect(expired.map((e) => e.target).sort()).toEqual([waiting.id, uncollected.id].sort());
  });

  it('validate accepts the expiry setting and names a wrong one', async () => {
    expect(parseServeConfig({}).uploadExpirySeconds).toBe(86_400);
    const dir = await freshDir();
    const good = join(dir, 'good.json');
    await writeFile(good, JSON.stringify({ uploadExpirySeconds: 3600 }));
    expect((await runCli(['validate', '-c', good])).code).toBe(0);
    const bad = join(dir, 'bad.json');
    await writeFile(bad, JSON.stringify({ uploadExpirySeconds: 5 }));
    const res = await runCli(['validate', '-c', bad]);
    expect(res.code).toBe(2);
    expect(res.stderr).toMatch(/\/uploadExpirySeconds must be >= 60/);
  });
});
