// A real engine process (`keepsake desktop`, as the Electron app starts it) and a real
// CLI command, read from the outside through /proc: no core dump may hold their keys.

import { spawn, type ChildProcess } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { READY_PREFIX } from '../desktop/desktop-entry';
import { CLI } from '../testing/cli';
import { freshDir } from '../testing/tmp';

const linux = process.platform === 'linux';

/** "Max core file size" soft and hard limits of `pid`, as /proc shows them. */
async function coreLimits(pid: number): Promise<string[]> {
  const limits = await readFile(`/proc/${pid}/limits`, 'utf8');
  const line = limits.split('\n').find((l) => l.startsWith('Max core file size'));
  return line?.split(/\s{2,}/).slice(1, 3) ?? [];
}

/**
 * The CLI started the way a shell that collects dumps would start it: core size
 * unlimited (prlimit execs the command, so the pid is the CLI's own).
 */
function startWithDumps(args: string[], home: string): ChildProcess {
  return spawn('prlimit', ['--core=unlimited:unlimited', process.execPath, CLI, ...args], {
    env: { PATH: process.env.PATH ?? '', KEEPSAKE_HOME: home },
    stdio: ['pipe', 'pipe', 'pipe'],
  });
}

async function waitForOutput(child: ChildProcess, what: RegExp): Promise<void> {
  let seen = '';
  await new Promise<void>((resolve, reject) => {
    const look = (d: Buffer) => {
      seen += d.toString();
      if (what.test(seen)) resolve();
    };
    child.stdout!.on('data', look);
    child.stderr!.on('data', look);
    child.on('close', (code) => reject(new Error(`exited (${code}) before "${what}": ${seen}`)));
  });
}

// Linux only: elsewhere there is no /proc to read the limits from (see no-core-dumps.ts).
describe.skipIf(!linux)('core dumps are off', () => {
  it('in the desktop engine: core size 0 (soft and hard) and no memory in the dump filter', async () => {
    const dir = await freshDir();
    const child = startWithDumps(
      ['desktop', '--port', '0', '--data-dir', join(dir, 'data')],
      join(dir, 'home'),
    );
    try {
      await waitForOutput(child, new RegExp(READY_PREFIX));
      const pid = child.pid!;
      expect(await coreLimits(pid)).toEqual(['0', '0']);
      expect((await readFile(`/proc/${pid}/coredump_filter`, 'utf8')).trim()).toBe('00000000');
    } finally {
      child.kill('SIGTERM');
    }
  });

  it('in a CLI command holding a key', async () => {
    const dir = await freshDir();
    // Holds the key while it waits for the plaintext on stdin.
    const child = startWithDumps(
      ['chunked', 'encrypt', '--key-hex', '42'.repeat(32)],
      join(dir, 'home'),
    );
    try {
      // The limit is set first thing in main(); give the process a moment to get there.
      const pid = child.pid!;
      await new Promise((r) => setTimeout(r, 200)); // prlimit has exec'd node by then
      const deadline = Date.now() + 20_000;
      let limits = await coreLimits(pid);
      while (limits[0] !== '0' && Date.now() < deadline) {
        await new Promise((r) => setTimeout(r, 100));
        limits = await coreLimits(pid);
      }
      expect(limits).toEqual(['0', '0']);
    } finally {
      child.kill('SIGTERM');
    }
  });
});
