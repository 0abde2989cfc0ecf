// Runs `keepsake desktop` as a real child process, the way the Electron app and
// `npm start` do, and talks to it over HTTP.

import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { freshDir } from '../testing/tmp';
import { READY_PREFIX } from './desktop-entry';

const entry = fileURLToPath(new URL('../../bin/keepsake.mjs', import.meta.url));
const children: ChildProcess[] = [];
afterEach(() => {
  for (const child of children.splice(0)) if (child.exitCode === null) child.kill('SIGKILL');
});

function launch(args: string[], ipc = false) {
  const child = spawn(process.execPath, [entry, 'desktop', ...args], {
    stdio: ['ignore', 'pipe', 'pipe', ...(ipc ? (['ipc'] as const) : [])],
  });
  children.push(child);
  let stdout = '';
  let stderr = '';
  child.stdout?.on('data', (c: Buffer) => (stdout += c.toString()));
  child.stderr?.on('data', (c: Buffer) => (stderr += c.toString()));
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  const ready = new Promise<string>((resolve, reject) => {
    child.stdout?.on('data', () => {
      if (stdout.includes('\n')) resolve(stdout.split('\n')[0] ?? '');
    });
    child.on('exit', () => reject(new Error(`exited before ready: ${stderr}`)));
  });
  ready.catch(() => undefined); // only some tests wait for it
  return { child, ready, exited, output: () => ({ stdout, stderr }) };
}

describe('desktop entry', () => {
  it('prints one ready line, serves with the token, and stops cleanly on SIGTERM', async () => {
    const dataDir = await freshDir();
    const run = launch(['--data-dir', dataDir, '--port', '0']);
    const line = await run.ready;
    expect(line).toMatch(/^Keepsake is running at http:\/\/127\.0\.0\.1:\d+\/#token=[\w-]{43}$/);

    const open = new URL(line.slice(READY_PREFIX.length));
    const token = new URLSearchParams(open.hash.slice(1)).get('token');
    const status = await fetch(`${open.origin}/v1/status`, {
      headers: { authorization: `Bearer ${token}` },
    });
    expect(status.status).toBe(200);
    expect(await status.json()).toMatchObject({ dataDir, vault: { exists: false } });

    run.child.kill('SIGTERM');
    expect(await run.exited).toBe(0);
    expect(run.output().stdout).toBe(`${line}\n`);
    expect(run.output().stderr).toBe('');
    await expect(fetch(`${open.origin}/live`)).rejects.toThrow();
  });

  it('stops when its parent disconnects the IPC channel', async () => {
    const run = launch(['--data-dir', await freshDir()], true);
    await run.ready;
    run.child.disconnect();
    expect(await run.exited).toBe(0);
  });

  it('exits with the usage status on bad flags', async () => {
    const run = launch(['--port', 'eighty']);
    expect(await run.exited).toBe(2);
    expect(run.output().stderr).toBe(
      'keepsake: --port must be a number from 0 to 65535, not "eighty" [USAGE]\n',
    );
    expect(run.output().stdout).toBe('');
  });
});
