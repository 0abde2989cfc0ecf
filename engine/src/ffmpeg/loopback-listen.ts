// Where FFmpeg's loopback input source and output sink listen: 127.0.0.1 on a free port.
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';

/**
 * Listens on 127.0.0.1 on a port the system picks; returns the `host:port` that every
 * request's Host header must then name (a check against DNS-rebinding pages). Errors on a
 * client socket (a reset mid-request) concern that request only.
 */
export async function listenOnLoopback(server: Server): Promise<string> {
  server.on('clientError', (_err, socket) => socket.destroy());
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      server.off('error', reject);
      resolve();
    });
  });
  return `127.0.0.1:${(server.address() as AddressInfo).port}`;
}
