import { randomBytes } from 'node:crypto';
import { readFile, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { freshDir } from '../testing/tmp';
import { generateKekFile, kekId, loadKek, parseKek } from './kek';

const b64 = (key: Buffer) => key.toString('base64');

/** A place where no Docker secret exists, so tests never see the host's. */
async function noDocker(): Promise<string> {
  return join(await freshDir(), 'keepsake-kek');
}

describe('KEK loading', () => {
  it('takes sources in order: file, KEEPSAKE_KEK_FILE, KEEPSAKE_KEK, systemd, Docker', async () => {
    const dir = await freshDir();
    const keys = [1, 2, 3, 4, 5].map(() => randomBytes(32));
    const [flag, envFile, inline, systemd, docker] = keys as [
      Buffer,
      Buffer,
      Buffer,
      Buffer,
      Buffer,
    ];
    await writeFile(join(dir, 'flag'), b64(flag));
    await writeFile(join(dir, 'env-file'), b64(envFile) + '\n');
    await writeFile(join(dir, 'keepsake-kek'), systemd); // raw bytes
    await writeFile(join(dir, 'docker'), b64(docker));
    const fullEnv = () => ({
      KEEPSAKE_KEK_FILE: join(dir, 'env-file'),
      KEEPSAKE_KEK: b64(inline),
      CREDENTIALS_DIRECTORY: dir,
    });
    const dockerSecret = join(dir, 'docker');

    let got = await loadKek({ file: join(dir, 'flag'), env: fullEnv(), dockerSecret });
    expect(got).toEqual({ kek: flag, source: join(dir, 'flag') });
    got = await loadKek({ env: fullEnv(), dockerSecret });
    expect(got).toEqual({ kek: envFile, source: join(dir, 'env-file') });
    got = await loadKek({ env: { ...fullEnv(), KEEPSAKE_KEK_FILE: '' }, dockerSecret });
    expect(got).toEqual({ kek: inline, source: 'KEEPSAKE_KEK' });
    got = await loadKek({ env: { CREDENTIALS_DIRECTORY: dir }, dockerSecret });
    expect(got).toEqual({ kek: systemd, source: join(dir, 'keepsake-kek') });
    // A credentials directory without our credential falls through to Docker.
    got = await loadKek({ env: { CREDENTIALS_DIRECTORY: join(dir, 'none') }, dockerSecret });
    expect(got).toEqual({ kek: docker, source: dockerSecret });
  });

  it('deletes KEEPSAKE_KEK from the environment, even when another source wins', async () => {
    const dir = await freshDir();
    const key = randomBytes(32);
    await writeFile(join(dir, 'kek'), b64(key));
    const env: NodeJS.ProcessEnv = { KEEPSAKE_KEK: b64(randomBytes(32)), OTHER: 'kept' };
    await loadKek({ file: join(dir, 'kek'), env, dockerSecret: await noDocker() });
    expect(env).toEqual({ OTHER: 'kept' });
    const inlineEnv: NodeJS.ProcessEnv = { KEEPSAKE_KEK: ` ${b64(key)}\n` };
    expect((await loadKek({ env: inlineEnv, dockerSecret: await noDocker() })).kek).toEqual(key);
    expect('KEEPSAKE_KEK' in inlineEnv).toBe(false);
  });

  it('reads base64, URL-safe base64 and 32 raw bytes', () => {
    const key = randomBytes(32);
    expect(parseKek(Buffer.from(`  ${b64(key)}\r\n`), 's')).toEqual(key);
    expect(parseKek(Buffer.from(key.toString('base64url')), 's')).toEqual(key);
    expect(parseKek(key, 's')).toEqual(key);
  });

  it('refuses a key of the wrong size and names the source', async () => {
    expect(() => parseKek(Buffer.from(b64(randomBytes(16))), 'KEEPSAKE_KEK')).toThrow(
      /from KEEPSAKE_KEK is 16 bytes; it must be 32/,
    );
    // 32 typed characters are base64 of 24 bytes, not a raw key.
    expect(() => parseKek(Buffer.from('correcthorsebatterystaple1234567'), 'x')).toThrow(
      /is 24 bytes/,
    );
    expect(() => parseKek(randomBytes(31), 'x')).toThrow(/neither base64 nor 32 raw bytes/);
    expect(() => parseKek(Buffer.alloc(0), 'x')).toThrow(/neither/);
    const dir = await freshDir();
    const path = join(dir, 'kek');
    await writeFile(path, 'not a key!\n');
    await expect(loadKek({ env: { KEEPSAKE_KEK_FILE: path } })).rejects.toMatchObject({
      code: 'INVALID_KEY',
      message: expect.stringContaining(`KEEPSAKE_KEK_FILE (${path})`),
    });
    await writeFile(path, Buffer.alloc(10_000, 'A'));
    await expect(loadKek({ file: path, env: {} })).rejects.toThrow(/not a key file/);
  });

  it('refuses a named file that is missing instead of falling back', async () => {
    const dir = await freshDir();
    const missing = join(dir, 'missing');
    await expect(
      loadKek({ file: missing, env: { KEEPSAKE_KEK: b64(randomBytes(32)) } }),
    ).rejects.toMatchObject({ code: 'NOT_FOUND', file: missing });
    await expect(loadKek({ env: { KEEPSAKE_KEK_FILE: missing } })).rejects.toMatchObject({
      code: 'NOT_FOUND',
    });
  });

  it('says how to create a key when none is found', async () => {
    const err = await loadKek({ env: {}, dockerSecret: await noDocker() }).catch((e: unknown) => e);
    expect(err).toMatchObject({ code: 'KEK_NOT_FOUND' });
    expect(String(err)).toMatch(/no key-encryption key found/);
    expect(String(err)).toMatch(/head -c 32 \/dev\/urandom \| base64/);
    expect(String(err)).toMatch(/KEEPSAKE_KEK_FILE/);
    expect(String(err)).toMatch(/LoadCredential/);
  });
});

describe('kekId', () => {
  it('is short, stable, and differs between keys', () => {
    const key = randomBytes(32);
    expect(kekId(key)).toMatch(/^[0-9a-f]{16}$/);
    expect(kekId(Buffer.from(key))).toBe(kekId(key));
    expect(kekId(randomBytes(32))).not.toBe(kekId(key));
  });
});

describe('generateKekFile', () => {
  it('writes a private base64 key that loads back, and never overwrites', async () => {
    const path = join(await freshDir(), 'etc', 'kek');
    const id = await generateKekFile(path);
    const { kek } = await loadKek({ file: path, env: {} });
    expect(kekId(kek)).toBe(id);
    if (process.platform !== 'win32') expect((await stat(path)).mode & 0o777).toBe(0o600);
    const before = await readFile(path);
    await expect(generateKekFile(path)).rejects.toMatchObject({ code: 'OUTPUT_EXISTS' });
    expect(await readFile(path)).toEqual(before);
  });
});
