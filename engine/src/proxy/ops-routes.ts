// Operational endpoints next to the proxy: `/ip` tells a client which address the server
// sees (to check a VPN or reverse-proxy setup), `/speedtest` sends a fixed 8 MiB body to
// measure throughput to the player. Both are registered behind the host server's auth;
// `keepsake serve` lets anyone reach /ip but only signed proxy users /speedtest.

import { Readable } from 'node:stream';
import type { FastifyPluginAsync } from 'fastify';
import { clientAddress, parseCidrs } from '../net/cidr';
import type { CidrSet } from '../net/cidr';

export const SPEEDTEST_BYTES = 8 * 1024 * 1024;
export const SPEEDTEST_PATH = '/speedtest';

/** 256 periods of the byte pattern i % 251, so blocks join without a seam. */
const PERIOD = 251;
const BLOCK = Buffer.alloc(PERIOD * 256, 0);
for (let i = 0; i < BLOCK.length; i += 1) BLOCK[i] = i % PERIOD;

/**
 * `bytes` bytes where byte i is i % 251, made of one shared block: a request costs no
 * allocation beyond the stream itself, whatever its size.
 */
export function speedtestBody(bytes: number = SPEEDTEST_BYTES): Readable {
  let sent = 0;
  return new Readable({
    read() {
      if (sent >= bytes) return void this.push(null);
      const n = Math.min(BLOCK.length, bytes - sent);
      sent += n;
      // subarray shares memory; the stream only reads it.
      this.push(n === BLOCK.length ? BLOCK : BLOCK.subarray(0, n));
    },
  });
}

export interface IpResponse {
  ip: string | null;
}

export interface OpsRoutesOptions {
  /**
   * Reverse proxies whose X-Forwarded-For is believed ('10.0.0.0/8', '::1'); default none,
   * so a client cannot claim another address by sending the header itself.
   */
  trustedProxies?: readonly string[] | CidrSet;
  /** Body size of /speedtest (default 8 MiB). */
  speedtestBytes?: number;
}

export function opsRoutes(options: OpsRoutesOptions = {}): FastifyPluginAsync {
  const trusted = Array.isArray(options.trustedProxies)
    ? parseCidrs(options.trustedProxies)
    : ((options.trustedProxies as CidrSet | undefined) ?? parseCidrs([]));
  const size = options.speedtestBytes ?? SPEEDTEST_BYTES;

  return async (app) => {
    app.get('/ip', async (request, reply): Promise<IpResponse> => {
      reply.header('cache-control', 'no-store');
      const ip = clientAddress(
        request.raw.socket.remoteAddress,
        request.headers['x-forwarded-for'],
        trusted,
      );
      return { ip: ip ?? null };
    });

    app.get(SPEEDTEST_PATH, async (_request, reply) => {
      reply.headers({
        'content-type': 'application/octet-stream',
        'content-length': String(size),
        'cache-control': 'no-store',
      });
      return reply.send(speedtestBody(size));
    });
  };
}
