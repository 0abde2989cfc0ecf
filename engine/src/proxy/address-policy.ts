// Which IP addresses the stream proxy may connect to. Everything that is not a global
// unicast address (loopback, private, link-local, CGNAT, multicast, documentation, and
// the IPv6 forms that embed or translate to an IPv4 address) is refused, unless the
// allowlist entry that matched the URL names the range explicitly (a NAS on the LAN).
//
// Matching is done on raw bytes rather than with node's BlockList: BlockList treats an
// IPv4 address and its IPv4-mapped IPv6 form as equal in both directions, so a rule for
// ::ffff:0:0/96 would match every IPv4 address, and the rules here need that distinction.

import { isIP } from 'node:net';
import { KeepsakeError } from '../core/errors';

/** An address range as 4 or 16 bytes and a prefix length in bits. */
export interface Cidr {
  bytes: Uint8Array;
  prefix: number;
  /** As written in the table or the configuration, for messages. */
  text: string;
}

/** 4 bytes for IPv4, 16 for IPv6 (zone dropped), undefined for anything else. */
export function ipBytes(address: string): Uint8Array | undefined {
  const bare = address.startsWith('[') && address.endsWith(']') ? address.slice(1, -1) : address;
  const version = isIP(bare);
  if (version === 4) return Uint8Array.from(bare.split('.').map(Number));
  if (version !== 6) return undefined;
  let text = bare.includes('%') ? bare.slice(0, bare.indexOf('%')) : bare;
  // A trailing dotted quad ('::ffff:1.2.3.4') becomes two hex groups first.
  const quad = /(\d+)\.(\d+)\.(\d+)\.(\d+)$/.exec(text);
  if (quad) {
    const [a, b, c, d] = quad.slice(1).map(Number) as [number, number, number, number];
    text = `${text.slice(0, quad.index)}${((a << 8) | b).toString(16)}:${((c << 8) | d).toString(16)}`;
  }
  const [head = '', tail] = text.split('::');
  const left = head === '' ? [] : head.split(':');
  const right = tail === undefined || tail === '' ? [] : tail.split(':');
  const groups =
    tail === undefined
      ? left
      : [...left, ...Array<string>(8 - left.length - right.length).fill('0'), ...right];
  const bytes = new Uint8Array(16);
  groups.forEach((group, i) => {
    const value = parseInt(group, 16);
    bytes[i * 2] = value >> 8;
    bytes[i * 2 + 1] = value & 255;
  });
  return bytes;
}

function inCidr(bytes: Uint8Array, cidr: Cidr): boolean {
  if (bytes.length !== cidr.bytes.length) return false;
  let bits = cidr.prefix;
  for (let i = 0; bits > 0; i += 1, bits -= 8) {
    const mask = bits >= 8 ? 0xff : (0xff << (8 - bits)) & 0xff;
    if (((bytes[i] ?? 0) & mask) !== ((cidr.bytes[i] ?? 0) & mask)) return false;
  }
  return true;
}

/** Parses '10.0.0.0/8', '192.168.1.7' (= /32), 'fd00::/8', '::1'; throws USAGE naming the entry. */
export function parseCidr(text: string): Cidr {
  const trimmed = text.trim();
  const slash = trimmed.indexOf('/');
  const address = slash < 0 ? trimmed : trimmed.slice(0, slash);
  const bytes = address.includes('%') ? undefined : ipBytes(address);
  if (!bytes) {
    throw new KeepsakeError('USAGE', `address range ${JSON.stringify(text)} is not an IP address`);
  }
  const max = bytes.length * 8;
  const prefixText = slash < 0 ? String(max) : trimmed.slice(slash + 1);
  if (!/^\d{1,3}$/.test(prefixText) || Number(prefixText) > max) {
    throw new KeepsakeError(
      'USAGE',
      `address range ${JSON.stringify(text)} needs a prefix length from 0 to ${max}`,
    );
  }
  return { bytes, prefix: Number(prefixText), text: trimmed };
}

interface SpecialRange extends Cidr {
  name: string;
}

const range = (text: string, name: string): SpecialRange => ({ ...parseCidr(text), name });

/**
 * Refused unless permitted. The IPv6 forms that carry an IPv4 address come first so a
 * refusal names the form that was used. Sources: the IANA special-purpose registries.
 */
export const REFUSED_RANGES: readonly SpecialRange[] = [
  range('::ffff:0:0/96', 'IPv4-mapped IPv6'),
  range('64:ff9b::/96', 'NAT64 well-known prefix'),
  range('64:ff9b:1::/48', 'NAT64 local-use prefix'),
  range('::/128', 'unspecified address'),
  range('::1/128', 'loopback'),
  range('::/96', 'IPv4-compatible IPv6 (deprecated)'),
  range('0.0.0.0/8', '"this network" (0.0.0.0)'),
  range('10.0.0.0/8', 'private network'),
  range('100.64.0.0/10', 'carrier-grade NAT'),
  range('127.0.0.0/8', 'loopback'),
  range('169.254.0.0/16', 'link-local (cloud metadata)'),
  range('172.16.0.0/12', 'private network'),
  range('192.0.0.0/24', 'IETF protocol assignments'),
  range('192.0.2.0/24', 'documentation (TEST-NET-1)'),
  range('192.88.99.0/24', '6to4 relay anycast (deprecated)'),
  range('192.168.0.0/16', 'private network'),
  range('198.18.0.0/15', 'benchmarking'),
  range('198.51.100.0/24', 'documentation (TEST-NET-2)'),
  range('203.0.113.0/24', 'documentation (TEST-NET-3)'),
  range('224.0.0.0/4', 'multicast'),
  range('240.0.0.0/4', 'reserved (incl. broadcast 255.255.255.255)'),
  range('100::/64', 'discard-only'),
  range('2001::/32', 'Teredo (embeds an IPv4 address)'),
  range('2001:2::/48', 'benchmarking'),
  range('2001:10::/28', 'ORCHID (deprecated)'),
  range('2001:20::/28', 'ORCHIDv2'),
  range('2001:db8::/32', 'documentation'),
  range('2002::/16', '6to4 (embeds an IPv4 address)'),
  range('3fff::/20', 'documentation'),
  range('5f00::/16', 'segment routing SIDs'),
  range('fc00::/7', 'unique-local'),
  range('fe80::/10', 'link-local'),
  range('fec0::/10', 'site-local (deprecated)'),
  range('ff00::/8', 'multicast'),
];

/** The special-purpose range an address falls in, or undefined for a global address. */
export function specialRange(address: string): SpecialRange | undefined {
  const bytes = ipBytes(address);
  if (!bytes) return undefined;
  return REFUSED_RANGES.find((r) => inCidr(bytes, r));
}

/**
 * Why the proxy must not connect to `address`, or undefined if it may. `permitted` are
 * the ranges the matching allowlist entry opens explicitly. An IPv4-mapped address is the
 * same host as its IPv4 form, so an IPv4 permission covers it; NAT64 and IPv4-compatible
 * forms go through a translator and need a permission written in IPv6.
 */
export function refusalReason(
  address: string,
  permitted: readonly Cidr[] = [],
): string | undefined {
  const bytes = ipBytes(address);
  if (!bytes) return `${address} is not an IP address`;
  const special = REFUSED_RANGES.find((r) => inCidr(bytes, r));
  if (!special) return undefined;
  if (permitted.some((p) => inCidr(bytes, p))) return undefined;
  const mapped =
    bytes.length === 16 && special.text === '::ffff:0:0/96' ? bytes.slice(12) : undefined;
  if (mapped && permitted.some((p) => inCidr(mapped, p))) return undefined;
  return `${address} is in a refused range: ${special.name} (${special.text})`;
}
