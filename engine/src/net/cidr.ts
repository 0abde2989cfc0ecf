// Client addresses and address ranges: one canonical spelling per address, so that rules
// and logs compare like with like, and the X-Forwarded-For walk that decides which
// address to believe when the server sits behind reverse proxies.

import { BlockList, isIP } from 'node:net';
import { KeepsakeError } from '../core/errors';

type Family = 'ipv4' | 'ipv6';

/** RFC 5952 form of an IPv6 address (lower case, longest zero run compressed), no zone. */
function canonicalIpv6(address: string): string | undefined {
  // A zone ('fe80::1%eth0') names the local interface, not the peer; rules cannot use it.
  const bare = address.includes('%') ? address.slice(0, address.indexOf('%')) : address;
  if (isIP(bare) !== 6) return undefined;
  try {
    // The WHATWG URL serialiser implements RFC 5952, which saves hand-written compression.
    return new URL(`http://[${bare}]/`).hostname.slice(1, -1);
  } catch {
    return undefined;
  }
}

const MAPPED = /^::ffff:([0-9a-f]{1,4}):([0-9a-f]{1,4})$/;

/** '::ffff:10.0.0.1' → '10.0.0.1'; lowercases/compresses IPv6; returns undefined for a non-IP. */
export function normalizeIp(address: string): string | undefined {
  if (isIP(address) === 4) return address;
  if (isIP(address) !== 6) return undefined;
  const v6 = canonicalIpv6(address);
  if (v6 === undefined) return undefined;
  // A dual-stack socket reports IPv4 peers as IPv4-mapped IPv6; they are IPv4 clients.
  const mapped = MAPPED.exec(v6);
  if (!mapped) return v6;
  const high = parseInt(mapped[1] ?? '', 16);
  const low = parseInt(mapped[2] ?? '', 16);
  return `${high >> 8}.${high & 255}.${low >> 8}.${low & 255}`;
}

interface Subnet {
  address: string;
  prefix: number;
  family: Family;
}

/** A set of address ranges. IPv4 clients match IPv4-mapped IPv6 rules and vice versa. */
export class CidrSet {
  /** The ranges in canonical 'address/prefix' form, for logs and diagnostics. */
  readonly entries: readonly string[];
  private readonly blocks = new BlockList();

  /** Use parseCidrs; this takes ranges that are already validated. */
  constructor(subnets: readonly Subnet[] = []) {
    for (const { address, prefix, family } of subnets) {
      this.blocks.addSubnet(address, prefix, family);
    }
    this.entries = subnets.map(({ address, prefix }) => `${address}/${prefix}`);
  }

  has(ip: string): boolean {
    const address = normalizeIp(ip);
    if (address === undefined) return false;
    // BlockList compares IPv4 with IPv4-mapped IPv6 in both directions by itself.
    return this.blocks.check(address, isIP(address) === 4 ? 'ipv4' : 'ipv6');
  }
}

function badEntry(entry: string, why: string): KeepsakeError {
  return new KeepsakeError(
    'USAGE',
    `address range ${JSON.stringify(entry)} ${why} (examples: 10.0.0.0/8, 192.168.1.7, ::1/128, fd00::/8)`,
  );
}

function parseCidr(entry: string): Subnet {
  const text = entry.trim();
  const slash = text.indexOf('/');
  const addressText = slash < 0 ? text : text.slice(0, slash);
  const prefixText = slash < 0 ? undefined : text.slice(slash + 1);
  const version = isIP(addressText);
  // Rules keep mapped IPv6 as written (BlockList matches it against IPv4 clients), so the
  // prefix still counts IPv6 bits; normalizeIp is for client addresses only.
  const address = version === 4 ? addressText : version === 6 ? canonicalIpv6(addressText) : '';
  if (!address || addressText.includes('%')) throw badEntry(entry, 'is not an IP address');
  const family: Family = version === 4 ? 'ipv4' : 'ipv6';
  const bits = version === 4 ? 32 : 128;
  if (prefixText === undefined) return { address, prefix: bits, family };
  if (!/^[0-9]{1,3}$/.test(prefixText) || Number(prefixText) > bits) {
    throw badEntry(entry, `needs a prefix length from 0 to ${bits} after the '/'`);
  }
  // Host bits below the prefix are ignored ('10.1.2.3/8' means 10.0.0.0/8), as BlockList does.
  return { address, prefix: Number(prefixText), family };
}

/** Parses CIDRs like '10.0.0.0/8', '192.168.1.7' (=/32), '::1/128', 'fd00::/8'; throws USAGE naming the bad entry. */
export function parseCidrs(list: readonly string[]): CidrSet {
  return new CidrSet(list.map(parseCidr));
}

/**
 * The client address for a request: the socket peer, or, only when that peer is a
 * trusted proxy, the right-most X-Forwarded-For entry that is not itself a trusted proxy.
 *
 * Each proxy appends the address it received from, so entries are trustworthy only from
 * the right up to the first untrusted one; everything left of it was written by the
 * client and is ignored. If every entry is a trusted proxy the left-most one is the
 * client. A malformed entry reached on the walk, or a missing header, gives the socket
 * peer; malformed entries left of the client are never read, so a client cannot use
 * one to be taken for the proxy.
 */
export function clientAddress(
  socketAddress: string | undefined,
  xForwardedFor: string | string[] | undefined,
  trustedProxies: CidrSet,
): string | undefined {
  const peer = socketAddress === undefined ? undefined : normalizeIp(socketAddress);
  if (peer === undefined || !trustedProxies.has(peer)) return peer;
  // Repeated headers are one list in order (RFC 9110 §5.3).
  const header = Array.isArray(xForwardedFor) ? xForwardedFor.join(',') : xForwardedFor;
  if (header === undefined || header.trim() === '') return peer;
  const hops = header.split(',');
  let client = peer;
  for (let i = hops.length - 1; i >= 0; i -= 1) {
    const hop = normalizeIp((hops[i] ?? '').trim());
    if (hop === undefined) return peer;
    client = hop;
    if (!trustedProxies.has(hop)) break;
  }
  return client;
}
