// The hardened server's secrets at rest and across restarts, for real: HTTPS on a loopback
// port, the data folder on disk, the server stopped and started again on the same data.

import { randomBytes } from 'node:crypto';
import { readFile, readdir, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { request } from 'undici';
import { afterEach, describe, expect, it } from 'vitest';
import { isKeepsakeError } from '../core/errors';
import { databasePath, openDatabase } from '../jobs/db';
import { runCli, startCli } from '../testing/cli';
import { filesContaining } from '../testing/marker';
import { testScratch } from '../testing/media';
import { freshDir } from '../testing/tmp';
import { CredentialStore } from '../net/credentials';
import { parseKek } from '../net/kek';
import { signedHeaders } from '../net/signing';
import { RemoteClient } from '../net/client';
import { startServe, type RunningServer } from './serve';
import { parseServeConfig } from '../http/serve-config';
import { pinnedAgent } from '../net/pinning';

const running: RunningServer[] = [];
afterEach(async () => {
  await Promise.all(running.splice(0).map((s) => s.close()));
});

async function start(dataDir: string, kek: Buffer): Promise<RunningServer> {
  const s = await startServe({
    config: parseServeConfig({ port: 0 }),
    dataDir,
    kek,
    scratch: await testScratch(),
    logError: () => undefined,
    worker: { pollMs: 50, heartbeatMs: 100 },
  });
  running.push(s);
  return s;
}

async function stop(s: RunningServer): Promise<void> {
  running.splice(running.indexOf(s), 1);
  await s.close();
}

function clientOf(s: RunningServer, issued: { clientId: string; key: string }, fp?: string) {
  return new RemoteClient({
    url: s.url,
    clientId: issued.clientId,
    key: issued.key,
    caCertPem: s.tls.caCertPem,
    caFingerprint: fp ?? s.caFingerprint,
  });
}

const PRIVATE_KEY = Buffer.from('PRIVATE KEY');

/** One raw GET with the given (captured) headers, through the pinned CA. */
async function replayTo(
  url: string,
  ca: { caCertPem: string; caFingerprint: string },
  headers: Record<string, string>,
): Promise<{ status: number; code?: string; message?: string }> {
  const agent = pinnedAgent(ca.caCertPem, ca.caFingerprint);
  try {
    const res = await request(new URL('/v1/jobs', url), { headers, dispatcher: agent });
    const text = await res.body.text();
    const body = text.startsWith('{')
      ? (JSON.parse(text) as { code?: string; message?: string })
      : {};
    return { status: res.statusCode, code: body.code, message: body.message };
  } finally {
    await agent.close();
  }
}

describe('keepsake serve: TLS private keys at rest', () => {
  it('keeps no PEM private key anywhere in the data folder', async () => {
    const dir = join(await freshDir(), 'server');
    const s = await start(dir, randomBytes(32));
    expect(s.tls.keyPem).toContain('PRIVATE KEY'); // in memory, for the TLS stack only
    expect(await filesContaining(dir, PRIVATE_KEY)).toEqual([]);
    expect((await readdir(join(dir, 'tls'))).sort()).toEqual([
      'ca.crt',
      'ca.key.sealed',
      'server.crt',
      'server.key.sealed',
    ]);
  });

  it('refuses to start under the wrong KEK, saying which key it needs', async () => {
    const dir = join(await freshDir(), 'server');
    await stop(await start(dir, randomBytes(32)));
    const before = await readFile(join(dir, 'tls', 'ca.key.sealed'));
    const err = await start(dir, randomBytes(32)).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(isKeepsakeError(err, 'KEK_MISMATCH')).toBe(true);
    expect((err as Error).message).toMatch(/key-encryption key \(id [0-9a-f]+\) is not the one/);
    expect(await readFile(join(dir, 'tls', 'ca.key.sealed'))).toEqual(before);
  });

  it('carries the TLS keys along when the KEK is rotated', async () => {
    const kek = randomBytes(32);
    const dir = join(await freshDir(), 'server');
    const first = await start(dir, kek);
    const fingerprint = first.caFingerprint;
    const next = randomBytes(32);
    first.credentials.rotateKek(next); // what `keepsake kek rotate` does
    await stop(first);
    const again = await start(dir, next);
    expect(again.caFingerprint).toBe(fingerprint);
    await stop(again);
    expect(isKeepsakeError(await start(dir, kek).catch((e: unknown) => e), 'KEK_MISMATCH')).toBe(
      true,
    );
  });

  it('refuses TLS keys sealed by another credential store (engine.db from elsewhere)', async () => {
    const kek = randomBytes(32);
    const dir = join(await freshDir(), 'server');
    await stop(await start(dir, kek));
    // Same KEK, but a database from another install: its data key cannot open the keys.
    await rm(databasePath(dir));
    const err = await start(dir, kek).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(isKeepsakeError(err, 'KEK_MISMATCH')).toBe(true);
    expect((err as Error).message).toContain('was sealed under another key');
    expect((err as Error).message).toContain('ca.key.sealed');
  });

  it('seals the plaintext keys of an older data folder and keeps the fingerprint clients pin', async () => {
    const kek = randomBytes(32);
    const dir = join(await freshDir(), 'server');
    const first = await start(dir, kek);
    const fingerprint = first.caFingerprint;
    const issued = first.credentials.add('desk', 'client');
    await stop(first);

    // Turn the folder into what an older version left: ca.key and server.key in plain PEM.
    const db = openDatabase(databasePath(dir));
    const sealer = new CredentialStore(db, kek).sealer('tls');
    for (const [sealed, plain, role] of [
      ['ca.key.sealed', 'ca.key', 'ca'],
      ['server.key.sealed', 'server.key', 'leaf'],
    ] as const) {
      const file = JSON.parse(await readFile(join(dir, 'tls', sealed), 'utf8')) as {
        data: string;
      };
      const pem = sealer.open(
        Buffer.from(file.data, 'base64'),
        `keepsake tls private key v1|${role}`,
      );
      await writeFile(join(dir, 'tls', plain), pem!, { mode: 0o600 });
      await rm(join(dir, 'tls', sealed));
    }
    db.close();
    expect((await filesContaining(dir, PRIVATE_KEY)).length).toBe(2);

    const again = await start(dir, kek);
    expect(again.caFingerprint).toBe(fingerprint);
    expect(await filesContaining(dir, PRIVATE_KEY)).toEqual([]);
    // A desktop paired before the upgrade still connects, pinned to the old fingerprint.
    const client = clientOf(again, issued, fingerprint);
    try {
      expect(await client.jobs()).toEqual([]);
    } finally {
      await client.close();
    }
  });
});

describe('keepsake pair', () => {
  it('needs no KEK once the CA exists (the service user cannot read it), only to make one', async () => {
    const dir = await freshDir();
    const dataDir = join(dir, 'data');
    const config = join(dir, 'serve.json');
    // As on a systemd install: the KEK is only for the service (LoadCredential=).
    await writeFile(config, JSON.stringify({ port: 0, kekFile: join(dir, 'no-access'), dataDir }));
    const env = { KEEPSAKE_SCRATCH: (await testScratch()).configured! };

    const before = await runCli(['pair', '-c', config], { env });
    expect(before.code).not.toBe(0);
    expect(before.stderr).toMatch(/no-access/);

    const s = await start(dataDir, randomBytes(32));
    const fingerprint = s.caFingerprint;
    await stop(s);
    const paired = await runCli(['pair', '-c', config, '--json'], { env });
    expect(paired.code, paired.stderr).toBe(0);
    expect(JSON.parse(paired.stdout)).toMatchObject({ caFingerprint: fingerprint });
  });
});

describe('keepsake serve: a captured request after a restart', () => {
  it('a clean restart keeps what it accepted: the replay is refused, a slow clock still served', async () => {
    const kek = randomBytes(32);
    const dir = join(await freshDir(), 'server');
    const first = await start(dir, kek);
    const { clientId, key } = first.credentials.add('desk', 'client');
    const captured = signedHeaders(clientId, key, 'GET', '/v1/jobs');
    const ca = { caCertPem: first.tls.caCertPem, caFingerprint: first.caFingerprint };
    expect((await replayTo(first.url, ca, captured)).status).toBe(200);
    await stop(first);

    const again = await start(dir, kek);
    expect(await replayTo(again.url, ca, captured)).toMatchObject({
      status: 401,
      code: 'UNAUTHORIZED',
      message: expect.stringMatching(/already used/),
    });
    // A client 20 s behind (inside the 30 s window) is served at once after a clean restart.
    const slow = signedHeaders(
      clientId,
      key,
      'GET',
      '/v1/jobs',
      '',
      Math.floor(Date.now() / 1000) - 20,
    );
    expect((await replayTo(again.url, ca, slow)).status).toBe(200);
  });

  it('after a kill -9 (nothing saved), a request captured before it is refused', async () => {
    const dir = await freshDir();
    const kekFile = join(dir, 'kek');
    const dataDir = join(dir, 'data');
    const config = join(dir, 'serve.json');
    await writeFile(config, JSON.stringify({ port: 0, kekFile, dataDir }));
    const env = { KEEPSAKE_SCRATCH: (await testScratch()).configured! };
    expect((await runCli(['kek', 'generate', kekFile], { env })).code).toBe(0);
    const add = await runCli(['user', 'add', 'desk', '--role', 'client', '-c', config, '--json'], {
      env,
    });
    expect(add.code, add.stderr).toBe(0);
    const { clientId, key } = JSON.parse(add.stdout) as { clientId: string; key: string };

    const server = startCli(['serve', '-c', config], { env });
    server.stdin!.end();
    const exited = new Promise<unknown>((r) => server.on('close', r));
    const url = await new Promise<string>((resolve, reject) => {
      let out = '';
      server.stdout!.on('data', (d: Buffer) => {
        out += d.toString();
        const found = /"msg":"listening".*?"url":"([^"]+)"/.exec(out);
        if (found) resolve(found[1]!);
      });
      server.on('close', () => reject(new Error(`serve exited: ${out}`)));
    });
    const caCertPem = await readFile(join(dataDir, 'tls', 'ca.crt'), 'utf8');
    const { fingerprintOf } = await import('../net/fingerprint');
    const ca = { caCertPem, caFingerprint: fingerprintOf(caCertPem) };
    const captured = signedHeaders(clientId, key, 'GET', '/v1/jobs');
    expect((await replayTo(url, ca, captured)).status).toBe(200);
    server.kill('SIGKILL');
    await exited;
    await readdir(dataDir).then((names) => expect(names).not.toContain('replay-cache'));

    // The same data, started again at once (well inside the captured request's 30 s).
    const again = await start(dataDir, parseKek(await readFile(kekFile), kekFile));
    expect(again.caFingerprint).toBe(ca.caFingerprint);
    expect(await replayTo(again.url, ca, captured)).toMatchObject({
      status: 401,
      code: 'CLOCK_SKEW',
      message: expect.stringMatching(/before the server restarted from a crash/),
    });
    // A request signed from the next whole second on goes through (the second of the
    // restart itself is refused: the dead run may have accepted one stamped with it).
    await new Promise((r) => setTimeout(r, 1100));
    const fresh = signedHeaders(clientId, key, 'GET', '/v1/jobs');
    expect((await replayTo(again.url, ca, fresh)).status).toBe(200);
  });
});
