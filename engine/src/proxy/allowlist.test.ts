import { describe, expect, it } from 'vitest';
import { isKeepsakeError } from '../core/errors';
import { Allowlist } from './allowlist';
import type { AllowlistEntry } from './allowlist';

const reason = (list: Allowlist, url: string) => {
  const result = list.match(new URL(url));
  return result.ok ? undefined : result.reason;
};

describe('Allowlist', () => {
  const list = new Allowlist([
    { host: 'media.example.com', paths: ['/videos/**'] },
    { host: '*.cdn.example.net' },
    { host: '192.168.1.20', schemes: ['http'], ports: [8096], allowPrivate: ['192.168.1.20'] },
    { host: '[fd00::7]', schemes: ['http', 'https'] },
  ]);

  it('matches host, scheme, port and path of an entry', () => {
    expect(reason(list, 'https://media.example.com/videos/a/b.m3u8')).toBeUndefined();
    expect(reason(list, 'https://MEDIA.example.com:8443/videos/x')).toBeUndefined();
    expect(reason(list, 'https://a.cdn.example.net/anything?x=1')).toBeUndefined();
    expect(reason(list, 'https://a.b.cdn.example.net/')).toBeUndefined();
    expect(reason(list, 'http://192.168.1.20:8096/Videos/1/stream')).toBeUndefined();
    expect(reason(list, 'http://[fd00:0::7]/x')).toBeUndefined();
  });

  it('returns the entry with its parsed private permissions', () => {
    const result = list.match(new URL('http://192.168.1.20:8096/'));
    expect(result.ok && result.match.index).toBe(2);
    expect(result.ok && result.match.permitted.map((c) => c.text)).toEqual(['192.168.1.20']);
  });

  it('says why a URL is refused', () => {
    expect(reason(list, 'https://evil.example.com/videos/x')).toContain('not on the allowlist');
    expect(reason(list, 'https://cdn.example.net/')).toContain('not on the allowlist');
    expect(reason(list, 'https://media.example.com.evil.org/videos/x')).toContain(
      'not on the allowlist',
    );
    expect(reason(list, 'http://media.example.com/videos/x')).toContain('http is not allowed');
    expect(reason(list, 'https://media.example.com/admin')).toContain('path /admin');
    expect(reason(list, 'https://media.example.com/videos/../admin')).toContain('path /admin');
    expect(reason(list, 'https://media.example.com/videos/%2e%2e/admin')).toContain('path /admin');
    expect(reason(list, 'http://192.168.1.20/')).toContain('port 80');
    expect(reason(list, 'ftp://media.example.com/videos/x')).toContain('only http and https');
    expect(reason(list, 'file:///etc/passwd')).toContain('only http and https');
    expect(reason(list, 'https://u:p@media.example.com/videos/x')).toContain('credentials');
  });

  it('never lets a glob match an IP literal', () => {
    const star = new Allowlist([{ host: '*', schemes: ['http', 'https'] }]);
    expect(reason(star, 'https://example.org/')).toBeUndefined();
    expect(reason(star, 'http://127.0.0.1/')).toContain('not on the allowlist');
    expect(reason(star, 'http://0x7f000001/')).toContain('not on the allowlist');
    expect(reason(star, 'http://[::1]/')).toContain('not on the allowlist');
  });

  it('refuses everything when empty', () => {
    expect(reason(new Allowlist([]), 'https://example.org/')).toContain('not on the allowlist');
  });

  it('normalises exact hosts the way the URL parser does', () => {
    const decimal = new Allowlist([{ host: '2130706433', schemes: ['http'] }]);
    expect(reason(decimal, 'http://127.0.0.1/')).toBeUndefined();
  });

  it('rejects malformed entries with USAGE', () => {
    const bad: AllowlistEntry[] = [
      { host: 'example.com/path' },
      { host: 'a b' },
      { host: 'example.com', schemes: ['ftp' as 'http'] },
      { host: 'example.com', ports: [70000] },
      { host: 'example.com', allowPrivate: ['not-a-cidr'] },
      { host: '*.example.com:80' },
    ];
    for (const entry of bad) {
      let thrown: unknown;
      try {
        new Allowlist([entry]);
      } catch (err) {
        thrown = err;
      }
      expect(isKeepsakeError(thrown, 'USAGE'), JSON.stringify(entry)).toBe(true);
    }
  });
});
