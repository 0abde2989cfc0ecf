// Where FFmpeg's loopback input source and output sink listen: 127.0.0.1 on a free port.
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { loopbackPeer } from './loopback-peer';

/**
 * Listens on 127.0.0.1 on a port the system picks; returns its `host:port`. Errors on a
 * client socket (a reset mid-request) concern that request only. Where the system can
 * tell (Linux), a connection from another user's socket is dropped before a byte of it
 * is read, and so is one whose client already closed its end (the kernel then no longer
 * names the owner; FFmpeg always waits for an answer first, see output-sink.ts).
 */
export async function listenOnLoopback(server: Server): Promise<string> {
  server.on('clientError', (_err, socket) => socket.destroy());
  // Prepended, so the socket is gone before the HTTP parser is given it.
  server.prependListener('connection', (socket) => {
    const peer = loopbackPeer(socket);
    if (peer === 'foreign' || peer === 'closed') socket.destroy();
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      server.off('error', reject);
      resolve();
    });
  });
  return `127.0.0.1:${(server.address() as AddressInfo).port}`;
}
