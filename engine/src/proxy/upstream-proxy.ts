// Reaching upstreams through a SOCKS5 or HTTP CONNECT proxy (`upstreamProxy`), with the
// same address checks as a direct connection (upstream-connect.ts): the destination's
// name is resolved HERE and every address it has is checked before the proxy is asked
// for anything, and the proxy is given the checked IP, never the name, so it cannot
// resolve the name to somewhere else (which is also why `socks5h://` is refused). The
// proxy's own address is not checked against the destination rules: it is reached only
// because the settings name it, and nothing else is exempted by that.
//
// What the proxy does with the tunnel is beyond our sight: RFC 1928's BND.ADDR is the
// proxy's outgoing address, not the destination's, so it proves nothing. Over https the
// certificate check catches a proxy that reached another host; a failure there, a
// garbled or refused handshake and a tunnel closed early are all `UPSTREAM_PROXY_ERROR`,
// which upstream-fetch.ts retries under its budget. A refused password is not retried.
//
// The password lives in a non-enumerable property and every message uses `label`
// (`socks5://user@host:port`), so logging a proxy or an error never prints it.

import { isIP, connect as netConnect, type Socket } from 'node:net';
import { connect as tlsConnect } from 'node:tls';
import { SocksClient } from 'socks';
import type { buildConnector } from 'undici';
import { KeepsakeError } from '../core/errors';
import { refusalReason, type Cidr } from './address-policy';
import { forbidden, refusedAddresses, type Resolver } from './upstream-connect';

export interface UpstreamProxy {
  kind: 'socks5' | 'http';
  host: string;
  port: number;
  username: string | undefined;
  /** Non-enumerable: JSON.stringify and util.inspect leave it out. */
  readonly password: string | undefined;
  /** `socks5://user@host:port`: for messages and logs. */
  label: string;
}

/** Error code for a proxy that failed or misbehaved; upstream-fetch.ts retries it. */
export const PROXY_ERROR = 'UPSTREAM_PROXY_ERROR';

/** Parses `socks5://user:pass@host:port` or `http://[user:pass@]host:port`; never echoes a password. */
export function parseUpstreamProxy(text: string): UpstreamProxy {
  let url: URL | undefined;
  try {
    url = new URL(text);
  } catch {
    // reported below, without the text (it may hold a password)
  }
  const shown = url ? `${url.protocol}//${url.host}` : 'upstreamProxy';
  if (url?.protocol === 'socks5h:' || url?.protocol === 'socks:' || url?.protocol === 'socks4:') {
    throw new KeepsakeError(
      'USAGE',
      `${shown}: use socks5:// (the proxy must not resolve host names: the destination's address is checked here and handed to it)`,
    );
  }
  if (!url || (url.protocol !== 'socks5:' && url.protocol !== 'http:')) {
    throw new KeepsakeError(
      'USAGE',
      `${shown} is not socks5://[user:pass@]host:port or http://[user:pass@]host:port`,
    );
  }
  if (!url.hostname || !url.port || (url.pathname !== '/' && url.pathname !== '') || url.search) {
    throw new KeepsakeError('USAGE', `${shown} needs a host and a port and nothing after them`);
  }
  const kind = url.protocol === 'socks5:' ? 'socks5' : 'http';
  const username = url.username ? decodeURIComponent(url.username) : undefined;
  const password = url.password ? decodeURIComponent(url.password) : undefined;
  if (kind === 'socks5' && (username?.length ?? 0) > 255) {
    throw new KeepsakeError('USAGE', `${shown}: a SOCKS5 user name is at most 255 bytes`);
  }
  const proxy = {
    kind,
    host: url.hostname.replace(/^\[|\]$/g, ''),
    port: Number(url.port),
    username,
    label: `${kind}://${username ? `${encodeURIComponent(username)}@` : ''}${url.host}`,
  } as UpstreamProxy;
  Object.defineProperty(proxy, 'password', { value: password, enumerable: false });
  return proxy;
}

function proxyError(proxy: UpstreamProxy, message: string, code = PROXY_ERROR): Error {
  return Object.assign(new Error(`upstream proxy ${proxy.label}: ${message}`), { code });
}

function authRefused(proxy: UpstreamProxy): KeepsakeError {
  return new KeepsakeError(
    'UPSTREAM_FAILED',
    `upstream proxy ${proxy.label} refused the user name or password`,
  );
}

/** Resolves `hostname` and checks every address; answers the first one (an IP literal as is). */
async function checkedAddress(
  resolve: Resolver,
  permitted: readonly Cidr[],
  hostname: string,
): Promise<string> {
  if (isIP(hostname)) {
    const refused = refusalReason(hostname, permitted);
    if (refused) throw forbidden(refused);
    return hostname;
  }
  const addresses = await resolve(hostname);
  const refused = refusedAddresses(hostname, addresses, permitted);
  if (refused) throw refused;
  const first = addresses[0]?.address;
  if (!first) {
    throw Object.assign(new Error(`${hostname} has no address`), { code: 'ENOTFOUND' });
  }
  return first;
}

/** A TCP connection to the proxy itself; network error codes kept (ECONNREFUSED is retried). */
function reachProxy(proxy: UpstreamProxy): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const socket = netConnect({ host: proxy.host, port: proxy.port });
    socket.once('connect', () => {
      socket.removeListener('error', onError);
      resolve(socket);
    });
    const onError = (err: NodeJS.ErrnoException) =>
      reject(proxyError(proxy, err.message, err.code ?? PROXY_ERROR));
    socket.once('error', onError);
  });
}

async function socks5Tunnel(
  raw: Socket,
  proxy: UpstreamProxy,
  address: string,
  port: number,
  timeout: number,
): Promise<Socket> {
  try {
    const { socket } = await SocksClient.createConnection({
      proxy: {
        host: proxy.host,
        port: proxy.port,
        type: 5,
        ...(proxy.username !== undefined
          ? { userId: proxy.username, password: proxy.password ?? '' }
          : {}),
      },
      command: 'connect',
      destination: { host: address, port },
      existing_socket: raw,
      timeout,
    });
    return socket;
  } catch (err) {
    // The socks error carries its options, password included: keep only the message.
    const message = err instanceof Error ? err.message : String(err);
    if (/Authentication failed|no accepted authentication/i.test(message)) {
      throw authRefused(proxy);
    }
    throw proxyError(proxy, message);
  }
}

const MAX_CONNECT_HEAD = 16 * 1024;

function httpTunnel(
  raw: Socket,
  proxy: UpstreamProxy,
  address: string,
  port: number,
): Promise<Socket> {
  const target = isIP(address) === 6 ? `[${address}]:${port}` : `${address}:${port}`;
  let head = `CONNECT ${target} HTTP/1.1\r\nHost: ${target}\r\n`;
  if (proxy.username !== undefined) {
    const basic = Buffer.from(`${proxy.username}:${proxy.password ?? ''}`).toString('base64');
    head += `Proxy-Authorization: Basic ${basic}\r\n`;
  }
  return new Promise((resolve, reject) => {
    let buffered = Buffer.alloc(0);
    const done = () => {
      raw.removeListener('data', onData);
      raw.removeListener('error', onEnd);
      raw.removeListener('close', onEnd);
      raw.pause();
    };
    const fail = (err: Error) => {
      done();
      reject(err);
    };
    const onEnd = () => fail(proxyError(proxy, 'closed the connection during CONNECT'));
    const onData = (chunk: Buffer) => {
      buffered = Buffer.concat([buffered, chunk]);
      const end = buffered.indexOf('\r\n\r\n');
      if (end < 0) {
        if (buffered.length > MAX_CONNECT_HEAD)
          fail(proxyError(proxy, 'answered CONNECT at length'));
        return;
      }
      const status = /^HTTP\/1\.[01] (\d{3})/.exec(buffered.subarray(0, end).toString('latin1'));
      const code = Number(status?.[1]);
      if (code === 407) return fail(authRefused(proxy));
      if (code < 200 || code > 299) {
        return fail(
          proxyError(proxy, status ? `answered CONNECT with ${code}` : 'is not an HTTP proxy'),
        );
      }
      done();
      const rest = buffered.subarray(end + 4);
      if (rest.length) raw.unshift(rest);
      resolve(raw);
    };
    raw.on('data', onData);
    raw.once('error', onEnd);
    raw.once('close', onEnd);
    raw.write(`${head}\r\n`);
  });
}

function tlsOver(
  tunnel: Socket,
  proxy: UpstreamProxy,
  hostname: string,
  verifyTls: boolean,
  ca: string[] | undefined,
): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const secure = tlsConnect({
      socket: tunnel,
      host: hostname,
      ...(isIP(hostname) ? {} : { servername: hostname }),
      rejectUnauthorized: verifyTls,
      ALPNProtocols: ['http/1.1'],
      ...(ca ? { ca: [...ca] } : {}),
    });
    secure.once('secureConnect', () => {
      secure.removeListener('error', onError);
      resolve(secure);
    });
    const onError = (err: Error) =>
      reject(proxyError(proxy, `TLS to ${hostname} through the proxy failed: ${err.message}`));
    secure.once('error', onError);
  });
}

/** undici's connector for one allowlist entry's pool, through `proxy`. */
export function proxiedConnector(
  proxy: UpstreamProxy,
  resolve: Resolver,
  permitted: readonly Cidr[],
  verifyTls: boolean,
  connectMs: number,
  ca: string[] | undefined,
): buildConnector.connector {
  return (options, callback) => {
    let settled = false;
    let raw: Socket | undefined;
    const finish = (err: Error | null, socket: Socket | null) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      if (err || !socket) {
        raw?.destroy();
        callback(err ?? proxyError(proxy, 'no connection'), null);
      } else callback(null, socket);
    };
    const timer = setTimeout(
      () => finish(proxyError(proxy, 'timed out', 'UND_ERR_CONNECT_TIMEOUT'), null),
      connectMs,
    );
    const hostname = options.hostname.replace(/^\[|\]$/g, '');
    const https = options.protocol === 'https:';
    const port = Number(options.port) || (https ? 443 : 80);
    const open = async (): Promise<Socket> => {
      const address = await checkedAddress(resolve, permitted, hostname);
      raw = await reachProxy(proxy);
      if (settled) throw proxyError(proxy, 'timed out', 'UND_ERR_CONNECT_TIMEOUT');
      const tunnel =
        proxy.kind === 'socks5'
          ? await socks5Tunnel(raw, proxy, address, port, connectMs)
          : await httpTunnel(raw, proxy, address, port);
      return https ? tlsOver(tunnel, proxy, hostname, verifyTls, ca) : tunnel;
    };
    open().then(
      (socket) => (settled ? socket.destroy() : finish(null, socket)),
      (err: unknown) => {
        // After the deadline, finish() is a no-op: a proxy connection opened since (the
        // name lookup or the connect outlasted it) would otherwise stay open for good.
        raw?.destroy();
        finish(err as Error, null);
      },
    );
  };
}
