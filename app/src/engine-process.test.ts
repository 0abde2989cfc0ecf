// Starts the real engine under plain Node, as main.ts does under Electron-as-Node.
import { fileURLToPath } from 'node:url';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { parseReadyLine, startEngineProcess } from './engine-process';
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
    const engine = await startEngineProcess({
      command: process.execPath,
      args: [entry, 'desktop', '--data-dir', dataDir, '--port', '0'],
    });
    started.push(engine);
    const live = await fetch(`${engine.origin}/live`);
    expect(await live.json()).toEqual({ ok: true });
    const status = await fetch(`${engine.origin}/v1/status`, {
      headers: { authorization: `Bearer ${engine.token}` },
    });
    expect(status.status).toBe(200);

    await engine.stop();
    expect(engine.child.exitCode).toBe(0);
    await expect(fetch(`${engine.origin}/live`)).rejects.toThrow();
  });

  it('reports an engine that dies before it is ready, with its stderr', async () => {
    await expect(
      startEngineProcess({
        command: process.execPath,
        args: [entry, 'desktop', '--port', 'not-a-port'],
      }),
    ).rejects.toThrow(/exited \(2\) before it was ready: keepsake: --port must be a number/);
  });
});
