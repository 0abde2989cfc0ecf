// Browser mode keeps its address: a restart on the same data folder serves the same URL
// (port and token), so an open tab and a bookmark keep working; the token file is the
// owner's only; a taken port moves to a free one and says so; --new-token rotates; the
// desktop app's `--port 0` keeps a per-launch token.

import { spawn } from 'node:child_process';
import { stat } from 'node:fs/promises';
import { createServer, type Server } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { CLI } from '../testing/cli';
import { freshDir } from '../testing/tmp';
import { addressPath } from './desktop-address';
import { READY_PREFIX, runDesktop, type RunningDesktop } from './desktop-entry';

const cleanup: (() => Promise<unknown>)[] = [];
afterEach(async () => {
  for (const c of cleanup.splice(0).reverse()) await c();
});

function sink() {
  let text = '';
  const stream = {
    write: (chunk: string) => ((text += chunk), true),
  } as unknown as NodeJS.WritableStream;
  return { stream, text: () => text };
}

async function start(dataDir: string, opts: { port?: number; newToken?: boolean } = {}) {
  const out = sink();
  const err = sink();
  const engine = await runDesktop({ dataDir, ...opts, out: out.stream, err: err.stream });
  let closed = false;
  const close = async () => {
    if (!closed) await engine.close();
    closed = true;
  };
  cleanup.push(close);
  return { engine, close, line: out.text().trim(), err: err.text };
}

async function status(engine: Pick<RunningDesktop, 'url'>, token: string): Promise<number> {
  const res = await fetch(`${engine.url}/v1/status`, {
    headers: { authorization: `Bearer ${token}` },
  });
  await res.body?.cancel();
  return res.status;
}

describe('browser mode address', () => {
  it('a restart serves the same URL; the token is kept 0600; --new-token rotates it', async () => {
    const dataDir = await freshDir();
    const first = await start(dataDir);
    expect(first.line).toMatch(
      /^Keepsake is running at http:\/\/127\.0\.0\.1:\d+\/#token=[\w-]{43}$/,
    );
    expect((await stat(addressPath(dataDir))).mode & 0o777).toBe(0o600);
    await first.close();

    const second = await start(dataDir);
    expect(second.line).toBe(first.line);
    expect(await status(second.engine, first.engine.token)).toBe(200);
    expect(second.err()).toBe('');
    await second.close();

    const rotated = await start(dataDir, { newToken: true });
    expect(rotated.engine.port).toBe(first.engine.port);
    expect(rotated.engine.token).not.toBe(first.engine.token);
    expect(await status(rotated.engine, first.engine.token)).toBe(401);
    await rotated.close();
    // The rotated token is the one kept.
    expect((await start(dataDir)).line).toBe(rotated.line);
  });

  it('moves to a free port when the last one is taken, and says where', async () => {
    const dataDir = await freshDir();
    const first = await start(dataDir);
    const port = first.engine.port;
    await first.close();
    const squatter: Server = createServer();
    await new Promise<void>((resolve) => squatter.listen(port, '127.0.0.1', resolve));
    cleanup.push(() => new Promise((resolve) => squatter.close(resolve)));

    const moved = await start(dataDir);
    expect(moved.engine.port).not.toBe(port);
    expect(moved.engine.token).toBe(first.engine.token);
    expect(moved.err()).toContain(`port ${port} is in use`);
    expect(moved.err()).toContain(`moved to port ${moved.engine.port}`);
    expect(await status(moved.engine, first.engine.token)).toBe(200);
  });

  it('--port 0 (the desktop app) gets a new token each start and saves nothing', async () => {
    const dataDir = await freshDir();
    const a = await start(dataDir, { port: 0 });
    await a.close();
    const b = await start(dataDir, { port: 0 });
    expect(b.engine.token).not.toBe(a.engine.token);
    await expect(stat(addressPath(dataDir))).rejects.toThrow();
  });

  it('the CLI keeps the address without --port and rotates with --new-token', async () => {
    const dataDir = await freshDir();
    const launch = async (args: string[]) => {
      const child = spawn(process.execPath, [CLI, 'desktop', '--data-dir', dataDir, ...args], {
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      const exited = new Promise((resolve) => child.on('exit', resolve));
      cleanup.push(async () => {
        if (child.exitCode === null) child.kill('SIGKILL');
        await exited;
      });
      let stdout = '';
      const line = await new Promise<string>((resolve, reject) => {
        child.stdout.on('data', (c: Buffer) => {
          stdout += c.toString();
          if (stdout.includes('\n')) resolve(stdout.split('\n')[0]!);
        });
        child.on('exit', () => reject(new Error('exited before ready')));
      });
      child.kill('SIGTERM');
      await exited;
      return line.slice(READY_PREFIX.length);
    };
    const first = await launch([]);
    expect(await launch([])).toBe(first);
    const rotated = await launch(['--new-token']);
    expect(rotated).not.toBe(first);
    expect(new URL(rotated).port).toBe(new URL(first).port);
  });
});
