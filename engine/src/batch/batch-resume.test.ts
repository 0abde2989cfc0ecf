// Batches killed at awkward moments, through the real CLI: `batch-encrypt` killed before
// its first manifest save resumes into its own destination.

import { existsSync, statSync } from 'node:fs';
import { mkdir, readdir, rm, writeFile } from 'node:fs/promises';
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
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
