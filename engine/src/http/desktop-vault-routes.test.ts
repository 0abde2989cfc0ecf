// The vault's keys through the desktop API, on a real embedded engine: weak passwords
// refused, no new vault over an old vault's files, password change, a new recovery key
// (the old one stops working), its confirmation, and a new password after a
// recovery-key unlock.

import { mkdir, readFile, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { TEST_SCRYPT, freshDir } from '../testing/tmp';
import { runDesktop, type RunningDesktop } from '../desktop/desktop-entry';
import type { VaultKeys } from '../net/desktop-vault-contract';

const STRONG = 'quiet lantern orchard';
const NEWER = 'copper meadow violin';

const cleanup: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const c of cleanup.splice(0).reverse()) await c();
});

async function desktop(prepare?: (dataDir: string) => Promise<void>) {
  const dataDir = join(await freshDir(), 'data');
  if (prepare) await prepare(dataDir);
  const engine: RunningDesktop = await runDesktop({
    dataDir,
    port: 0,
    out: { write: () => true } as unknown as NodeJS.WritableStream,
    session: { scrypt: TEST_SCRYPT },
  });
  cleanup.push(() => engine.close());
  const call = async (method: string, path: string, body?: unknown) => {
    const res = await fetch(`${engine.url}${path}`, {
      method,
      headers: {
        authorization: `Bearer ${engine.token}`,
        ...(body === undefined ? {} : { 'content-type': 'application/json' }),
      },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await res.text();
    return { status: res.status, body: (text ? JSON.parse(text) : undefined) as unknown };
  };
  const post = (path: string, body: unknown = {}) => call('POST', path, body);
  const keys = async () => (await call('GET', '/v1/vault/keys')).body as VaultKeys;
  const relock = async () => expect((await post('/v1/vault/lock')).status).toBe(204);
  return { dataDir, call, post, keys, relock };
}

describe('desktop API: vault keys', () => {
  it('refuses a weak password at create with the reason', async () => {
    const d = await desktop();
    const weak = await d.post('/v1/vault', { password: 'sunshine1' });
    expect(weak.status).toBe(422);
    expect(weak.body).toMatchObject({
      code: 'WEAK_PASSWORD',
      message: expect.stringContaining('commonly used password'),
    });
    await expect(stat(join(d.dataDir, 'vault', 'keyring.json'))).rejects.toThrow();
    expect((await d.post('/v1/vault', { password: STRONG })).status).toBe(201);
  });

  it.each([
    ['a library copy', 'library/fabcdefghijkl/mabcdefghijkl.ksv'],
    ['a job output', 'outputs/job-1/out.ksv'],
  ])('refuses to create a vault where %s exists, and says how to restore', async (_w, rel) => {
    const d = await desktop(async (dataDir) => {
      await mkdir(join(dataDir, rel, '..'), { recursive: true });
      await writeFile(join(dataDir, rel), 'ciphertext of the old vault');
    });
    expect(await d.keys()).toMatchObject({ needsRestore: true, recoveryUnconfirmed: false });
    const res = await d.post('/v1/vault', { password: STRONG });
    expect(res.status).toBe(409);
    expect(res.body).toMatchObject({
      code: 'VAULT_DATA_EXISTS',
      message: expect.stringMatching(/recovery key.*backup/),
    });
    await expect(stat(join(d.dataDir, 'vault', 'keyring.json'))).rejects.toThrow();
  });

  it('changes the password: the current one is checked, the new one must be strong', async () => {
    const d = await desktop();
    expect((await d.post('/v1/vault', { password: STRONG })).status).toBe(201);
    // A client that does not check the key back (a script) is not asked to.
    expect(await d.keys()).toMatchObject({
      unlockedWith: 'password',
      needsRestore: false,
      recoveryUnconfirmed: false,
    });
    const wrong = await d.post('/v1/vault/password', { current: 'not it at all', password: NEWER });
    expect(wrong.status).toBe(401);
    expect(wrong.body).toMatchObject({ code: 'WRONG_PASSWORD' });
    expect((await d.post('/v1/vault/password', { password: NEWER })).body).toMatchObject({
      code: 'PASSWORD_REQUIRED',
    });
    expect(
      (await d.post('/v1/vault/password', { current: STRONG, password: 'hunter2' })).body,
    ).toMatchObject({ code: 'WEAK_PASSWORD' });
    expect((await d.post('/v1/vault/password', { current: STRONG, password: NEWER })).status).toBe(
      204,
    );
    await d.relock();
    expect((await d.post('/v1/vault/unlock', { password: STRONG })).status).toBe(401);
    expect((await d.post('/v1/vault/unlock', { password: NEWER })).status).toBe(204);
  });

  it('makes a new recovery key: the old one stops working, the new one opens the vault', async () => {
    const d = await desktop();
    const created = await d.post('/v1/vault', { password: STRONG, checkRecoveryKey: true });
    const old = (created.body as { recoveryKey: string }).recoveryKey;
    // Shown by the app, not yet proven stored.
    expect((await d.keys()).recoveryUnconfirmed).toBe(true);
    expect((await d.post('/v1/vault/recovery-key/confirm')).status).toBe(204);
    expect((await d.keys()).recoveryUnconfirmed).toBe(false);

    // Once stored, replacing it needs the password.
    expect((await d.post('/v1/vault/recovery-key', {})).body).toMatchObject({
      code: 'PASSWORD_REQUIRED',
    });
    const made = await d.post('/v1/vault/recovery-key', { current: STRONG });
    expect(made.status).toBe(201);
    const fresh = (made.body as { recoveryKey: string }).recoveryKey;
    expect(fresh).toMatch(/^KSRK-/);
    expect(fresh).not.toBe(old);
    expect((await d.keys()).recoveryUnconfirmed).toBe(true);
    const keyring = await readFile(join(d.dataDir, 'vault', 'keyring.json'), 'utf8');
    expect(keyring).not.toContain(fresh.replace(/^KSRK-/, '').slice(0, 9));

    await d.relock();
    const withOld = await d.post('/v1/vault/unlock', { recoveryKey: old });
    expect(withOld.status).toBe(401);
    expect(withOld.body).toMatchObject({ code: 'WRONG_PASSWORD' });
    expect((await d.post('/v1/vault/unlock', { recoveryKey: fresh })).status).toBe(204);
  });

  it('after a recovery-key unlock, a new password needs no current one', async () => {
    const d = await desktop();
    const created = await d.post('/v1/vault', { password: STRONG });
    const key = (created.body as { recoveryKey: string }).recoveryKey;
    await d.relock();
    expect((await d.post('/v1/vault/unlock', { recoveryKey: key })).status).toBe(204);
    expect((await d.keys()).unlockedWith).toBe('recovery');
    expect((await d.post('/v1/vault/password', { password: NEWER })).status).toBe(204);
    expect((await d.keys()).unlockedWith).toBe('password');
    // From now on the current password is asked for again.
    expect((await d.post('/v1/vault/password', { password: STRONG })).body).toMatchObject({
      code: 'PASSWORD_REQUIRED',
    });
    await d.relock();
    expect((await d.keys()).unlockedWith).toBeUndefined();
    expect((await d.post('/v1/vault/unlock', { password: NEWER })).status).toBe(204);
  });

  it('needs an open vault for every key change', async () => {
    const d = await desktop();
    expect((await d.post('/v1/vault', { password: STRONG })).status).toBe(201);
    await d.relock();
    for (const path of [
      '/v1/vault/password',
      '/v1/vault/recovery-key',
      '/v1/vault/recovery-key/confirm',
    ]) {
      const res = await d.post(path, path.endsWith('password') ? { password: NEWER } : {});
      expect(res.body, path).toMatchObject({ code: 'PASSWORD_REQUIRED' });
    }
  });
});
