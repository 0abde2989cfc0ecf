// Starts the real engine as a plain Node child; main.ts runs the same engine in an
// Electron utility process through the same EngineChild interface.
import { fileURLToPath } from 'node:url';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it, onTestFinished } from 'vitest';
import { spawn } from 'node:child_process';
import {
  ENGINE_STOP_MESSAGE,
  nodeEngineSpawner,
  parseReadyLine,
  startEngineProcess,
  waitForLive,
} from './engine-process';
import type { EngineProcess } from './engine-process';

const entry = fileURLToPath(new URL('../../engine/bin/keepsake.mjs', import.meta.url));
const started: EngineProcess[] = [];
const dirs: string[] = [];
afterEach(async () => {
  await Promise.all(started.splice(0).map((e) => e.stop()));
  await Promise.all(dirs.splice(0).map((d) => rm(d, { recursive: true, force: true })));
});

describe('parseReadyLine', () => {
  it('reads the engine URL and token', () => {
    expect(parseReadyLine('Keepsake is running at http://127.0.0.1:4242/#token=ab_C-9')).toEqual({
      openUrl: 'http://127.0.0.1:4242/#token=ab_C-9',
      origin: 'http://127.0.0.1:4242',
      token: 'ab_C-9',
    });
  });

  it.each([
    'Keepsake is running at http://0.0.0.0:4242/#token=abc',
    'Keepsake is running at https://evil.example/#token=abc',
    'Keepsake is running at http://127.0.0.1:4242/',
    'something else',
  ])('ignores %j', (line) => {
    expect(parseReadyLine(line)).toBeUndefined();
  });
});

describe('startEngineProcess', () => {
  it('starts the engine, waits for /live and stops it', async () => {
    const dataDir = await mkdtemp(join(tmpdir(), 'keepsake-app-'));
    dirs.push(dataDir);
    const engine = await startEngineProcess(
      nodeEngineSpawner({
        command: process.execPath,
        args: [entry, 'desktop', '--data-dir', dataDir, '--port', '0'],
      }),
    );
    started.push(engine);
    const live = await fetch(`${engine.origin}/live`);
    expect(await live.json()).toEqual({ ok: true });
    const status = await fetch(`${engine.origin}/v1/status`, {
      headers: { authorization: `Bearer ${engine.token}` },
    });
    expect(status.status).toBe(200);

    expect(await engine.stop()).toEqual({ code: 0, signal: null });
    await expect(fetch(`${engine.origin}/live`)).rejects.toThrow();
  });

  it('reports an engine that dies before it is ready, with its stderr', async () => {
    await expect(
      startEngineProcess(
        nodeEngineSpawner({
          command: process.execPath,
          args: [entry, 'desktop', '--port', 'not-a-port'],
        }),
      ),
    ).rejects.toThrow(/exited \(2\) before it was ready: keepsake: --port must be a number/);
  });

  it('reports a program that cannot be started', async () => {
    await expect(
      startEngineProcess(nodeEngineSpawner({ command: '/nonexistent/keepsake', args: [] })),
    ).rejects.toThrow(/exited \(spawn \/nonexistent\/keepsake ENOENT\) before it was ready/);
  });

  it('kills an engine that ignores SIGTERM once the grace period is over', async () => {
    // A stand-in that prints a ready line for a real server but ignores SIGTERM.
    const script = [
      "const http = require('node:http');",
      "process.on('SIGTERM', () => {});",
      'const server = http.createServer((_q, r) => r.end(\'{"ok":true}\'));',
      "server.listen(0, '127.0.0.1', () => console.log('Keepsake is running at http://127.0.0.1:' + server.address().port + '/#token=stubborn'));",
    ].join('\n');
    const engine = await startEngineProcess(
      nodeEngineSpawner({ command: process.execPath, args: ['-e', script] }),
    );
    started.push(engine);
    const before = Date.now();
    expect(await engine.stop(300)).toEqual({ code: null, signal: 'SIGKILL' });
    expect(Date.now() - before).toBeGreaterThanOrEqual(250);
  });
});

describe('the engine in an Electron utility process', () => {
  const standIn = new URL('./fixtures/utility-process-stand-in.mjs', import.meta.url).href;

  it('exits by itself once SIGTERM has closed it, although its event loop stays busy', async () => {
    const dataDir = await mkdtemp(join(tmpdir(), 'keepsake-app-'));
    dirs.push(dataDir);
    const engine = await startEngineProcess(
      nodeEngineSpawner({
        command: process.execPath,
        args: ['--import', standIn, entry, 'desktop', '--data-dir', dataDir, '--port', '0'],
      }),
    );
    started.push(engine);
    const before = Date.now();
    // Without the explicit exit it would linger until SIGKILL at the end of the grace.
    expect(await engine.stop(8_000)).toEqual({ code: 0, signal: null });
    expect(Date.now() - before).toBeLessThan(5_000);
  });

  it('stops cleanly on the stop message main posts', async () => {
    const dataDir = await mkdtemp(join(tmpdir(), 'keepsake-app-'));
    dirs.push(dataDir);
    // A real Node child standing in for the utility process; the IPC message plays the
    // part of UtilityProcess.postMessage().
    const child = spawn(
      process.execPath,
      ['--import', standIn, entry, 'desktop', '--data-dir', dataDir, '--port', '0'],
      { stdio: ['ignore', 'pipe', 'inherit', 'ipc'] },
    );
    const exited = new Promise<number | null>((resolve) => child.once('exit', resolve));
    onTestFinished(() => {
      if (child.exitCode === null) child.kill('SIGKILL');
    });
    const ready = await new Promise<string>((resolve) =>
      child.stdout?.on('data', (chunk: Buffer) => resolve(chunk.toString())),
    );
    const origin = parseReadyLine(ready.trim())?.origin;
    expect(origin).toBeDefined();
    await waitForLive(origin ?? '');
    child.send(ENGINE_STOP_MESSAGE);
    expect(await exited).toBe(0);
  });
});
