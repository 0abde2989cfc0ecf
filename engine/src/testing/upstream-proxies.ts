// TEST ONLY. Small real proxies on loopback for the stream proxy's `upstreamProxy` tests:
// a SOCKS5 server (RFC 1928, username/password auth of RFC 1929, CONNECT only) that can
// be told to misbehave per connection, and an HTTP CONNECT proxy. Both record what they
// were asked to reach, so a test can see that the stream proxy handed over an IP.

import { createServer as createHttpServer } from 'node:http';
import { createServer, connect, type AddressInfo, type Server, type Socket } from 'node:net';

export interface ProxyTarget {
  host: string;
  port: number;
  /** SOCKS5 ATYP: 1 IPv4, 3 domain name, 4 IPv6; 0 for HTTP CONNECT. */
  atyp: number;
}

/** What the SOCKS5 server does with connection n (1-based) once the client is in. */
export type Socks5Behaviour =
  | { kind: 'honest' }
  /** Replies success but connects to another address, with a made-up bound address. */
  | { kind: 'redirect'; host: string; port: number }
  /** Replies with bytes that are not a SOCKS5 reply. */
  | { kind: 'garble' }
  /** Relays, then cuts both sides after this many bytes from the destination. */
  | { kind: 'closeAfter'; bytes: number };

export interface TestProxy {
  port: number;
  /** Every destination asked for, in order. */
  targets: ProxyTarget[];
  /** TCP connections accepted. */
  connections: number;
  close(): Promise<void>;
}

/** Buffers a socket's bytes and hands them out by count. */
function reader(socket: Socket) {
  let buffered = Buffer.alloc(0);
  let waiting: (() => void) | undefined;
  socket.on('data', (chunk: Buffer) => {
    buffered = Buffer.concat([buffered, chunk]);
    waiting?.();
  });
  return {
    async take(n: number): Promise<Buffer> {
      while (buffered.length < n) {
        await new Promise<void>((resolve, reject) => {
          waiting = resolve;
          socket.once('close', () => reject(new Error('closed')));
        });
      }
      const out = buffered.subarray(0, n);
      buffered = buffered.subarray(n);
      return out;
    },
    rest(): Buffer {
      const out = buffered;
      buffered = Buffer.alloc(0);
      return out;
    },
  };
}

function relay(client: Socket, upstream: Socket, early: Buffer, cutAfter?: number): void {
  if (early.length) upstream.write(early);
  client.pipe(upstream);
  let sent = 0;
  upstream.on('data', (chunk: Buffer) => {
    if (cutAfter !== undefined && sent + chunk.length >= cutAfter) {
      client.write(chunk.subarray(0, Math.max(0, cutAfter - sent)));
      client.destroy();
      upstream.destroy();
      return;
    }
    sent += chunk.length;
    client.write(chunk);
  });
  upstream.on('end', () => client.end());
  upstream.on('error', () => client.destroy());
  client.on('error', () => upstream.destroy());
  client.on('close', () => upstream.destroy());
}

async function listen(server: Server): Promise<number> {
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return (server.address() as AddressInfo).port;
}

function closer(server: Server, sockets: Set<Socket>): () => Promise<void> {
  return () =>
    new Promise((resolve) => {
      for (const s of sockets) s.destroy();
      server.close(() => resolve());
    });
}

export async function startSocks5Server(options: {
  username: string;
  password: string;
  behave?: (connection: number) => Socks5Behaviour;
}): Promise<TestProxy> {
  const sockets = new Set<Socket>();
  const state = { targets: [] as ProxyTarget[], connections: 0 };
  const server = createServer((client) => {
    sockets.add(client);
    client.on('close', () => sockets.delete(client));
    client.on('error', () => undefined);
    state.connections += 1;
    const behaviour = options.behave?.(state.connections) ?? { kind: 'honest' };
    const input = reader(client);
    void (async () => {
      const [, count = 0] = await input.take(2);
      const methods = await input.take(count);
      if (!methods.includes(0x02)) {
        client.end(Buffer.from([5, 0xff]));
        return;
      }
      client.write(Buffer.from([5, 2]));
      const [, userLength = 0] = await input.take(2);
      const user = (await input.take(userLength)).toString();
      const [passLength = 0] = await input.take(1);
      const pass = (await input.take(passLength)).toString();
      if (user !== options.username || pass !== options.password) {
        client.end(Buffer.from([1, 1]));
        return;
      }
      client.write(Buffer.from([1, 0]));
      const [, , , atyp] = await input.take(4);
      let host: string;
      if (atyp === 1) host = [...(await input.take(4))].join('.');
      else if (atyp === 4) {
        const b = await input.take(16);
        host = Array.from({ length: 8 }, (_, i) => b.readUInt16BE(i * 2).toString(16)).join(':');
      } else {
        const [length = 0] = await input.take(1);
        host = (await input.take(length)).toString();
      }
      const port = (await input.take(2)).readUInt16BE(0);
      state.targets.push({ host, port, atyp: atyp ?? 0 });
      if (behaviour.kind === 'garble') {
        client.end('HTTP/1.1 400 Bad Request\r\n\r\n');
        return;
      }
      const to = behaviour.kind === 'redirect' ? behaviour : { host, port };
      const upstream = connect({ host: to.host, port: to.port });
      upstream.once('error', () => {
        // REP 5: connection refused.
        client.end(Buffer.from([5, 5, 0, 1, 0, 0, 0, 0, 0, 0]));
      });
      upstream.once('connect', () => {
        // A redirecting proxy also lies about the bound address (203.0.113.9:1).
        const bound = behaviour.kind === 'redirect' ? [203, 0, 113, 9, 0, 1] : [127, 0, 0, 1, 0, 0];
        client.write(Buffer.from([5, 0, 0, 1, ...bound]));
        relay(
          client,
          upstream,
          input.rest(),
          behaviour.kind === 'closeAfter' ? behaviour.bytes : undefined,
        );
      });
    })().catch(() => client.destroy());
  });
  const port = await listen(server);
  return Object.assign(state, { port, close: closer(server, sockets) });
}

/** An HTTP proxy answering CONNECT only; `credentials` ('user:pass') makes it ask for Basic auth. */
export async function startConnectProxy(
  options: { credentials?: string } = {},
): Promise<TestProxy> {
  const sockets = new Set<Socket>();
  const state = { targets: [] as ProxyTarget[], connections: 0 };
  const server = createHttpServer((_req, res) => res.writeHead(405).end());
  server.on('connection', (s: Socket) => {
    state.connections += 1;
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });
  server.on('connect', (req, client: Socket, head: Buffer) => {
    client.on('error', () => undefined);
    const expected = options.credentials
      ? `Basic ${Buffer.from(options.credentials).toString('base64')}`
      : undefined;
    if (expected && req.headers['proxy-authorization'] !== expected) {
      client.end('HTTP/1.1 407 Proxy Authentication Required\r\n\r\n');
      return;
    }
    const m = /^\[?([^\]]+)\]?:(\d+)$/.exec(req.url ?? '');
    if (!m) {
      client.end('HTTP/1.1 400 Bad Request\r\n\r\n');
      return;
    }
    const target = { host: m[1]!, port: Number(m[2]), atyp: 0 };
    state.targets.push(target);
    const upstream = connect(target);
    upstream.once('error', () => client.end('HTTP/1.1 502 Bad Gateway\r\n\r\n'));
    upstream.once('connect', () => {
      client.write('HTTP/1.1 200 Connection Established\r\n\r\n');
      relay(client, upstream, head);
    });
  });
  const port = await listen(server);
  return Object.assign(state, { port, close: closer(server, sockets) });
}
