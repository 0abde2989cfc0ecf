// The CLI end to end, in real child processes, on real files: round trips and every
// bad-input case the vault issue lists. Each case checks the exit status, that the
// message names the file, that no plaintext (or temp file) is left, and that the
// source is unchanged.

import { createHash, randomBytes } from 'node:crypto';
import { execFileSync } from 'node:child_process';
import {
  chmod,
  mkdir,
  readFile,
  readdir,
  stat,
  truncate,
  writeFile,
  appendFile,
  lstat,
} from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { nobodyCannotRunCheckout } from '../testing/as-nobody';
import { cliVault, runCli } from '../testing/cli';
import { canMountTmpfs } from '../testing/tmpfs';

const sha = (b: Buffer) => createHash('sha256').update(b).digest('hex');
const isRoot = process.getuid?.() === 0;

async function fileSnapshot(path: string) {
  const [data, info] = await Promise.all([readFile(path), stat(path)]);
  return { hash: sha(data), mtimeMs: info.mtimeMs, size: info.size };
}

describe('keepsake CLI: vault and single files', () => {
  it('init prints a recovery key once and refuses a second init', async () => {
    const { env, init } = await cliVault();
    expect(init.recoveryKey).toMatch(/^KSRK-/);
    const again = await runCli(['vault', 'init', '--kdf-log-n', '10'], { env });
    expect(again.code).toBe(3);
    expect(again.stderr).toContain('VAULT_EXISTS');
  });

  it.each([0, 1, 16383, 16384, 16385, 3 * 1024 * 1024 + 7])(
    'round-trips %i bytes',
    async (size) => {
      const { dir, env } = await cliVault();
      const plain = randomBytes(size);
      await writeFile(join(dir, 'in.bin'), plain);
      const before = await fileSnapshot(join(dir, 'in.bin'));
      expect(
        (await runCli(['encrypt', join(dir, 'in.bin'), join(dir, 'in.ksv')], { env })).code,
      ).toBe(0);
      const dec = await runCli(['decrypt', join(dir, 'in.ksv'), join(dir, 'out.bin')], { env });
      expect(dec.code).toBe(0);
      expect((await readFile(join(dir, 'out.bin'))).equals(plain)).toBe(true);
      // Modification time restored (to well under a millisecond; file systems round).
      expect(Math.abs((await stat(join(dir, 'out.bin'))).mtimeMs - before.mtimeMs)).toBeLessThan(
        0.01,
      );
      expect(await fileSnapshot(join(dir, 'in.bin'))).toEqual(before);
    },
  );

  it('decrypts into a folder under the original name, and opens with the recovery key', async () => {
    const { dir, env, init } = await cliVault();
    await writeFile(join(dir, 'Grandma 1987.mov'), 'tape');
    await runCli(['encrypt', join(dir, 'Grandma 1987.mov'), join(dir, 'x.ksv')], { env });
    await mkdir(join(dir, 'out'));
    await writeFile(join(dir, 'rk.txt'), `${init.recoveryKey}\n`);
    const res = await runCli(
      ['decrypt', join(dir, 'x.ksv'), join(dir, 'out'), '--recovery-key-file', join(dir, 'rk.txt')],
      {
        env: { ...env, KEEPSAKE_PASSWORD: undefined },
      },
    );
    expect(res.code).toBe(0);
    expect(await readFile(join(dir, 'out', 'Grandma 1987.mov'), 'utf8')).toBe('tape');
  });

  it('reads the password from --password-file and never from argv', async () => {
    const { dir, env } = await cliVault('pw-from-file');
    await writeFile(join(dir, 'pw'), 'pw-from-file\n');
    await writeFile(join(dir, 'a'), 'x');
    const ok = await runCli(
      ['encrypt', join(dir, 'a'), join(dir, 'a.ksv'), '--password-file', join(dir, 'pw')],
      {
        env: { KEEPSAKE_HOME: env.KEEPSAKE_HOME },
      },
    );
    expect(ok.code).toBe(0);
    const argv = await runCli(
      ['encrypt', join(dir, 'a'), join(dir, 'b.ksv'), '--password', 'pw-from-file'],
      {
        env: { KEEPSAKE_HOME: env.KEEPSAKE_HOME },
      },
    );
    expect(argv.code).toBe(2);
    const none = await runCli(['encrypt', join(dir, 'a'), join(dir, 'b.ksv')], {
      env: { KEEPSAKE_HOME: env.KEEPSAKE_HOME },
    });
    expect(none.code).toBe(2);
    expect(none.stderr).toContain('PASSWORD_REQUIRED');
  });

  describe('bad input: clear error naming the file, non-zero exit, no plaintext left', () => {
    async function encrypted(size = 100_000) {
      const v = await cliVault();
      const plain = randomBytes(size);
      await writeFile(join(v.dir, 'in.bin'), plain);
      await runCli(['encrypt', join(v.dir, 'in.bin'), join(v.dir, 'in.ksv')], { env: v.env });
      await mkdir(join(v.dir, 'out'));
      return { ...v, plain, ksv: join(v.dir, 'in.ksv'), out: join(v.dir, 'out', 'plain.bin') };
    }

    async function expectRefused(
      ctx: { env: Record<string, string>; ksv: string; out: string; dir: string },
      code: string,
      env: Record<string, string | undefined> = ctx.env,
    ) {
      const before = await fileSnapshot(ctx.ksv);
      const res = await runCli(['decrypt', ctx.ksv, ctx.out], { env });
      expect(res.code).not.toBe(0);
      expect(res.stderr).toContain(code);
      expect(res.stderr).toContain(ctx.ksv);
      expect(await readdir(join(ctx.dir, 'out'))).toEqual([]);
      expect(await fileSnapshot(ctx.ksv)).toEqual(before);
    }

    it('wrong password', async () => {
      const ctx = await encrypted();
      const res = await runCli(['decrypt', ctx.ksv, ctx.out], {
        env: { ...ctx.env, KEEPSAKE_PASSWORD: 'nope' },
      });
      expect(res.code).toBe(3);
      expect(res.stderr).toContain('WRONG_PASSWORD');
      expect(await readdir(join(ctx.dir, 'out'))).toEqual([]);
    });

    it('wrong vault', async () => {
      const ctx = await encrypted();
      const other = await cliVault();
      await expectRefused(ctx, 'WRONG_VAULT', other.env);
    });

    it('truncated file', async () => {
      const ctx = await encrypted();
      await truncate(ctx.ksv, (await stat(ctx.ksv)).size - 100);
      await expectRefused(ctx, 'PAYLOAD_CORRUPT');
    });

    it('truncated at a chunk boundary', async () => {
      const ctx = await encrypted(3 * 16384 + 5);
      // Drop the short final chunk (5 bytes + 16-byte tag): the file now ends on a full chunk.
      await truncate(ctx.ksv, (await stat(ctx.ksv)).size - 21);
      await expectRefused(ctx, 'TRUNCATED');
    });

    it('extended file', async () => {
      const ctx = await encrypted();
      await appendFile(ctx.ksv, randomBytes(40));
      await expectRefused(ctx, 'PAYLOAD_CORRUPT');
    });

    it('bit-flipped payload', async () => {
      const ctx = await encrypted();
      const data = await readFile(ctx.ksv);
      data[data.length - 5000]! ^= 0x04;
      await writeFile(ctx.ksv, data);
      await expectRefused(ctx, 'PAYLOAD_CORRUPT');
    });

    it('header from another file', async () => {
      const ctx = await encrypted();
      await writeFile(join(ctx.dir, 'b.bin'), randomBytes(100_000));
      await runCli(['encrypt', join(ctx.dir, 'b.bin'), join(ctx.dir, 'b.ksv')], { env: ctx.env });
      const a = await readFile(ctx.ksv);
      const b = await readFile(join(ctx.dir, 'b.ksv'));
      const cut = (buf: Buffer) => 9 + buf.readUInt32BE(5);
      await writeFile(ctx.ksv, Buffer.concat([b.subarray(0, cut(b)), a.subarray(cut(a))]));
      await expectRefused(ctx, 'HEADER_CORRUPT');
    });

    it('not a vault file, and a zero-byte one', async () => {
      const ctx = await encrypted();
      await writeFile(ctx.ksv, 'just some text');
      await expectRefused(ctx, 'NOT_A_VAULT_FILE');
      await writeFile(ctx.ksv, '');
      await expectRefused(ctx, 'NOT_A_VAULT_FILE');
    });

    it('missing source, and a folder given as a file', async () => {
      const { dir, env } = await cliVault();
      const missing = await runCli(['encrypt', join(dir, 'nope.mov'), join(dir, 'x.ksv')], { env });
      expect(missing.code).toBe(5);
      expect(missing.stderr).toContain(join(dir, 'nope.mov'));
      const folder = await runCli(['encrypt', dir, join(dir, 'x.ksv')], { env });
      expect(folder.code).not.toBe(0);
      expect(folder.stderr).toContain('not a regular file');
      expect(await readdir(dir)).toEqual(['home']);
    });

    it('a name too long for the output folder', async () => {
      const { dir, env } = await cliVault();
      const name = `${'Summer at the lake '.repeat(14).slice(0, 250)}.dv`;
      await writeFile(join(dir, name), 'x');
      await mkdir(join(dir, 'out'));
      const res = await runCli(['encrypt', join(dir, name), join(dir, 'out')], { env });
      expect(res.code).toBe(5);
      expect(res.stderr).toContain('NAME_TOO_LONG');
      expect(res.stderr).toContain(`${name}.ksv`);
      expect(await readdir(join(dir, 'out'))).toEqual([]);
    });

    it('never overwrites an existing output', async () => {
      const ctx = await encrypted();
      await writeFile(ctx.out, 'precious');
      const res = await runCli(['decrypt', ctx.ksv, ctx.out], { env: ctx.env });
      expect(res.code).toBe(5);
      expect(res.stderr).toContain('OUTPUT_EXISTS');
      expect(await readFile(ctx.out, 'utf8')).toBe('precious');
      // Even --force never renames over something that is not a regular file.
      const fifo = join(ctx.dir, 'out', 'fifo');
      execFileSync('mkfifo', [fifo]);
      const forced = await runCli(['decrypt', ctx.ksv, fifo, '--force'], { env: ctx.env });
      expect(forced.code).toBe(5);
      expect(forced.stderr).toContain('not a regular file');
      expect((await lstat(fifo)).isFIFO()).toBe(true);
    });

    it('unreadable source (as root, the CLI runs as nobody so that chmod 000 binds)', async (ctx) => {
      // Skipped (as root) when nobody cannot read this checkout, e.g. a clone in /root.
      const blocked = nobodyCannotRunCheckout();
      ctx.skip(blocked !== undefined, blocked);
      const { dir } = await cliVault();
      // Root reads any file: drop to an unprivileged user for this case.
      const uid = isRoot ? 65534 : undefined;
      const env = {
        KEEPSAKE_HOME: join(dir, 'own-home'),
        KEEPSAKE_PASSWORD: 'quiet lantern orchard',
      };
      expect((await runCli(['vault', 'init', '--kdf-log-n', '10'], { env, uid })).code).toBe(0);
      await writeFile(join(dir, 'secret.mov'), 'x');
      await chmod(join(dir, 'secret.mov'), 0o000);
      const res = await runCli(['encrypt', join(dir, 'secret.mov'), join(dir, 's.ksv')], {
        env,
        uid,
      });
      expect(res.code).toBe(5);
      expect(res.stderr).toContain('SOURCE_UNREADABLE');
      expect(res.stderr).toContain(join(dir, 'secret.mov'));
      expect((await readdir(dir)).sort()).toEqual(['home', 'own-home', 'secret.mov']);
    });

    // Skipped where a 1 MiB tmpfs cannot be mounted (not root, or a container without mount).
    it.skipIf(!canMountTmpfs())('full disk (mounts a 1 MiB tmpfs)', async () => {
      const ctx = await encrypted(3 * 1024 * 1024);
      const small = join(ctx.dir, 'small');
      await mkdir(small);
      execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=1m', 'tmpfs', small]);
      try {
        const res = await runCli(['decrypt', ctx.ksv, join(small, 'plain.bin')], { env: ctx.env });
        expect(res.code).toBe(6);
        expect(res.stderr).toContain('DISK_FULL');
        expect(res.stderr).toContain(join(small, 'plain.bin'));
        expect(await readdir(small)).toEqual([]);
        await writeFile(join(ctx.dir, 'big.bin'), randomBytes(2 * 1024 * 1024));
        const enc = await runCli(['encrypt', join(ctx.dir, 'big.bin'), join(small, 'big.ksv')], {
          env: ctx.env,
        });
        expect(enc.code).toBe(6);
        expect(await readdir(small)).toEqual([]);
      } finally {
        execFileSync('umount', [small]);
      }
    });
  });

  it('presets lists every preset, and --json gives the parameter JSON Schema of each', async () => {
    const text = await runCli(['presets']);
    expect(text.code).toBe(0);
    for (const name of [
      'exact-master',
      'archive-hevc',
      'archive-av1',
      'web-h264',
      'vhs-restore',
      'hls-playback',
      'photo-web',
      'thumbnails',
      'remux',
      'clip',
    ]) {
      expect(text.stdout).toContain(`${name} (`);
    }
    const json = await runCli(['presets', '--json']);
    const { presets } = JSON.parse(json.stdout) as {
      presets: { name: string; parameters: { properties: object } }[];
    };
    expect(presets).toHaveLength(10);
    expect(presets.find((p) => p.name === 'vhs-restore')!.parameters.properties).toHaveProperty(
      'crop',
    );
  });

  it('chunked mode interoperates on stdin/stdout and rejects bad keys', async () => {
    const key = randomBytes(32).toString('hex');
    const plain = randomBytes(50_000);
    const enc = await runCli(['chunked', 'encrypt', '--key-hex', key, '--context-hex', 'abcd'], {
      stdin: plain,
    });
    expect(enc.code).toBe(0);
    expect(enc.stdoutBytes.length).toBe(56 + 50_000 + 4 * 16);
    const dec = await runCli(['chunked', 'decrypt', '--key-hex', key, '--context-hex', 'abcd'], {
      stdin: enc.stdoutBytes,
    });
    expect(dec.code).toBe(0);
    expect(dec.stdoutBytes.equals(plain)).toBe(true);
    const wrongCtx = await runCli(['chunked', 'decrypt', '--key-hex', key], {
      stdin: enc.stdoutBytes,
    });
    expect(wrongCtx.code).toBe(4);
    expect(wrongCtx.stdoutBytes.length).toBe(0);
    const bad = await runCli(['chunked', 'encrypt', '--key-hex', 'abc'], { stdin: plain });
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain('INVALID_KEY');
  });
});
