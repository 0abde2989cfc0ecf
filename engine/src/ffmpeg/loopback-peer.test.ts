// The loopback servers (input source and output sink) tell their callers apart by the
// uid of the client socket: our own user is served, another user is dropped, even when it
// knows every secret: by the sink before a byte is read, by the input source before it
// says more than that a password is needed.

import { spawn, spawnSync } from 'node:child_process';
import { createServer, request, type Server } from 'node:http';
import { connect, createServer as createNetServer, type AddressInfo, type Socket } from 'node:net';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { freshDir } from '../testing/tmp';
import { NOBODY, nobodyCannotRunNode } from '../testing/as-nobody';
import { listenOnLoopback } from './loopback-listen';
import { readTable } from './loopback-peer';
import { plainByteSource, serveLoopback } from './input-source';

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

/** The input source's request as FFmpeg sends it through its proxy, with `auth` if any. */
const NOBODY_PROXY_GET = (proxy: string, auth: string | undefined) => (port: number) => `
const headers = { Host: 'keepsake.invalid', Range: 'bytes=0-' };
${auth ? `headers['Proxy-Authorization'] = ${JSON.stringify(auth)};` : ''}
const req = require('node:http').request({
  host: '127.0.0.1', port: ${port}, path: ${JSON.stringify(proxy)}, headers, agent: false,
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

describe('readTable', () => {
  // A table as the kernel writes it: lines of 150 characters, so that reads of 2048 bytes
  // end inside lines; the one wanted straddles the second read's start.
  const line = (n: number, local: string, remote: string, uid: number) =>
    `${String(n).padStart(4)}: ${local} ${remote} 01 00000000:00000000 00:00000000 00000000 ${String(uid).padStart(5)}        0 ${1000 + n} 1 0000000000000000 20 4 30 10 -1`.padEnd(
      149,
    ) + '\n';

  it('reads a line that falls across two reads, and stops once it has what it needs', async () => {
    const dir = await freshDir();
    const path = join(dir, 'tcp');
    const header = '  sl  local_address rem_address   st'.padEnd(149) + '\n';
    const lines = [header, line(0, '0100007F:1F90', '00000000:0000', 1000)];
    for (let n = 1; n < 40; n++) {
      // Line 13 runs from byte 1950 to 2100: across the first read's end.
      const wanted = n === 13;
      lines.push(
        line(n, wanted ? '0100007F:ABCD' : '0100007F:1234', '0100007F:1F90', wanted ? 1000 : 7),
      );
    }
    await writeFile(path, lines.join(''));
    expect(lines.slice(0, 14).join('').length).toBeGreaterThan(2048);
    expect(lines.slice(0, 13).join('').length).toBeLessThan(2048);
    const wanted = (l: { localPort: number }) => l.localPort === 0xabcd;
    const read = readTable(path, 0x1f90, (found) => found.some(wanted));
    expect(read?.filter(wanted)).toEqual([
      expect.objectContaining({ localAddress: '127.0.0.1', remotePort: 0x1f90, uid: 1000 }),
    ]);
    // It stopped after the second read (of 2048 bytes), not at the end of the table.
    expect(read!.length).toBeLessThan(30);
    // Without a stop, every line naming the port.
    expect(readTable(path, 0x1f90, () => false)).toHaveLength(40);
  });
});

describe('listenOnLoopback', () => {
  it('serves our own user', async () => {
    const { port, seen } = await counting();
    expect(await get(port)).toBe('200 media');
    expect(seen).toEqual(['GET /x']);
  });

  // The socket table is read a little at a time and only until the client's line: with
  // hundreds of connections open, lines fall across reads and the client anywhere in it.
  it.skipIf(process.platform !== 'linux')(
    'finds its own client among hundreds of open connections',
    async () => {
      const crowd = createNetServer((socket) => socket.on('error', () => undefined));
      await new Promise<void>((resolve) => crowd.listen(0, '127.0.0.1', resolve));
      const crowdPort = (crowd.address() as AddressInfo).port;
      const idle = await Promise.all(
        Array.from(
          { length: 300 },
          () =>
            new Promise<Socket>((resolve) => {
              const socket = connect(crowdPort, '127.0.0.1', () => resolve(socket));
            }),
        ),
      );
      try {
        const { port, seen } = await counting();
        for (let i = 0; i < 20; i++) expect(await get(port)).toBe('200 media');
        expect(seen).toHaveLength(20);
        if (isLinuxRoot) expect(await nobodyGet(port)).toBe('ECONNRESET');
        expect(seen).toHaveLength(20);
      } finally {
        for (const socket of idle) socket.destroy();
        crowd.close();
      }
    },
  );

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

  // The input source checks once the password is given (a 407 says nothing), so the
  // connection FFmpeg opens only to be told it needs the password costs no check.
  it.skipIf(!isLinuxRoot)(
    'the input source tells another user only that a password is needed, and drops it when it has one',
    async () => {
      const ranges: (string | undefined)[] = [];
      const file = join(await freshDir(), 'clip.mp4');
      await writeFile(file, 'plaintext media');
      const source = await plainByteSource(file);
      const served = await serveLoopback(source, { onRequest: (r) => ranges.push(r) });
      try {
        const proxy = new URL(served.env.http_proxy!);
        const auth = `Basic ${Buffer.from(`${proxy.username}:${proxy.password}`).toString('base64')}`;
        const port = Number(proxy.port);
        expect(await nobodyGet(port, NOBODY_PROXY_GET(served.url, undefined))).toBe('answered 407');
        expect(await nobodyGet(port, NOBODY_PROXY_GET(served.url, auth))).toBe('ECONNRESET');
        expect(served.bytesServed).toBe(0);
        expect(ranges).toEqual(['bytes=0-', 'bytes=0-']);
      } finally {
        await served.close();
        await source.close();
      }
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
