// Where FFmpeg's loopback input source and output sink listen: 127.0.0.1 on a free port.
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { loopbackPeer } from './loopback-peer';

/**
 * Listens on 127.0.0.1 on a port the system picks; returns its `host:port`. Errors on a
 * client socket (a reset mid-request) concern that request only. Where the system can
 * tell (Linux), a connection from another user's socket is dropped before a byte of it
 * is read, and so is one whose client already closed its end, unless `allowClosed` (a
 * server that only receives: FFmpeg sends a small output and closes at once, often
 * before we accept the connection, and the kernel then no longer names the owner).
 */
export async function listenOnLoopback(
  server: Server,
  options: { allowClosed?: boolean } = {},
): Promise<string> {
  server.on('clientError', (_err, socket) => socket.destroy());
  // Prepended, so the socket is gone before the HTTP parser is given it.
  server.prependListener('connection', (socket) => {
    const peer = loopbackPeer(socket);
    if (peer === 'foreign' || (peer === 'closed' && !options.allowClosed)) socket.destroy();
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
