// Test-only: a real upstream HTTP(S) server on 127.0.0.1, port 0, that records what
// reached it. Proxy tests allowlist it explicitly (it lives in a refused range) and
// assert at the origin: which requests arrived, with which headers, and which were cut.

import { createServer as createHttpServer } from 'node:http';
import type { IncomingHttpHeaders, IncomingMessage, Server, ServerResponse } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import type { AddressInfo, Socket } from 'node:net';

export interface SeenRequest {
  method: string;
  url: string;
  headers: IncomingHttpHeaders;
}

export type OriginHandler = (req: IncomingMessage, res: ServerResponse, n: number) => void;

export interface FixtureOrigin {
  /** e.g. http://127.0.0.1:43120 */
  origin: string;
  port: number;
  /** Every request that reached the server, in order. */
  seen: SeenRequest[];
  /** Responses the client closed before they were complete. */
  cutShort: number;
  /** Replaces the handler; `n` counts requests from 1. */
  handle(handler: OriginHandler): void;
  close(): Promise<void>;
}

export async function startOrigin(
  handler: OriginHandler = (_req, res) => res.end('ok'),
  tls?: { key: string; cert: string },
): Promise<FixtureOrigin> {
  let current = handler;
  const sockets = new Set<Socket>();
  const state = { seen: [] as SeenRequest[], cutShort: 0 };
  const listener = (req: IncomingMessage, res: ServerResponse) => {
    state.seen.push({ method: req.method ?? '', url: req.url ?? '', headers: req.headers });
    res.on('close', () => {
      if (!res.writableFinished) state.cutShort += 1;
    });
    current(req, res, state.seen.length);
  };
  const server: Server = tls ? createHttpsServer(tls, listener) : createHttpServer(listener);
  server.on('connection', (socket: Socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    origin: `${tls ? 'https' : 'http'}://127.0.0.1:${port}`,
    port,
    get seen() {
      return state.seen;
    },
    get cutShort() {
      return state.cutShort;
    },
    handle(next) {
      current = next;
    },
    close: () =>
      new Promise<void>((resolve) => {
        for (const socket of sockets) socket.destroy();
        server.close(() => resolve());
      }),
  };
}

/** Bytes 0..n-1 of a fixed pattern, so a range can be checked against its offsets. */
export function patternBytes(n: number, from = 0): Buffer {
  const out = Buffer.alloc(n);
  for (let i = 0; i < n; i += 1) out[i] = (from + i) % 251;
  return out;
}
