// Keys that survive people, on the real CLI in child processes: weak passwords refused,
// no new vault over an old vault's files, and a batch backup that carries its keyring,
// so that the backup and the recovery key alone restore everything on a fresh data folder.

import { createHash } from 'node:crypto';
import { mkdir, readFile, readdir, rm, stat, utimes, writeFile } from 'node:fs/promises';
import { join, relative } from 'node:path';
import { describe, expect, it } from 'vitest';
import { cliVault, runCli } from '../testing/cli';
import { freshDir } from '../testing/tmp';

const STRONG = 'quiet lantern orchard';
const NEWER = 'copper meadow violin';

/** Everything under `root`: files by sha256, size and mtime; folders by mtime. */
async function treeOf(root: string): Promise<Record<string, string>> {
  const out: Record<string, string> = {};
  const walk = async (dir: string) => {
    for (const entry of await readdir(dir, { withFileTypes: true })) {
      const path = join(dir, entry.name);
      if (entry.isDirectory()) {
        out[`${relative(root, path)}/`] = `dir ${Math.round((await stat(path)).mtimeMs)}`;
        await walk(path);
      } else {
        const [data, info] = await Promise.all([readFile(path), stat(path)]);
        const hash = createHash('sha256').update(data).digest('hex');
        out[relative(root, path)] = `${hash} ${info.size} ${Math.round(info.mtimeMs)}`;
      }
    }
  };
  await walk(root);
  return out;
}

async function familyTree(dir: string): Promise<string> {
  const src = join(dir, 'Tapes');
  await mkdir(join(src, '1987', 'Christmas'), { recursive: true });
  await mkdir(join(src, 'empty folder'));
  await writeFile(join(src, '1987', 'Christmas', 'tree lights.mov'), Buffer.alloc(70_000, 7));
  await writeFile(join(src, '1987', 'notes – Oma.txt'), 'Oma’s handwriting');
  await writeFile(join(src, 'zero.bin'), Buffer.alloc(0));
  await utimes(join(src, 'zero.bin'), 500_000_000, 500_000_000);
  return src;
}

describe('keepsake vault: passwords', () => {
  it('init refuses a weak password with the reason, unless --allow-weak-password', async () => {
    const dir = await freshDir();
    const env = { KEEPSAKE_HOME: join(dir, 'home'), KEEPSAKE_PASSWORD: 'sunshine1' };
    const weak = await runCli(['vault', 'init', '--kdf-log-n', '10'], { env });
    expect(weak.code).toBe(2);
    expect(weak.stderr).toContain('WEAK_PASSWORD');
    expect(weak.stderr).toContain('commonly used password');
    await expect(stat(join(dir, 'home', 'vault', 'keyring.json'))).rejects.toThrow();

    const short = await runCli(['vault', 'init', '--kdf-log-n', '10'], {
      env: { ...env, KEEPSAKE_PASSWORD: 'a' },
    });
    expect(short.code).toBe(2);
    expect(short.stderr).toMatch(/too short: use at least 8 characters.*\[WEAK_PASSWORD\]/);

    const allowed = await runCli(['vault', 'init', '--kdf-log-n', '10', '--allow-weak-password'], {
      env,
    });
    expect(allowed.code, allowed.stderr).toBe(0);
  });

  it('passwd refuses a weak new password and keeps the old one', async () => {
    const { env } = await cliVault(STRONG);
    const weak = await runCli(['vault', 'passwd'], {
      env: { ...env, KEEPSAKE_NEW_PASSWORD: 'hunter2' },
    });
    expect(weak.code).toBe(2);
    expect(weak.stderr).toContain('WEAK_PASSWORD');
    const ok = await runCli(['vault', 'passwd'], {
      env: { ...env, KEEPSAKE_NEW_PASSWORD: NEWER },
    });
    expect(ok.code, ok.stderr).toBe(0);
    const check = await runCli(['vault', 'passwd'], {
      env: { ...env, KEEPSAKE_PASSWORD: NEWER, KEEPSAKE_NEW_PASSWORD: 'pw' },
    });
    // The new password opened the vault; only the weak new one was refused.
    expect(check.stderr).toContain('WEAK_PASSWORD');
  });
});

describe('keepsake vault init: never over an existing vault', () => {
  it.each([
    ['a library copy', 'library/fabcdefghijkl/mabcdefghijkl.ksv'],
    ['a job output', 'outputs/job-1/out.ksv'],
    ['another file in the vault folder', 'vault/notes.txt'],
  ])('refuses where %s exists, and says how to restore', async (_what, rel) => {
    const dir = await freshDir();
    const home = join(dir, 'home');
    await mkdir(join(home, rel, '..'), { recursive: true });
    await writeFile(join(home, rel), 'ciphertext');
    const res = await runCli(['vault', 'init', '--kdf-log-n', '10'], {
      env: { KEEPSAKE_HOME: home, KEEPSAKE_PASSWORD: STRONG },
    });
    expect(res.code).toBe(3);
    expect(res.stderr).toContain('VAULT_DATA_EXISTS');
    expect(res.stderr).toContain('keepsake vault restore');
    expect(res.stderr).toContain('recovery key');
    await expect(stat(join(home, 'vault', 'keyring.json'))).rejects.toThrow();
  });

  it('a lost keyring: VAULT_NOT_FOUND points to a restore, not to init', async () => {
    const { dir, env } = await cliVault(STRONG);
    const home = env.KEEPSAKE_HOME;
    await mkdir(join(home, 'library', 'fabcdefghijkl'), { recursive: true });
    await writeFile(join(dir, 'clip.mov'), 'tape');
    const copy = join(home, 'library', 'fabcdefghijkl', 'mabcdefghijkl.ksv');
    expect((await runCli(['encrypt', join(dir, 'clip.mov'), copy], { env })).code).toBe(0);
    await rm(join(home, 'vault', 'keyring.json'));
    const res = await runCli(['decrypt', copy, join(dir, 'out.mov')], { env });
    expect(res.code).toBe(3);
    expect(res.stderr).toContain('VAULT_NOT_FOUND');
    expect(res.stderr).toContain('vault restore');
    expect(res.stderr).not.toContain('vault init');
    const init = await runCli(['vault', 'init', '--kdf-log-n', '10'], { env });
    expect(init.stderr).toContain('VAULT_DATA_EXISTS');
  });
});

describe('keepsake: a backup and the recovery key restore a fresh data folder', () => {
  it('batch-encrypt carries the keyring; verify, batch-decrypt and vault restore work from it alone', async () => {
    const { dir, env, init } = await cliVault(STRONG);
    const src = await familyTree(dir);
    const backup = join(dir, 'backup');
    const enc = await runCli(['batch-encrypt', src, backup], { env });
    expect(enc.code, enc.stderr).toBe(0);
    const copy = await stat(join(backup, 'keyring.json'));
    expect(copy.mode & 0o777).toBe(0o600);
    expect(await readFile(join(backup, 'keyring.json'), 'utf8')).toBe(
      await readFile(join(env.KEEPSAKE_HOME, 'vault', 'keyring.json'), 'utf8'),
    );
    const want = await treeOf(src);

    // A new computer: no vault at all, only the backup and the recovery key.
    const bare = {
      KEEPSAKE_HOME: join(dir, 'new-computer'),
      KEEPSAKE_RECOVERY_KEY: init.recoveryKey,
    };
    const verify = await runCli(['verify', backup], { env: bare });
    expect(verify.code, verify.stderr).toBe(0);
    const direct = await runCli(['batch-decrypt', backup, join(dir, 'direct')], { env: bare });
    expect(direct.code, direct.stderr).toBe(0);
    expect(await treeOf(join(dir, 'direct'))).toEqual(want);

    // A wrong recovery key restores nothing.
    const wrong = await runCli(['vault', 'restore', backup, '--kdf-log-n', '10'], {
      env: {
        ...bare,
        KEEPSAKE_RECOVERY_KEY: (await cliVault(STRONG)).init.recoveryKey,
        KEEPSAKE_PASSWORD: NEWER,
      },
    });
    expect(wrong.code).toBe(3);
    expect(wrong.stderr).toContain('WRONG_PASSWORD');
    await expect(stat(join(dir, 'new-computer', 'vault', 'keyring.json'))).rejects.toThrow();

    // Restore sets a new password (checked by the policy) and installs the keyring.
    const weak = await runCli(['vault', 'restore', backup, '--kdf-log-n', '10'], {
      env: { ...bare, KEEPSAKE_PASSWORD: 'pw' },
    });
    expect(weak.stderr).toContain('WEAK_PASSWORD');
    const restore = await runCli(['vault', 'restore', backup, '--kdf-log-n', '10'], {
      env: { ...bare, KEEPSAKE_PASSWORD: NEWER },
    });
    expect(restore.code, restore.stderr).toBe(0);
    const restoredEnv = { KEEPSAKE_HOME: bare.KEEPSAKE_HOME, KEEPSAKE_PASSWORD: NEWER };
    const dec = await runCli(['batch-decrypt', backup, join(dir, 'restored')], {
      env: restoredEnv,
    });
    expect(dec.code, dec.stderr).toBe(0);
    expect(await treeOf(join(dir, 'restored'))).toEqual(want);
    // Never over a keyring that is there.
    const again = await runCli(['vault', 'restore', backup], {
      env: { ...bare, KEEPSAKE_PASSWORD: NEWER },
    });
    expect(again.code).toBe(3);
    expect(again.stderr).toContain('VAULT_EXISTS');
  });

  it('export-keyring writes a copy that restores the vault; --resume keeps the backup keyring current', async () => {
    const { dir, env, init } = await cliVault(STRONG);
    const src = await familyTree(dir);
    const backup = join(dir, 'backup');
    expect((await runCli(['batch-encrypt', src, backup], { env })).code).toBe(0);

    await mkdir(join(dir, 'usb'));
    const exp = await runCli(['vault', 'export-keyring', join(dir, 'usb'), '--json'], { env });
    expect(exp.code, exp.stderr).toBe(0);
    const file = (JSON.parse(exp.stdout) as { file: string }).file;
    expect(file).toBe(join(dir, 'usb', 'keyring.json'));
    expect((await runCli(['vault', 'export-keyring', file], { env })).stderr).toContain(
      'OUTPUT_EXISTS',
    );
    const home = join(dir, 'from-usb');
    const restore = await runCli(['vault', 'restore', file, '--kdf-log-n', '10'], {
      env: {
        KEEPSAKE_HOME: home,
        KEEPSAKE_RECOVERY_KEY: init.recoveryKey,
        KEEPSAKE_PASSWORD: NEWER,
      },
    });
    expect(restore.code, restore.stderr).toBe(0);
    const dec = await runCli(['batch-decrypt', backup, join(dir, 'out')], {
      env: { KEEPSAKE_HOME: home, KEEPSAKE_PASSWORD: NEWER },
    });
    expect(dec.code, dec.stderr).toBe(0);
    expect(await treeOf(join(dir, 'out'))).toEqual(await treeOf(src));

    // The password changes at home; the next --resume brings the backup's keyring along.
    expect(
      (await runCli(['vault', 'passwd'], { env: { ...env, KEEPSAKE_NEW_PASSWORD: NEWER } })).code,
    ).toBe(0);
    expect(
      (
        await runCli(['batch-encrypt', src, backup, '--resume'], {
          env: { ...env, KEEPSAKE_PASSWORD: NEWER },
        })
      ).code,
    ).toBe(0);
    const elsewhere = { KEEPSAKE_HOME: join(dir, 'elsewhere') };
    const oldPw = await runCli(['verify', backup], {
      env: { ...elsewhere, KEEPSAKE_PASSWORD: STRONG },
    });
    expect(oldPw.stderr).toContain('WRONG_PASSWORD');
    const newPw = await runCli(['verify', backup], {
      env: { ...elsewhere, KEEPSAKE_PASSWORD: NEWER },
    });
    expect(newPw.code, newPw.stderr).toBe(0);
  });
});
