// Batches and single files killed at awkward moments, through the real CLI (SIGKILL, no
// warning): `batch-encrypt` killed before its first manifest save resumes into its own
// destination; a killed `decrypt`, `encrypt` or `batch-decrypt` leaves partial plaintext
// that the next run in that folder removes (and says so); `batch-decrypt --resume` keeps
// what was finished. Also: batch-decrypt never writes through a link in the restore folder.

import { existsSync, lstatSync, readFileSync, readdirSync, statSync } from 'node:fs';
import { mkdir, readdir, rm, symlink, writeFile } from 'node:fs/promises';
import { randomBytes } from 'node:crypto';
import { basename, join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { cliVault, runCli, startCli } from '../testing/cli';

describe('batch-encrypt killed before its first manifest save', () => {
  it('--resume continues into the destination it started (not "not empty and holds no batch")', async () => {
    const { dir, env } = await cliVault();
    const src = join(dir, 'src');
    await mkdir(src);
    for (let i = 0; i < 5; i++) await writeFile(join(src, `photo-${i}.jpg`), randomBytes(50_000));
    const enc = join(dir, 'enc');
    // The object folders are made just before the first manifest save: kill the run the
    // moment they appear. A round where the manifest won the race is tried again.
    let caught = false;
    for (let round = 0; round < 10 && !caught; round++) {
      const child = startCli(['batch-encrypt', src, enc], { env });
      child.stdin!.end();
      const exited = new Promise((resolve) => child.on('exit', resolve));
      const deadline = Date.now() + 30_000;
      // Polled without yielding: the window is a few milliseconds wide.
      while (Date.now() < deadline && !existsSync(join(enc, 'objects')) && child.exitCode === null);
      child.kill('SIGKILL');
      await exited;
      caught = !existsSync(join(enc, 'manifest.ksv'));
      if (!caught) await rm(enc, { recursive: true, force: true });
    }
    expect(caught, 'a kill landed before the first manifest save').toBe(true);
    expect(await readdir(enc)).toContain('objects');

    const resumed = await runCli(['batch-encrypt', src, enc, '--resume', '--json'], { env });
    expect(resumed.code, resumed.stderr).toBe(0);
    expect(JSON.parse(resumed.stdout)).toMatchObject({ encrypted: 5, filesTotal: 5 });
    expect((await runCli(['verify', enc], { env })).code).toBe(0);
    expect(statSync(join(enc, 'manifest.ksv')).size).toBeGreaterThan(0);
  });
});

/** Every temp file (`.ks-tmp-*`) under `root`, with its size. */
function tempsUnder(root: string): { path: string; size: number }[] {
  return readdirSync(root, { recursive: true, encoding: 'utf8' })
    .filter((rel) => basename(rel).startsWith('.ks-tmp-'))
    .map((rel) => ({ path: join(root, rel), size: statSync(join(root, rel)).size }));
}

/** Starts the CLI and kills it with SIGKILL once `ready()` holds (polled without yielding). */
async function killWhen(args: string[], env: Record<string, string>, ready: () => boolean) {
  const child = startCli(args, { env });
  child.stdin!.end();
  const exited = new Promise((resolve) => child.on('exit', resolve));
  const deadline = Date.now() + 60_000;
  while (Date.now() < deadline && child.exitCode === null && !ready());
  child.kill('SIGKILL');
  await exited;
  return child.signalCode;
}

describe('decrypts killed mid-run leave partial plaintext; the next run removes it', () => {
  it('batch-decrypt killed with SIGKILL: --resume removes the partial file, keeps finished ones, restores the rest', async () => {
    const { dir, env } = await cliVault();
    const src = join(dir, 'src');
    await mkdir(join(src, 'Tapes'), { recursive: true });
    await mkdir(join(src, 'Photos'), { recursive: true });
    for (let i = 0; i < 8; i++) {
      await writeFile(join(src, 'Tapes', `tape-${i}.dv`), randomBytes(8 << 20));
      await writeFile(join(src, 'Photos', `img-${i}.jpg`), randomBytes(100_000));
    }
    const enc = join(dir, 'enc');
    expect((await runCli(['batch-encrypt', src, enc], { env })).code).toBe(0);
    const out = join(dir, 'out');
    const finished = () =>
      readdirSync(out, { recursive: true, encoding: 'utf8' }).filter(
        (rel) => /\.(dv|jpg)$/.test(rel) && !basename(rel).startsWith('.ks-tmp-'),
      ).length;
    // Killed while a tape is half written, after some files are done.
    const signal = await killWhen(['batch-decrypt', enc, out, '--jobs', '1'], env, () => {
      try {
        return finished() >= 2 && tempsUnder(out).some((t) => t.size > 1 << 20);
      } catch {
        return false;
      }
    });
    expect(signal).toBe('SIGKILL');
    const left = tempsUnder(out);
    expect(left.length).toBeGreaterThan(0);
    const done = finished();
    expect(done).toBeGreaterThanOrEqual(2);

    const resumed = await runCli(['batch-decrypt', enc, out, '--resume', '--json'], { env });
    expect(resumed.code, resumed.stderr).toBe(0);
    const report = JSON.parse(resumed.stdout) as {
      alreadyDone: number;
      restored: number;
      cleaned: { files: number; bytes: number };
    };
    expect(report.alreadyDone).toBe(done);
    expect(report.restored).toBe(16 - done);
    expect(report.cleaned.files).toBe(left.length);
    expect(tempsUnder(out)).toEqual([]);
    for (const folder of ['Tapes', 'Photos']) {
      for (const name of readdirSync(join(src, folder))) {
        expect(
          readFileSync(join(out, folder, name)).equals(readFileSync(join(src, folder, name))),
        ).toBe(true);
      }
    }
  }, 120_000);

  it('decrypt and encrypt killed with SIGKILL: the next run in that folder removes the leftover and says so', async () => {
    const { dir, env } = await cliVault();
    const plain = join(dir, 'tape.dv');
    await writeFile(plain, randomBytes(96 << 20));
    const ksv = join(dir, 'tape.ksv');
    expect((await runCli(['encrypt', plain, ksv], { env })).code).toBe(0);

    for (const [args, folder] of [
      [['decrypt', ksv, join(dir, 'restored')], join(dir, 'restored')],
      [['encrypt', plain, join(dir, 'sealed')], join(dir, 'sealed')],
    ] as const) {
      await mkdir(folder);
      const signal = await killWhen([...args], env, () =>
        tempsUnder(folder).some((t) => t.size > 0),
      );
      expect(signal).toBe('SIGKILL');
      const left = tempsUnder(folder);
      expect(left).toHaveLength(1);
      const again = await runCli([...args], { env });
      expect(again.code, again.stderr).toBe(0);
      expect(again.stdout).toMatch(
        /Removed 1 partial file \(.+\) left in .+ by an interrupted run/,
      );
      expect(tempsUnder(folder)).toEqual([]);
    }
    const restored = join(dir, 'restored', 'tape.dv');
    expect(readFileSync(restored).equals(readFileSync(plain))).toBe(true);
    // Decrypted media is private to its owner.
    expect(statSync(restored).mode & 0o777).toBe(0o600);
  }, 120_000);

  it("a live run's temp file is left alone", async () => {
    const { dir, env } = await cliVault();
    await writeFile(join(dir, 'a.txt'), 'a');
    const folder = join(dir, 'sealed');
    await mkdir(folder);
    // This test process is alive: a temp named for its pid is a write in flight.
    const live = join(folder, `.ks-tmp-${process.pid}-0123456789ab`);
    await writeFile(live, 'in flight');
    const res = await runCli(['encrypt', join(dir, 'a.txt'), folder], { env });
    expect(res.code, res.stderr).toBe(0);
    expect(res.stdout).not.toContain('Removed');
    expect(readFileSync(live, 'utf8')).toBe('in flight');
  });
});

describe('batch-decrypt and links in the restore folder', () => {
  it('refuses a folder symlink planted in the restore folder, writing nothing through it', async () => {
    const { dir, env } = await cliVault();
    const src = join(dir, 'src');
    await mkdir(join(src, 'Photos'), { recursive: true });
    await writeFile(join(src, 'Photos', 'private.jpg'), 'private');
    await writeFile(join(src, 'top.txt'), 'top');
    const enc = join(dir, 'enc');
    expect((await runCli(['batch-encrypt', src, enc], { env })).code).toBe(0);
    const out = join(dir, 'out');
    const elsewhere = join(dir, 'elsewhere');
    await mkdir(out);
    await mkdir(elsewhere);
    await symlink(elsewhere, join(out, 'Photos'));
    const res = await runCli(['batch-decrypt', enc, out], { env });
    expect(res.code).toBe(5);
    expect(res.stderr).toContain('OUTPUT_EXISTS');
    expect(res.stderr).toContain(join(out, 'Photos'));
    expect(res.stderr).toContain('never writes through links');
    expect(await readdir(elsewhere)).toEqual([]);
    expect(lstatSync(join(out, 'Photos')).isSymbolicLink()).toBe(true);
  });
});
