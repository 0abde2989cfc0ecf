import { describe, expect, it } from 'vitest';
import { isKeepsakeError } from '../core/errors';
import { clientAddress, normalizeIp, parseCidrs } from './cidr';

describe('normalizeIp', () => {
  it.each([
    ['10.0.0.1', '10.0.0.1'],
    ['::ffff:10.0.0.1', '10.0.0.1'],
    ['::FFFF:10.0.0.1', '10.0.0.1'],
    ['0:0:0:0:0:ffff:c0a8:0107', '192.168.1.7'],
    ['::ffff:0.0.0.0', '0.0.0.0'],
    ['::1', '::1'],
    ['0:0:0:0:0:0:0:1', '::1'],
    ['2001:DB8:0:0:1:0:0:1', '2001:db8::1:0:0:1'],
    ['2001:0db8:0000:0000:0000:0000:0000:0001', '2001:db8::1'],
    ['fe80::1%eth0', 'fe80::1'],
    ['::10.0.0.1', '::a00:1'], // IPv4-compatible, not mapped: stays IPv6
    ['::ffff:1', '::ffff:1'], // not the mapped prefix either
  ])('%s → %s', (input, expected) => {
    expect(normalizeIp(input)).toBe(expected);
  });

  it.each([
    '',
    'localhost',
    '10.0.0',
    '256.0.0.1',
    '010.0.0.1',
    ' 10.0.0.1',
    '[::1]',
    '1.2.3.4:80',
  ])('refuses %j', (input) => {
    expect(normalizeIp(input)).toBeUndefined();
  });
});

describe('parseCidrs', () => {
  it('matches IPv4 ranges and single hosts', () => {
    const set = parseCidrs(['10.0.0.0/8', '192.168.1.7']);
    expect(set.has('10.255.0.1')).toBe(true);
    expect(set.has('11.0.0.1')).toBe(false);
    expect(set.has('192.168.1.7')).toBe(true);
    expect(set.has('192.168.1.8')).toBe(false);
    expect(set.entries).toEqual(['10.0.0.0/8', '192.168.1.7/32']);
  });

  it('matches IPv6 ranges in any spelling', () => {
    const set = parseCidrs(['::1/128', 'FD00::/8', '2001:db8:0:0::/32']);
    expect(set.has('::1')).toBe(true);
    expect(set.has('0:0:0:0:0:0:0:1')).toBe(true);
    expect(set.has('::2')).toBe(false);
    expect(set.has('fd12:3456::1')).toBe(true);
    expect(set.has('fe00::1')).toBe(false);
    expect(set.has('2001:DB8:ffff::1')).toBe(true);
    expect(set.entries).toEqual(['::1/128', 'fd00::/8', '2001:db8::/32']);
  });

  it('matches IPv4-mapped clients against IPv4 rules and mapped rules against IPv4 clients', () => {
    expect(parseCidrs(['10.0.0.0/8']).has('::ffff:10.1.2.3')).toBe(true);
    expect(parseCidrs(['10.0.0.0/8']).has('::ffff:11.1.2.3')).toBe(false);
    expect(parseCidrs(['::ffff:10.0.0.0/104']).has('10.1.2.3')).toBe(true);
    expect(parseCidrs(['::ffff:10.0.0.0/104']).has('11.1.2.3')).toBe(false);
  });

  it('treats /0 as everything in its family (IPv4 counts as mapped IPv6)', () => {
    const v4 = parseCidrs(['0.0.0.0/0']);
    expect(v4.has('255.255.255.255')).toBe(true);
    expect(v4.has('::ffff:1.2.3.4')).toBe(true);
    expect(v4.has('::1')).toBe(false);
    const v6 = parseCidrs(['::/0']);
    expect(v6.has('2001:db8::1')).toBe(true);
    expect(v6.has('1.2.3.4')).toBe(true);
  });

  it('ignores host bits below the prefix and says no to non-addresses', () => {
    const set = parseCidrs(['10.1.2.3/8']);
    expect(set.has('10.200.0.1')).toBe(true);
    expect(set.has('not an ip')).toBe(false);
    expect(parseCidrs([]).has('127.0.0.1')).toBe(false);
  });

  it.each([
    ['', /"" is not an IP address/],
    ['localhost', /"localhost" is not an IP address/],
    ['10.0.0.0/33', /"10.0.0.0\/33" needs a prefix length from 0 to 32/],
    ['::1/129', /"::1\/129" needs a prefix length from 0 to 128/],
    ['10.0.0.0/', /needs a prefix length/],
    ['10.0.0.0/-1', /needs a prefix length/],
    ['10.0.0.0/8/8', /needs a prefix length/],
    ['10.0.0.0/ 8', /needs a prefix length/],
    ['300.0.0.0/8', /"300.0.0.0\/8" is not an IP address/],
    ['fe80::1%eth0/64', /is not an IP address/],
  ])('names the bad entry %j', (entry, message) => {
    let caught: unknown;
    try {
      parseCidrs(['127.0.0.1', entry]);
    } catch (err) {
      caught = err;
    }
    expect(isKeepsakeError(caught, 'USAGE')).toBe(true);
    expect((caught as Error).message).toMatch(message);
  });
});

describe('clientAddress', () => {
  const proxies = parseCidrs(['10.0.0.0/8', '::1']);

  it('uses the socket peer when it is not a trusted proxy, whatever the header says', () => {
    expect(clientAddress('203.0.113.9', '1.2.3.4', proxies)).toBe('203.0.113.9');
    expect(clientAddress('::ffff:203.0.113.9', '10.0.0.1', proxies)).toBe('203.0.113.9');
    expect(clientAddress('203.0.113.9', undefined, parseCidrs([]))).toBe('203.0.113.9');
  });

  it('believes a trusted proxy about the hop before it', () => {
    expect(clientAddress('10.0.0.2', '198.51.100.7', proxies)).toBe('198.51.100.7');
    expect(clientAddress('::ffff:10.0.0.2', '::ffff:198.51.100.7', proxies)).toBe('198.51.100.7');
    expect(clientAddress('::1', '2001:DB8::7', proxies)).toBe('2001:db8::7');
  });

  it('walks a chain of trusted proxies to the first untrusted hop', () => {
    expect(clientAddress('10.0.0.2', '198.51.100.7, 10.0.0.9, 10.0.0.3', proxies)).toBe(
      '198.51.100.7',
    );
    // Repeated headers arrive as an array and read as one list.
    expect(clientAddress('10.0.0.2', ['198.51.100.7', '10.0.0.9,10.0.0.3'], proxies)).toBe(
      '198.51.100.7',
    );
  });

  it('ignores spoofed entries left of the first untrusted hop', () => {
    // The client sent "X-Forwarded-For: 10.0.0.5, 127.0.0.1"; the proxy appended its peer.
    expect(clientAddress('10.0.0.2', '10.0.0.5, 127.0.0.1, 198.51.100.7', proxies)).toBe(
      '198.51.100.7',
    );
    // Garbage the client wrote is never read, so it cannot make us fall back to the proxy.
    expect(clientAddress('10.0.0.2', 'garbage, 198.51.100.7', proxies)).toBe('198.51.100.7');
  });

  it('takes the left-most entry when every hop is a trusted proxy', () => {
    expect(clientAddress('10.0.0.2', '10.0.0.7, 10.0.0.3', proxies)).toBe('10.0.0.7');
  });

  it('falls back to the socket peer for a missing or malformed header', () => {
    expect(clientAddress('10.0.0.2', undefined, proxies)).toBe('10.0.0.2');
    expect(clientAddress('10.0.0.2', '', proxies)).toBe('10.0.0.2');
    expect(clientAddress('10.0.0.2', '198.51.100.7:443', proxies)).toBe('10.0.0.2');
    expect(clientAddress('10.0.0.2', '198.51.100.7, unknown', proxies)).toBe('10.0.0.2');
    expect(clientAddress('10.0.0.2', '198.51.100.7,,10.0.0.3', proxies)).toBe('10.0.0.2');
  });

  it('returns undefined without a usable socket address', () => {
    expect(clientAddress(undefined, '198.51.100.7', proxies)).toBeUndefined();
    expect(clientAddress('/tmp/socket', '198.51.100.7', proxies)).toBeUndefined();
  });
});
