// The hardened server's secrets at rest and across restarts, for real: HTTPS on a loopback
// port, the data folder on disk, the server stopped and started again on the same data.

import { randomBytes } from 'node:crypto';
import { readFile, readdir, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { isKeepsakeError } from '../errors';
import { databasePath, openDatabase } from '../jobs/db';
import { filesContaining } from '../testing/marker';
import { testScratch } from '../testing/media';
import { freshDir } from '../testing/tmp';
import { CredentialStore } from './auth/credentials';
import { RemoteClient } from './client';
import { startServe, type RunningServer } from './serve';
import { parseServeConfig } from './serve-config';

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
