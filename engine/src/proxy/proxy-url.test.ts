// Proxy URLs and back: what a rewritten playlist may name is exactly what a request may
// reach, and both stop at the route's allowlist.

import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { KeepsakeError } from '../core/errors';
import {
  directProxyUrlFor,
  proxyUrlFor,
  upstreamFromDirectUrl,
  upstreamUrlFor,
  withinRoute,
} from './proxy-url';
import { parseRoutes } from './routes-config';

const [route, based] = parseRoutes(
  [
    'routes:',
    '  - hosts: [tv.test]',
    '    upstream: https://origin.test',
    '    allow: { paths: ["/live/**", "/keys/*"], origins: ["http://cdn.test:8080"] }',
    '  - hosts: [tv2.test]',
    '    upstream: https://origin.test',
    '    hls: { baseUrl: "https://proxy.test:8443" }',
  ].join('\n'),
).routes as [
  ReturnType<typeof parseRoutes>['routes'][number],
  ReturnType<typeof parseRoutes>['routes'][number],
];

function code(fn: () => unknown): string {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(KeepsakeError);
    return (err as KeepsakeError).code;
  }
  return 'no error';
}

describe('routed proxy URLs', () => {
  it('maps the upstream origin to paths, further origins under /.ks-origin/', () => {
    expect(proxyUrlFor(new URL('https://origin.test/live/a.ts?x=1'), route)).toBe('/live/a.ts?x=1');
    expect(proxyUrlFor(new URL('http://cdn.test:8080/live/b.ts'), route)).toBe(
      '/.ks-origin/http/cdn.test:8080/live/b.ts',
    );
    expect(proxyUrlFor(new URL('https://origin.test/x/y.ts'), based)).toBe(
      'https://proxy.test:8443/x/y.ts',
    );
  });

  it('refuses URLs outside the route', () => {
    for (const url of [
      'https://evil.test/live/a.ts',
      'http://origin.test/live/a.ts', // another origin: the scheme differs
      'https://origin.test/private/a.ts',
      'https://origin.test/keys/a/b', // `*` stops at a slash
      'https://origin.test//evil.test/live/a.ts',
      'https://origin.test/live/..%2Fprivate',
      'https://origin.test/.ks-origin/http/cdn.test:8080/live/b.ts',
    ]) {
      expect(
        code(() => proxyUrlFor(new URL(url), route)),
        url,
      ).toBe('PLAYLIST_REFUSED');
    }
  });

  it('maps request targets back, within the allowlist only', () => {
    expect(upstreamUrlFor(route, '/live/a.ts?x=1').href).toBe('https://origin.test/live/a.ts?x=1');
    expect(upstreamUrlFor(route, '/.ks-origin/http/cdn.test:8080/live/b.ts').href).toBe(
      'http://cdn.test:8080/live/b.ts',
    );
    // Dot segments are resolved before the allowlist is asked.
    expect(upstreamUrlFor(route, '/live/../live/a.ts').pathname).toBe('/live/a.ts');
    for (const target of [
      '/private/x',
      '/live/../private/x',
      '/live/%2e%2e/private/x',
      '/live\\..\\private/x',
      '/live/..%2Fprivate',
      '//evil.test/live/a.ts',
      '/.ks-origin/https/evil.test/live/a.ts',
      '/.ks-origin/http/cdn.test:8080/../../private',
      '/.ks-origin/http/cdn.test/live/a.ts', // the allowed origin is port 8080
    ]) {
      expect(
        code(() => upstreamUrlFor(route, target)),
        target,
      ).toBe('FORBIDDEN');
    }
    expect(code(() => upstreamUrlFor(route, 'http://evil.test/live/a.ts'))).toBe('USAGE');
  });

  it('round-trips: every proxy URL maps back to the URL it was made from', () => {
    const origin = fc.constantFrom('https://origin.test', 'http://cdn.test:8080');
    const segment = fc.stringMatching(/^[A-Za-z0-9._~%-]{1,10}$/);
    const query = fc.option(fc.stringMatching(/^[A-Za-z0-9=&_-]{0,12}$/), { nil: undefined });
    fc.assert(
      fc.property(origin, fc.array(segment, { maxLength: 4 }), query, (o, segs, q) => {
        const url = new URL(`${o}/live/${segs.join('/')}${q === undefined ? '' : `?${q}`}`);
        let proxied: string;
        try {
          proxied = proxyUrlFor(url, route);
        } catch {
          return; // refused: fine, it is never written
        }
        expect(upstreamUrlFor(route, proxied).href).toBe(url.href);
        expect(withinRoute(url, route)).toBe(true);
      }),
    );
  });
});

describe('direct proxy URLs', () => {
  it('carries the absolute URL in one parameter and checks the allowlist', () => {
    const allowed = (u: URL) => u.hostname === 'origin.test';
    const url = new URL('https://origin.test/a b/c.ts?x=1&y=2');
    const proxied = directProxyUrlFor(url, { allowed });
    expect(proxied).toBe(`/proxy/stream?d=${encodeURIComponent(url.href)}`);
    expect(upstreamFromDirectUrl(new URL(proxied, 'http://127.0.0.1')).href).toBe(url.href);
    expect(code(() => directProxyUrlFor(new URL('https://evil.test/'), { allowed }))).toBe(
      'PLAYLIST_REFUSED',
    );
    expect(
      code(() => upstreamFromDirectUrl(new URL('http://127.0.0.1/proxy/stream?d=file:///x'))),
    ).toBe('USAGE');
  });
});
