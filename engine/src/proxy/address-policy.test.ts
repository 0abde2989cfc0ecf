import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { isKeepsakeError } from '../core/errors';
import { ipBytes, parseCidr, refusalReason, REFUSED_RANGES, specialRange } from './address-policy';

/** The host as the proxy will see it after the WHATWG parser: what the policy checks. */
const hostOf = (spelling: string) => new URL(`http://${spelling}/`).hostname;

const V4_REFUSED: Array<[string, string]> = [
  ['0.0.0.0/8', '"this network"'],
  ['10.0.0.0/8', 'private'],
  ['100.64.0.0/10', 'carrier-grade NAT'],
  ['127.0.0.0/8', 'loopback'],
  ['169.254.0.0/16', 'link-local'],
  ['172.16.0.0/12', 'private'],
  ['192.0.0.0/24', 'IETF'],
  ['192.0.2.0/24', 'documentation'],
  ['192.88.99.0/24', '6to4'],
  ['192.168.0.0/16', 'private'],
  ['198.18.0.0/15', 'benchmarking'],
  ['198.51.100.0/24', 'documentation'],
  ['203.0.113.0/24', 'documentation'],
  ['224.0.0.0/4', 'multicast'],
  ['240.0.0.0/4', 'reserved'],
];

const toInt = (ip: string) => ip.split('.').reduce((n, part) => n * 256 + Number(part), 0);
const fromInt = (n: number) => [24, 16, 8, 0].map((s) => Math.floor(n / 2 ** s) % 256).join('.');

function v4Range(cidr: string): [number, number] {
  const [address = '', prefix = '32'] = cidr.split('/');
  const size = 2 ** (32 - Number(prefix));
  const first = toInt(address);
  return [first, first + size - 1];
}

/** The spellings of one IPv4 address in a URL that the URL parser turns into it. */
function plainSpellings(n: number): string[] {
  const parts = fromInt(n).split('.').map(Number);
  return [
    fromInt(n),
    parts.map((p) => `0${p.toString(8)}`).join('.'),
    parts.map((p) => `0x${p.toString(16)}`).join('.'),
    `0x${n.toString(16)}`,
    String(n),
    `0${n.toString(8)}`,
    `${parts[0]}.${(n % 2 ** 24).toString()}`,
  ];
}

/** IPv6 spellings that embed the IPv4 address (mapped, deprecated compatible, NAT64). */
function embeddedSpellings(n: number): string[] {
  return [`[::ffff:${fromInt(n)}]`, `[::${fromInt(n)}]`, `[64:ff9b::${fromInt(n)}]`];
}

describe('refusalReason', () => {
  it('refuses the first, last and middle address of every special IPv4 range', () => {
    for (const [cidr, name] of V4_REFUSED) {
      const [first, last] = v4Range(cidr);
      for (const n of [first, last, Math.floor((first + last) / 2)]) {
        expect(refusalReason(fromInt(n)), `${fromInt(n)} in ${cidr}`).toContain(name);
      }
    }
    expect(refusalReason('255.255.255.255')).toContain('broadcast');
  });

  it('allows the global addresses just outside the ranges', () => {
    for (const ip of [
      '1.1.1.1',
      '8.8.8.8',
      '9.255.255.255',
      '11.0.0.0',
      '100.63.255.255',
      '100.128.0.0',
      '126.255.255.255',
      '128.0.0.0',
      '172.15.255.255',
      '172.32.0.0',
      '192.167.255.255',
      '192.169.0.0',
      '198.17.255.255',
      '198.20.0.0',
      '223.255.255.255',
    ]) {
      expect(refusalReason(ip), ip).toBeUndefined();
    }
    for (const ip of ['2606:4700:4700::1111', '2a00:1450:4001:81c::200e', '2001:4860:4860::8888']) {
      expect(refusalReason(ip), ip).toBeUndefined();
    }
  });

  it('refuses the special IPv6 ranges, naming them', () => {
    const cases: Array<[string, string]> = [
      ['::', 'unspecified'],
      ['::1', 'loopback'],
      ['::7f00:1', 'IPv4-compatible'],
      ['::ffff:127.0.0.1', 'IPv4-mapped'],
      ['::ffff:8.8.8.8', 'IPv4-mapped'],
      ['64:ff9b::7f00:1', 'NAT64'],
      ['64:ff9b::808:808', 'NAT64'],
      ['64:ff9b:1::1', 'NAT64'],
      ['fc00::1', 'unique-local'],
      ['fd12:3456::1', 'unique-local'],
      ['fe80::1', 'link-local'],
      ['febf:ffff::1', 'link-local'],
      ['ff02::1', 'multicast'],
      ['2001:db8::1', 'documentation'],
      ['2002:7f00:1::1', '6to4'],
      ['2001:0:4136:e378::1', 'Teredo'],
      ['fe80::1%eth0', 'link-local'],
    ];
    for (const [ip, name] of cases) expect(refusalReason(ip), ip).toContain(name);
  });

  it('covers octal, hex, decimal and IPv6 spellings of the literal hosts in the issue', () => {
    for (const spelling of [
      '0177.0.0.1',
      '0x7f000001',
      '2130706433',
      '0x7f.1',
      '127.1',
      '[::ffff:127.0.0.1]',
      '[64:ff9b::7f00:1]',
      '[::127.0.0.1]',
      '0.0.0.0',
      '[::]',
      '[0:0:0:0:0:0:0:1]',
      '[::ffff:7f00:1]',
    ]) {
      expect(refusalReason(hostOf(spelling)), spelling).toBeDefined();
    }
  });

  it('refuses any address of a special IPv4 range, however it is spelled (property)', () => {
    const ranges = V4_REFUSED.map(([cidr]) => v4Range(cidr));
    const inRange = fc
      .constantFrom(...ranges)
      .chain(([first, last]) => fc.integer({ min: first, max: last }));
    fc.assert(
      fc.property(inRange, (n) => {
        for (const spelling of [...plainSpellings(n), ...embeddedSpellings(n)]) {
          if (refusalReason(hostOf(spelling)) === undefined) return false;
        }
        return true;
      }),
      { numRuns: 500 },
    );
  });

  it('refuses embedded forms even of a global IPv4 address, allows the plain one (property)', () => {
    const ranges = V4_REFUSED.map(([cidr]) => v4Range(cidr));
    const global = fc
      .integer({ min: 0, max: 2 ** 32 - 1 })
      .filter((n) => !ranges.some(([first, last]) => n >= first && n <= last));
    fc.assert(
      fc.property(global, (n) => {
        const plain = plainSpellings(n).map(hostOf);
        return (
          plain.every((h) => h === fromInt(n) && refusalReason(h) === undefined) &&
          embeddedSpellings(n).every((s) => refusalReason(hostOf(s)) !== undefined)
        );
      }),
      { numRuns: 500 },
    );
  });

  it('lets an entry permit a range explicitly, and nothing more', () => {
    const lan = [parseCidr('192.168.1.0/24')];
    expect(refusalReason('192.168.1.20', lan)).toBeUndefined();
    expect(refusalReason('192.168.2.20', lan)).toContain('private');
    expect(refusalReason('127.0.0.1', lan)).toContain('loopback');
    // The mapped form is the same host; the NAT64 form goes through a translator.
    expect(refusalReason('::ffff:192.168.1.20', lan)).toBeUndefined();
    expect(refusalReason('64:ff9b::c0a8:114', lan)).toContain('NAT64');
    expect(refusalReason('64:ff9b::c0a8:114', [parseCidr('64:ff9b::/96')])).toBeUndefined();
    expect(refusalReason('fd00::7', [parseCidr('fd00::/8')])).toBeUndefined();
    expect(refusalReason('fe80::7', [parseCidr('fd00::/8')])).toContain('link-local');
  });

  it('refuses what is not an IP address', () => {
    expect(refusalReason('example.com')).toContain('not an IP address');
  });
});

describe('parseCidr and ipBytes', () => {
  it('parses addresses and ranges of both families', () => {
    expect(Array.from(ipBytes('10.1.2.3') ?? [])).toEqual([10, 1, 2, 3]);
    expect(Array.from(ipBytes('::ffff:1.2.3.4') ?? [])).toEqual([
      0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 255, 255, 1, 2, 3, 4,
    ]);
    expect(Array.from(ipBytes('[2001:db8::1]') ?? []).slice(0, 4)).toEqual([
      0x20, 0x01, 0x0d, 0xb8,
    ]);
    expect(parseCidr('192.168.1.7').prefix).toBe(32);
    expect(parseCidr('fd00::/8').prefix).toBe(8);
  });

  it('throws USAGE naming a bad entry', () => {
    for (const bad of [
      '10.0.0.0/33',
      'fd00::/129',
      'nas.local',
      '10.0.0/8',
      '10.0.0.0/x',
      'fe80::1%eth0',
    ]) {
      let thrown: unknown;
      try {
        parseCidr(bad);
      } catch (err) {
        thrown = err;
      }
      expect(isKeepsakeError(thrown, 'USAGE'), bad).toBe(true);
      expect((thrown as Error).message).toContain(JSON.stringify(bad));
    }
  });

  it('keeps the table well formed: every range parses and names itself', () => {
    for (const r of REFUSED_RANGES) {
      expect(specialRange(r.text.split('/')[0] ?? '')?.text).toBeDefined();
      expect(r.name.length).toBeGreaterThan(0);
    }
  });
});
