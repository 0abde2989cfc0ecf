// The bridge handlers with Electron replaced by plain objects: every channel refuses
// foreign senders and bad arguments; reveal works only inside chosen or engine folders, or
// on exactly a path the engine reports as delivered.
// fetchEngineFolders runs against the real engine.
import { mkdtemp, rm } from 'node:fs/promises';
import { createServer } from 'node:http';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import {
  fetchDeliveredPaths,
  fetchEngineFolders,
  isInside,
  registerBridgeHandlers,
} from './bridge-handlers';
import type { BridgeHost, InvokeEvent } from './bridge-handlers';
import { nodeEngineSpawner, startEngineProcess } from './engine-process';
import type { EngineAddress } from './engine-process';
import { IPC_CHANNELS } from './ipc-channels';

// window-security.ts (where isTrustedSender lives) imports Electron; nothing here uses it.
vi.mock('electron', () => ({}));

const ENGINE: EngineAddress = {
  origin: 'http://127.0.0.1:51234',
  token: 'tok',
  openUrl: 'http://127.0.0.1:51234/#token=tok',
};
const UI: InvokeEvent = { senderFrame: { url: `${ENGINE.origin}/library` }, sender: 'window' };
const FOREIGN: InvokeEvent[] = [
  { senderFrame: { url: 'https://evil.example/' }, sender: 'x' },
  { senderFrame: { url: 'http://127.0.0.1:51235/' }, sender: 'x' },
  { senderFrame: { url: 'file:///app/index.html' }, sender: 'x' },
  { senderFrame: null, sender: 'x' },
  { sender: 'x' },
];

type Handler = (event: InvokeEvent, ...args: unknown[]) => unknown;
let handlers: Map<string, Handler>;
let host: { [K in keyof BridgeHost]: ReturnType<typeof vi.fn> };
let engine: EngineAddress | undefined;
let picked: Set<string>;

beforeEach(() => {
  handlers = new Map();
  engine = ENGINE;
  host = {
    engine: vi.fn(() => engine),
    showFolderPicker: vi.fn(async () => '/home/ann/Tapes'),
    showItemInFolder: vi.fn(),
    showNotification: vi.fn(),
    engineFolders: vi.fn(async () => ['/home/ann/.local/share/keepsake', '/media/ann/Photos']),
    deliveredPaths: vi.fn(async () => ['/home/ann/Videos/Keepsake/beach (web-h264).mp4']),
  };
  ({ picked } = registerBridgeHandlers(
    { handle: (channel, listener) => handlers.set(channel, listener) },
    host as unknown as BridgeHost,
  ));
});

const call = async (channel: string, event: InvokeEvent, ...args: unknown[]) =>
  handlers.get(channel)?.(event, ...args);

describe('registerBridgeHandlers', () => {
  it('handles exactly the bridge channels', () => {
    expect([...handlers.keys()].sort()).toEqual([...IPC_CHANNELS].sort());
  });

  it.each(IPC_CHANNELS)('%s refuses senders that are not the engine UI', async (channel) => {
    for (const event of FOREIGN) {
      await expect(call(channel, event, '/home/ann/Tapes/a.mov', 'b')).rejects.toThrow(
        /refused: the sender is not the Keepsake UI/,
      );
    }
    engine = undefined; // restarting: nobody is trusted
    await expect(call(channel, UI, '/x', 'y')).rejects.toThrow(/refused/);
    expect(host.showFolderPicker).not.toHaveBeenCalled();
    expect(host.showItemInFolder).not.toHaveBeenCalled();
    expect(host.showNotification).not.toHaveBeenCalled();
  });

  it('gives the UI the current engine origin and token', async () => {
    expect(await call('keepsake:engine-info', UI)).toEqual({ url: ENGINE.origin, token: 'tok' });
  });

  it('picks a folder modal to the sender and remembers it for reveal', async () => {
    expect(await call('keepsake:pick-folder', UI)).toBe('/home/ann/Tapes');
    expect(host.showFolderPicker).toHaveBeenCalledWith('window');
    expect([...picked]).toEqual(['/home/ann/Tapes']);
    await call('keepsake:reveal', UI, '/home/ann/Tapes/1994/christmas.mov');
    expect(host.showItemInFolder).toHaveBeenCalledWith('/home/ann/Tapes/1994/christmas.mov');

    host.showFolderPicker.mockResolvedValueOnce(undefined);
    expect(await call('keepsake:pick-folder', UI)).toBeUndefined();
    expect(picked.size).toBe(1);
  });

  it('reveals inside the folders the engine works in', async () => {
    await call('keepsake:reveal', UI, '/media/ann/Photos/out/a.jpg');
    await call('keepsake:reveal', UI, '/home/ann/.local/share/keepsake');
    expect(host.engineFolders).toHaveBeenCalledWith(ENGINE);
    expect(host.showItemInFolder.mock.calls).toEqual([
      ['/media/ann/Photos/out/a.jpg'],
      ['/home/ann/.local/share/keepsake'],
    ]);
  });

  it.each([
    ['/etc/passwd', /only reveals files in its own or chosen folders/],
    ['/media/ann/Photos/../../../etc/passwd', /only reveals/],
    ['/media/ann/Photos-other/a.jpg', /only reveals/],
    ['relative/a.jpg', /must be absolute/],
    ['/media/ann/Photos/a\0.jpg', /must be absolute/],
    ['', /path must be a string of 1 to 4096/],
    ['/' + 'a'.repeat(4096), /path must be a string/],
    [42, /path must be a string/],
    [undefined, /path must be a string/],
  ])('refuses to reveal %j', async (path, message) => {
    await expect(call('keepsake:reveal', UI, path)).rejects.toThrow(message);
    expect(host.showItemInFolder).not.toHaveBeenCalled();
  });

  it('reveals a delivered result the engine reports, exactly that path and nothing near it', async () => {
    await call('keepsake:reveal', UI, '/home/ann/Videos/Keepsake/beach (web-h264).mp4');
    expect(host.deliveredPaths).toHaveBeenCalledWith(ENGINE);
    expect(host.showItemInFolder).toHaveBeenCalledWith(
      '/home/ann/Videos/Keepsake/beach (web-h264).mp4',
    );
    for (const path of [
      '/home/ann/Videos/Keepsake/other.mp4',
      '/home/ann/Videos/Keepsake',
      '/home/ann/Videos/Keepsake/beach (web-h264).mp4/../../../.ssh/id_rsa',
    ]) {
      await expect(call('keepsake:reveal', UI, path)).rejects.toThrow(/only reveals/);
    }
    host.deliveredPaths.mockRejectedValue(new Error('engine down'));
    await expect(
      call('keepsake:reveal', UI, '/home/ann/Videos/Keepsake/beach (web-h264).mp4'),
    ).rejects.toThrow(/only reveals/);
    expect(host.showItemInFolder).toHaveBeenCalledTimes(1);
  });

  it('still reveals in picked folders when the engine cannot list its folders', async () => {
    host.engineFolders.mockRejectedValue(new Error('engine down'));
    await call('keepsake:pick-folder', UI);
    await call('keepsake:reveal', UI, '/home/ann/Tapes/a.mov');
    await expect(call('keepsake:reveal', UI, '/media/ann/Photos/a.jpg')).rejects.toThrow(
      /only reveals/,
    );
  });

  it('shows a notification with length-limited strings', async () => {
    await call('keepsake:notify', UI, 'Encoding finished', '3 tapes are ready to watch');
    await call('keepsake:notify', UI, 'Done', '');
    expect(host.showNotification.mock.calls).toEqual([
      ['Encoding finished', '3 tapes are ready to watch'],
      ['Done', ''],
    ]);
    for (const [title, body] of [
      ['', 'b'],
      ['t'.repeat(101), 'b'],
      ['t', 'b'.repeat(301)],
      [1, 'b'],
      ['t', { toString: () => 'b' }],
      ['t', undefined],
    ]) {
      await expect(call('keepsake:notify', UI, title, body)).rejects.toThrow(/refused/);
    }
    expect(host.showNotification).toHaveBeenCalledTimes(2);
  });
});

describe('isInside', () => {
  it('accepts the folder itself and what is below it, nothing beside it', () => {
    expect(isInside('/a/b', '/a/b')).toBe(true);
    expect(isInside('/a/b/c/d', '/a/b')).toBe(true);
    expect(isInside('/a/bc', '/a/b')).toBe(false);
    expect(isInside('/a', '/a/b')).toBe(false);
    expect(isInside('/a/b/..c', '/a/b')).toBe(true);
    expect(isInside('/a/b', 'a/b')).toBe(false);
  });
});

describe('fetchEngineFolders', () => {
  let dataDir: string;
  afterEach(() => rm(dataDir, { recursive: true, force: true }));

  it("reports the real engine's data folder (library folders need an unlocked vault)", async () => {
    dataDir = await mkdtemp(join(tmpdir(), 'keepsake-folders-'));
    const entry = fileURLToPath(new URL('../../engine/bin/keepsake.mjs', import.meta.url));
    const running = await startEngineProcess(
      nodeEngineSpawner({
        command: process.execPath,
        args: [entry, 'desktop', '--data-dir', dataDir, '--port', '0'],
      }),
    );
    try {
      expect(await fetchEngineFolders(running)).toEqual([dataDir]);
      expect(await fetchEngineFolders({ ...running, token: 'wrong' })).toEqual([]);
    } finally {
      await running.stop();
    }
    expect(await fetchEngineFolders(running)).toEqual([]);
  });
});

describe('fetchDeliveredPaths', () => {
  let server: Server | undefined;
  afterEach(() => new Promise<void>((done) => (server ? server.close(() => done()) : done())));

  /** A server on port 0 answering GET /v1/jobs as the engine does, with `jobs`. */
  async function engineWith(jobs: unknown): Promise<EngineAddress & { asked: string[] }> {
    const asked: string[] = [];
    server = createServer((req, res) => {
      asked.push(`${req.url} ${req.headers.authorization}`);
      if (req.headers.authorization !== 'Bearer tok') {
        res.writeHead(401).end('{}');
        return;
      }
      res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(jobs));
    });
    await new Promise<void>((done) => server!.listen(0, '127.0.0.1', done));
    const { port } = server.address() as AddressInfo;
    const origin = `http://127.0.0.1:${port}`;
    return { origin, token: 'tok', openUrl: `${origin}/#token=tok`, asked };
  }

  it('lists the saved deliveries of succeeded jobs, absolute paths only', async () => {
    const running = await engineWith([
      { id: 'j1', delivery: { state: 'saved', path: '/home/ann/Videos/a (web-h264).mp4' } },
      { id: 'j2', delivery: { state: 'saving' } },
      { id: 'j3', delivery: { state: 'failed', message: 'disk full' } },
      { id: 'j4' },
      { id: 'j5', delivery: { state: 'saved', path: 'relative/b.mp4' } },
      { id: 'j6', delivery: { state: 'saved', path: 42 } },
      null,
    ]);
    expect(await fetchDeliveredPaths(running)).toEqual(['/home/ann/Videos/a (web-h264).mp4']);
    expect(running.asked).toEqual(['/v1/jobs?state=succeeded&limit=1000 Bearer tok']);
    expect(await fetchDeliveredPaths({ ...running, token: 'wrong' })).toEqual([]);
  });

  it('answers nothing for an answer that is not a list, or no engine', async () => {
    const running = await engineWith({ code: 'VAULT_LOCKED' });
    expect(await fetchDeliveredPaths(running)).toEqual([]);
    await new Promise<void>((done) => server!.close(() => done()));
    server = undefined;
    expect(await fetchDeliveredPaths(running)).toEqual([]);
  });
});
