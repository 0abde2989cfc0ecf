// The loopback servers (input source and output sink) tell their callers apart by the
// uid of the client socket: our own user is served, another user is dropped before a
// byte is read, even when it knows every secret.

import { spawn, spawnSync } from 'node:child_process';
import { createServer, request, type Server } from 'node:http';
import { afterEach, describe, expect, it } from 'vitest';
import { NOBODY, nobodyCannotRunNode } from '../testing/as-nobody';
import { listenOnLoopback } from './loopback-listen';

// Root-only cases also skip when nobody cannot run this Node binary (one under /root).
const isLinuxRoot =
  process.platform === 'linux' && process.getuid?.() === 0 && nobodyCannotRunNode() === undefined;

const servers: Server[] = [];
afterEach(() => {
  for (const server of servers.splice(0)) {
    server.closeAllConnections();
    server.close();
  }
});

async function counting() {
  const seen: string[] = [];
  const server = createServer((req, res) => {
    seen.push(`${req.method} ${req.url}`);
    req.resume();
    res.end('media');
  });
  servers.push(server);
  const host = await listenOnLoopback(server);
  return { port: Number(host.split(':')[1]), seen };
}

function get(port: number): Promise<string> {
  return new Promise((resolve) => {
    const req = request({ host: '127.0.0.1', port, path: '/x', agent: false }, (res) => {
      let body = '';
      res.setEncoding('utf8').on('data', (t: string) => (body += t));
      res.on('end', () => resolve(`${res.statusCode} ${body}`));
    });
    req.on('error', (err: NodeJS.ErrnoException) => resolve(err.code ?? err.message));
    req.end();
  });
}

const NOBODY_GET = (port: number) => `
const req = require('node:http').request({ host: '127.0.0.1', port: ${port}, path: '/nobody', agent: false }, (res) => {
  res.resume();
  res.on('end', () => console.log('answered ' + res.statusCode));
});
req.on('error', (e) => console.log(e.code));
req.end();`;

const NOBODY_SEND_AND_CLOSE = (port: number) => `
const s = require('node:net').connect(${port}, '127.0.0.1', () => {
  s.end('PUT /planted HTTP/1.1\\r\\nHost: x\\r\\nContent-Length: 2\\r\\n\\r\\nhi');
  setTimeout(() => process.exit(0), 50);
});`;

// From 127.0.0.2, with our server's own port as the source port: a client socket whose
// ports alone look like the server's accepted socket (owned by us) in /proc/net/tcp.
const NOBODY_GET_LOOKALIKE = (port: number) => `
const req = require('node:http').request({
  host: '127.0.0.1', port: ${port}, path: '/lookalike',
  localAddress: '127.0.0.2', localPort: ${port}, agent: false,
}, (res) => {
  res.resume();
  res.on('end', () => console.log('answered ' + res.statusCode));
});
req.on('error', (e) => console.log(e.code));
req.end();`;

/** As nobody: a GET that waits for its answer; says how it ended. */
function nobodyGet(port: number, script = NOBODY_GET): Promise<string> {
  const child = spawn(process.execPath, ['-e', script(port)], {
    uid: NOBODY,
    gid: NOBODY,
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  let out = '';
  child.stdout.setEncoding('utf8').on('data', (t: string) => (out += t));
  return new Promise((resolve) => child.on('close', () => resolve(out.trim())));
}

/**
 * As nobody: a PUT sent and closed at once. This blocks our event loop until nobody's
 * process has exited, so the connection is accepted only once its client has closed it
 * (the kernel then lists the client's socket without its owner).
 */
function nobodySendAndClose(port: number): void {
  spawnSync(process.execPath, ['-e', NOBODY_SEND_AND_CLOSE(port)], {
    uid: NOBODY,
    gid: NOBODY,
    stdio: 'inherit',
    timeout: 10_000,
  });
}

describe('listenOnLoopback', () => {
  it('serves our own user', async () => {
    const { port, seen } = await counting();
    expect(await get(port)).toBe('200 media');
    expect(seen).toEqual(['GET /x']);
  });

  // Root-only: the other user must be a real one (nobody), and only root can be it.
  // Linux-only: the socket table is Linux's.
  it.skipIf(!isLinuxRoot)(
    "drops another user's connections before reading them, and one already closed",
    async () => {
      const { port, seen } = await counting();
      // Nobody's GET waited for an answer and was reset: the kernel named its uid.
      expect(await nobodyGet(port)).toBe('ECONNRESET');
      // Its send-and-close PUT could not be attributed, and was dropped as well.
      nobodySendAndClose(port);
      await new Promise((r) => setTimeout(r, 200));
      expect(seen).toEqual([]);
      expect(await get(port)).toBe('200 media');
      expect(seen).toEqual(['GET /x']);
    },
  );

  it.skipIf(!isLinuxRoot)(
    "drops another user's connection whose ports look like the server's own socket",
    async () => {
      const { port, seen } = await counting();
      // Before addresses were compared too, most of these were served as ours.
      for (let i = 0; i < 6; i++) {
        expect(await nobodyGet(port, NOBODY_GET_LOOKALIKE)).toMatch(/^(ECONNRESET|EADDRINUSE)$/);
      }
      expect(seen).toEqual([]);
    },
  );
});
