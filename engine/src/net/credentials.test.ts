import { randomBytes } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { openDatabase, type Db } from '../jobs/db';
import { freshDir } from '../testing/tmp';
import { CredentialStore } from './credentials';
import { kekId } from './kek';

async function freshDb(): Promise<{ path: string; db: Db }> {
  const path = join(await freshDir(), 'engine.db');
  return { path, db: openDatabase(path) };
}

function thrown(fn: () => unknown): unknown {
  try {
    fn();
  } catch (err) {
    return err;
  }
  throw new Error('expected a throw');
}

describe('CredentialStore', () => {
  it('issues a random key once and finds it again by client id', async () => {
    const { db } = await freshDb();
    const store = new CredentialStore(db, randomBytes(32), () => 1000);
    const issued = store.add('alice-laptop', 'client', ['10.0.0.0/8']);
    expect(issued.clientId).toMatch(/^ks_[a-z2-7]{20}$/);
    const key = Buffer.from(issued.key, 'base64');
    expect(key).toHaveLength(32);
    expect(store.lookupKey(issued.clientId)).toEqual(key);
    expect(store.lookupKey('ks_' + 'a'.repeat(20))).toBeUndefined();
    expect(store.lookupKey('alice-laptop')).toBeUndefined();
    const other = store.add('bob', 'viewer');
    expect(other.clientId).not.toBe(issued.clientId);
    expect(other.key).not.toBe(issued.key);
    db.close();
  });

  it('never shows keys, and never stores them in the clear', async () => {
    const { path, db } = await freshDb();
    const store = new CredentialStore(db, randomBytes(32), () => 1000);
    const { clientId, key } = store.add('alice', 'admin', ['192.168.1.7', 'FD00::/8']);
    const expected = {
      clientId,
      name: 'alice',
      role: 'admin',
      cidrs: ['192.168.1.7/32', 'fd00::/8'],
      createdAt: 1000,
    };
    expect(store.get(clientId)).toEqual(expected);
    expect(store.list()).toEqual([expected]);
    expect(store.get('ks_nobody')).toBeUndefined();
    db.close();
    const wal = await readFile(`${path}-wal`).catch(() => Buffer.alloc(0));
    const file = Buffer.concat([await readFile(path), wal]);
    expect(file.includes(Buffer.from(key, 'base64'))).toBe(false);
    expect(file.includes(Buffer.from(key))).toBe(false);
  });

  it('reopens with the same KEK and refuses another one, naming both ids', async () => {
    const { path, db } = await freshDb();
    const kek = randomBytes(32);
    const { clientId, key } = new CredentialStore(db, kek).add('alice', 'client');
    db.close();
    const again = openDatabase(path);
    expect(new CredentialStore(again, Buffer.from(kek)).lookupKey(clientId)).toEqual(
      Buffer.from(key, 'base64'),
    );
    const wrong = randomBytes(32);
    const err = thrown(() => new CredentialStore(again, wrong));
    expect(err).toMatchObject({ code: 'KEK_MISMATCH' });
    expect(String(err)).toContain(`(id ${kekId(wrong)}) is not the one`);
    expect(String(err)).toContain(`(id ${kekId(kek)})`);
    expect(() => new CredentialStore(again, randomBytes(16))).toThrow(/16 bytes; it must be 32/);
    again.close();
  });

  it('shares one data key between processes opening a new database at once', async () => {
    const { path, db } = await freshDb();
    const other = openDatabase(path);
    const kek = randomBytes(32);
    const first = new CredentialStore(db, kek);
    const second = new CredentialStore(other, kek);
    const { clientId, key } = first.add('alice', 'worker');
    expect(second.lookupKey(clientId)).toEqual(Buffer.from(key, 'base64'));
    other.close();
    db.close();
  });

  it('rotates the KEK: credentials keep working, only the new KEK opens the store', async () => {
    const { db } = await freshDb();
    const oldKek = randomBytes(32);
    const newKek = randomBytes(32);
    const store = new CredentialStore(db, oldKek);
    const stale = new CredentialStore(db, oldKek);
    const { clientId, key } = store.add('alice', 'client');
    const sealedBefore = db.prepare('SELECT key_sealed FROM credentials').get();
    store.rotateKek(newKek);
    // Only the DEK was re-sealed.
    expect(db.prepare('SELECT key_sealed FROM credentials').get()).toEqual(sealedBefore);
    expect(db.prepare('SELECT kek_id FROM keystore').get()).toEqual({ kek_id: kekId(newKek) });
    expect(store.lookupKey(clientId)).toEqual(Buffer.from(key, 'base64'));
    expect(new CredentialStore(db, newKek).lookupKey(clientId)).toEqual(Buffer.from(key, 'base64'));
    expect(() => new CredentialStore(db, oldKek)).toThrow(/is not the one/);
    expect(thrown(() => new CredentialStore(db, oldKek))).toMatchObject({ code: 'KEK_MISMATCH' });
    // A second rotation from a process still holding the old KEK is refused.
    expect(() => stale.rotateKek(randomBytes(32))).toThrow(/is not the one/);
    expect(thrown(() => stale.rotateKek(randomBytes(32)))).toMatchObject({
      code: 'KEK_MISMATCH',
    });
    expect(() => store.rotateKek(Buffer.from(newKek))).toThrow(/is the current one/);
    // And the store can rotate again.
    store.rotateKek(oldKek);
    expect(new CredentialStore(db, oldKek).lookupKey(clientId)).toBeDefined();
    db.close();
  });

  it('revokes by name or id, keeping the first revocation time', async () => {
    const { db } = await freshDb();
    let now = 1000;
    const store = new CredentialStore(db, randomBytes(32), () => now);
    const alice = store.add('alice', 'client');
    const bob = store.add('bob', 'viewer');
    now = 2000;
    expect(store.revoke('alice')).toMatchObject({ clientId: alice.clientId, revokedAt: 2000 });
    expect(store.lookupKey(alice.clientId)).toBeUndefined();
    now = 3000;
    expect(store.revoke(alice.clientId).revokedAt).toBe(2000);
    expect(store.revoke(bob.clientId).revokedAt).toBe(3000);
    expect(store.lookupKey(bob.clientId)).toBeUndefined();
    expect(store.list().map((c) => c.revokedAt)).toEqual([2000, 3000]);
    expect(() => store.revoke('carol')).toThrow(/no credential "carol"/);
    expect(thrown(() => store.revoke('carol'))).toMatchObject({ code: 'CREDENTIAL_NOT_FOUND' });
    db.close();
  });

  it('a revocation by another process bites from the next turn of the event loop', async () => {
    const { db, path } = await freshDb();
    const kek = randomBytes(32);
    const server = new CredentialStore(db, kek);
    const alice = server.add('alice', 'client');
    expect(server.lookup(alice.clientId)).toBeDefined();
    // `keepsake user revoke` from another process: its own connection and store.
    const cli = openDatabase(path);
    new CredentialStore(cli, kek).revoke('alice');
    cli.close();
    await new Promise((resolve) => setImmediate(resolve));
    expect(server.lookup(alice.clientId)).toBeUndefined();
    expect(server.lookupKey(alice.clientId)).toBeUndefined();
    db.close();
  });

  it('refuses bad names, duplicate names, unknown roles and bad address ranges', async () => {
    const { db } = await freshDb();
    const store = new CredentialStore(db, randomBytes(32));
    for (const name of ['', 'x'.repeat(65), 'a b', 'élodie', '../etc', 'a/b', 'ks_alice', 'a\n']) {
      expect(
        thrown(() => store.add(name, 'client')),
        JSON.stringify(name),
      ).toMatchObject({
        code: 'USAGE',
      });
    }
    store.add('Alice.laptop_2-x', 'client');
    store.add('y'.repeat(64), 'client');
    expect(() => store.add('Alice.laptop_2-x', 'viewer')).toThrow(/already exists/);
    expect(thrown(() => store.add('Alice.laptop_2-x', 'viewer'))).toMatchObject({
      code: 'CREDENTIAL_EXISTS',
    });
    expect(() => store.add('root', 'root' as 'admin')).toThrow(/unknown role "root"/);
    expect(() => store.add('net', 'client', ['10.0.0.0/33'])).toThrow(/prefix length/);
    expect(() => store.add('net', 'client', ['example.com'])).toThrow(/not an IP address/);
    expect(store.list()).toHaveLength(2);
    db.close();
  });

  it('detects rows edited in the database file', async () => {
    const { db, path } = await freshDb();
    const store = new CredentialStore(db, randomBytes(32));
    // The attacker edits the file through their own connection, as another process would.
    const editor = openDatabase(path);
    const viewer = store.add('viewer', 'viewer', ['10.0.0.0/8']);
    const admin = store.add('admin', 'admin');
    // Another connection's commits are seen from the next turn of the event loop.
    const nextTurn = () => new Promise((resolve) => setImmediate(resolve));
    // A viewer made admin, or its ranges widened, no longer opens.
    editor.prepare(`UPDATE credentials SET role = 'admin' WHERE name = 'viewer'`).run();
    await nextTurn();
    expect(thrown(() => store.lookupKey(viewer.clientId))).toMatchObject({
      code: 'CREDENTIALS_CORRUPT',
    });
    editor
      .prepare(`UPDATE credentials SET role = 'viewer', cidrs = '[]' WHERE name = 'viewer'`)
      .run();
    await nextTurn();
    expect(() => store.lookupKey(viewer.clientId)).toThrow(/altered/);
    editor.prepare(`UPDATE credentials SET cidrs = '["10.0.0.0/8"]' WHERE name = 'viewer'`).run();
    await nextTurn();
    expect(store.lookupKey(viewer.clientId)).toEqual(Buffer.from(viewer.key, 'base64'));
    // Swapping sealed keys between rows does not swap identities.
    editor.exec(`UPDATE credentials SET key_sealed = (SELECT key_sealed FROM credentials
             WHERE name = 'viewer') WHERE name = 'admin'`);
    await nextTurn();
    expect(() => store.lookupKey(admin.clientId)).toThrow(/admin.*does not match/);
    expect(thrown(() => store.lookupKey(admin.clientId))).toMatchObject({
      code: 'CREDENTIALS_CORRUPT',
    });
    editor.close();
    db.close();
  });

  it('refuses a keystore whose sealed data key was damaged', async () => {
    const { db } = await freshDb();
    const kek = randomBytes(32);
    new CredentialStore(db, kek);
    db.exec(`UPDATE keystore SET dek_wrapped = zeroblob(60)`);
    expect(thrown(() => new CredentialStore(db, kek))).toMatchObject({
      code: 'CREDENTIALS_CORRUPT',
    });
    db.close();
  });

  it('records use at most once a minute', async () => {
    const { db } = await freshDb();
    let now = 1_000_000;
    const store = new CredentialStore(db, randomBytes(32), () => now);
    const { clientId } = store.add('alice', 'client');
    expect(store.get(clientId)?.lastUsedAt).toBeUndefined();
    store.touch(clientId);
    expect(store.get(clientId)?.lastUsedAt).toBe(1_000_000);
    now += 59_000;
    store.touch(clientId);
    expect(store.get(clientId)?.lastUsedAt).toBe(1_000_000);
    now += 1_000;
    store.touch(clientId);
    expect(store.get(clientId)?.lastUsedAt).toBe(1_060_000);
    store.touch('ks_unknown'); // harmless
    db.close();
  });
});
