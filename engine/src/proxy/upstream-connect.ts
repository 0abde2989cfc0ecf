// Opening a connection to an upstream (upstream-fetch.ts says why it is done here): every
// address a host name resolves to is checked when the socket is opened, and an IP-literal
// host, which skips name resolution, is checked directly.

import type { LookupAddress } from 'node:dns';
import { isIP } from 'node:net';
import { buildConnector } from 'undici';
import { KeepsakeError } from '../core/errors';
import { refusalReason, type Cidr } from './address-policy';

/** Resolves a host name to every address it has (like dns.lookup with `all: true`). */
export type Resolver = (hostname: string) => Promise<LookupAddress[]>;

export function forbidden(message: string): KeepsakeError {
  return new KeepsakeError('DESTINATION_FORBIDDEN', message);
}

/** The host name lookup handed to net/tls.connect: resolve, check every address, answer. */
/**
 * Why `hostname`'s addresses may not be reached, or undefined: one refused address refuses
 * the name (a rebinding host answering one private address among public ones included).
 */
export function refusedAddresses(
  hostname: string,
  addresses: readonly LookupAddress[],
  permitted: readonly Cidr[],
): KeepsakeError | undefined {
  const refused = addresses
    .map((a) => refusalReason(a.address, permitted))
    .find((why) => why !== undefined);
  return refused ? forbidden(`${hostname} resolves to ${refused}`) : undefined;
}

function checkedLookup(resolve: Resolver, permitted: readonly Cidr[]) {
  return (
    hostname: string,
    options: { all?: boolean; family?: number | string },
    callback: (err: Error | null, address: string | LookupAddress[], family?: number) => void,
  ): void => {
    resolve(hostname).then(
      (addresses) => {
        let result: Error | LookupAddress[];
        const refused = refusedAddresses(hostname, addresses, permitted);
        const family =
          options.family === 'IPv4' ? 4 : options.family === 'IPv6' ? 6 : options.family;
        const usable = addresses.filter((a) => !family || a.family === family);
        if (refused) result = refused;
        else if (usable.length === 0) {
          result = Object.assign(new Error(`${hostname} has no usable address`), {
            code: 'ENOTFOUND',
          });
        } else result = usable;
        // Outside the promise, so an exception in net's callback is not taken for ours.
        process.nextTick(() => {
          if (result instanceof Error) callback(result, '');
          else if (options.all) callback(null, result);
          else callback(null, result[0]?.address ?? '', result[0]?.family);
        });
      },
      (err: unknown) => process.nextTick(() => callback(err as Error, '')),
    );
  };
}

export function connector(
  resolve: Resolver,
  permitted: readonly Cidr[],
  verifyTls: boolean,
  connectMs: number,
  ca: string[] | undefined,
): buildConnector.connector {
  const base = buildConnector({
    timeout: connectMs,
    rejectUnauthorized: verifyTls,
    ...(ca ? { ca: [...ca] } : {}),
    lookup: checkedLookup(resolve, permitted),
  });
  return (options, callback) => {
    // net.connect does not call `lookup` for an IP literal; check it here instead.
    if (isIP(options.hostname)) {
      const refused = refusalReason(options.hostname, permitted);
      if (refused) {
        callback(forbidden(refused), null);
        return;
      }
    }
    base(options, callback);
  };
}
