// Where FFmpeg's loopback input source and output sink listen: 127.0.0.1 on a free port.
import type { Server } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { loopbackPeer } from './loopback-peer';

const allowed = new WeakSet<Socket>();

/**
 * Whether the client of `socket` may be answered: where the system can tell (Linux), not
 * when it is another user's socket, nor one whose client already closed its end (the
 * kernel then no longer names the owner). A socket that may not is destroyed. Asked once
 * per connection: a kept-alive connection's later requests are answered at once.
 */
export function allowPeer(socket: Socket): boolean {
  if (allowed.has(socket)) return true;
  const peer = loopbackPeer(socket);
  if (peer === 'foreign' || peer === 'closed') {
    socket.destroy();
    return false;
  }
  allowed.add(socket);
  return true;
}

/**
 * Listens on 127.0.0.1 on a port the system picks; returns its `host:port`. Errors on a
 * client socket (a reset mid-request) concern that request only.
 *
 * `peers: 'on-connect'` (the output sink): each connection's client is checked
 * (allowPeer) when it is accepted, before a byte of it is read; FFmpeg always waits for
 * an answer first, see output-sink.ts. `peers: 'by-handler'` (the input source): the
 * handler calls allowPeer itself before it answers with anything but a refusal. Reading
 * the kernel's socket table costs about 2 ms, and FFmpeg opens every input twice, once
 * to be told it needs the password (a 407 that says nothing) and once with it.
 */
export async function listenOnLoopback(
  server: Server,
  peers: 'on-connect' | 'by-handler' = 'on-connect',
): Promise<string> {
  server.on('clientError', (_err, socket) => socket.destroy());
  // Prepended, so the socket is gone before the HTTP parser is given it.
  if (peers === 'on-connect') server.prependListener('connection', allowPeer);
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      server.off('error', reject);
      resolve();
    });
  });
  return `127.0.0.1:${(server.address() as AddressInfo).port}`;
}
