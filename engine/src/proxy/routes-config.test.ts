// The routes file: the documented example loads, defaults fill in, mistakes are named by
// field and line, and matchRoute picks routes by host pattern and listener.

import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { KeepsakeError } from '../core/errors';
import { matchRoute, parseRoutes, readRoutesFile } from './routes-config';

const repoRoot = join(import.meta.dirname, '..', '..', '..');

function problems(text: string): string {
  try {
    parseRoutes(text, 'routes.yaml');
  } catch (err) {
    expect(err).toBeInstanceOf(KeepsakeError);
    expect((err as KeepsakeError).code).toBe('USAGE');
    return (err as KeepsakeError).message;
  }
  throw new Error('expected the routes to be refused');
}

describe('routes file', () => {
  it('loads the documented example', async () => {
    const file = join(repoRoot, 'docs', 'examples', 'routes.yaml');
    const { routes } = await readRoutesFile(file);
    expect(routes.map((r) => r.name)).toEqual(['family-tv', 'nas']);
    const [tv, nas] = routes;
    expect(tv!.upstream.href).toBe('https://origin.example.com/');
    expect(tv!.origins.map((o) => o.origin)).toEqual([
      'https://origin.example.com',
      'https://keys.example.com',
    ]);
    expect(tv!.hls.baseUrl?.origin).toBe('https://tv.example.com');
    expect(nas!.allow.privateCidrs).toEqual(['192.168.1.20/32']);
    // Defaults: verify TLS, rewrite playlists, refuse insecure segments.
    expect(nas!.verifyTls).toBe(true);
    expect(nas!.hls).toMatchObject({ rewrite: true, allowInsecureSegments: false });
    expect(nas!.timeouts).toEqual({ connectMs: 5000, readMs: 15000, requestMs: 30000 });
  });

  it('fills defaults for a minimal route', () => {
    const { routes } = parseRoutes('routes:\n  - hosts: [a.test]\n    upstream: https://o.test\n');
    expect(routes[0]).toMatchObject({
      name: 'routes[0]',
      listen: undefined,
      verifyTls: true,
      allow: { paths: ['/**'], privateCidrs: [] },
      hls: { rewrite: true, baseUrl: undefined, maxPlaylistBytes: 8 * 1024 * 1024 },
    });
    expect(parseRoutes('routes: []\n').routes).toEqual([]);
  });

  it('names the field and line of each mistake', () => {
    const text = [
      'routes:',
      '  - hosts: [tv.example.com]',
      '    upstream: https://origin.example.com',
      '    timeouts: { connectMs: 0 }',
      '    tls: { verfy: false }',
      '  - hosts: ["bad host!"]',
      '    upstream: https://user:pw@origin.example.com/path',
      '    listen: ["localhost:99999"]',
      '    allow: { paths: ["live/**"], privateCidrs: ["10.0.0.0/33"] }',
      '    hls: { baseUrl: "file:///etc" }',
    ].join('\n');
    const message = problems(text);
    expect(message).toMatch(/^routes\.yaml: /);
    expect(message).toContain('line 4: routes[0].timeouts.connectMs must be >= 1');
    expect(message).toContain('line 5: routes[0].tls unknown setting "verfy"');
    // Shape errors come first; the second route's values are checked once the shape is right.
    const values = problems(
      text.replace('connectMs: 0', 'connectMs: 1').replace('verfy', 'verify'),
    );
    expect(values).toContain('line 6: routes[1].hosts[0] "bad host!" is not a host name pattern');
    expect(values).toContain('line 7: routes[1].upstream');
    expect(values).toContain('line 8: routes[1].listen[0] "localhost:99999" is not ADDRESS:PORT');
    expect(values).toContain('line 9: routes[1].allow.paths[0] "live/**" must start with /');
    expect(values).toContain('routes[1].allow.privateCidrs[0] "10.0.0.0/33" is not a CIDR');
    expect(values).toContain('line 10: routes[1].hls.baseUrl');
  });

  it('refuses upstreams that are not plain http(s) origins', () => {
    for (const upstream of [
      'file:///etc/passwd',
      'https://origin.test/prefix',
      'https://origin.test/?key=secret',
      'https://user@origin.test',
      'not a url',
    ]) {
      expect(problems(`routes:\n  - hosts: [a.test]\n    upstream: "${upstream}"\n`)).toContain(
        'line 3: routes[0].upstream',
      );
    }
  });

  it('refuses what is not YAML or not a routes mapping', () => {
    expect(problems('routes: [\n')).toMatch(/is not valid YAML/);
    expect(problems('- a\n- b\n')).toMatch(/must hold a mapping/);
    expect(problems('routes:\n  - hosts: [a]\n')).toMatch(/routes\[0\] must have required/);
    expect(problems('route: []\n')).toMatch(/unknown setting "route"/);
    expect(problems('routes: []\nroutes: []\n')).toMatch(/is not valid YAML/);
  });
});

describe('matchRoute', () => {
  const routes = parseRoutes(
    [
      'routes:',
      '  - name: one',
      '    hosts: [tv.example.com, "*.cdn.example.net"]',
      '    upstream: https://a.test',
      '  - name: deep',
      '    hosts: ["**.deep.test"]',
      '    upstream: https://b.test',
      '  - name: local-only',
      '    hosts: [tv.example.com, local.test]',
      '    listen: ["127.0.0.1:8443", "*:9000"]',
      '    upstream: https://c.test',
    ].join('\n'),
  );
  const name = (host: string | undefined, listener?: { address: string; port: number }) =>
    matchRoute(routes, host, listener)?.name;

  it('matches host patterns label by label, ignoring case, port and a trailing dot', () => {
    expect(name('tv.example.com')).toBe('one');
    expect(name('TV.Example.COM:8443')).toBe('one');
    expect(name('tv.example.com.')).toBe('one');
    expect(name('edge1.cdn.example.net')).toBe('one');
    expect(name('a.b.cdn.example.net')).toBeUndefined(); // `*` is one label
    expect(name('cdn.example.net')).toBeUndefined();
    expect(name('x.y.deep.test')).toBe('deep');
    expect(name('tv.example.com.evil.test')).toBeUndefined();
    expect(name('[::1]:8443')).toBeUndefined();
    expect(name(undefined)).toBeUndefined();
  });

  it('applies listener limits, first match in file order', () => {
    expect(name('local.test', { address: '127.0.0.1', port: 8443 })).toBe('local-only');
    expect(name('local.test', { address: '::ffff:127.0.0.1', port: 8443 })).toBe('local-only');
    expect(name('local.test', { address: '10.0.0.5', port: 9000 })).toBe('local-only');
    expect(name('local.test', { address: '10.0.0.5', port: 8443 })).toBeUndefined();
    expect(name('tv.example.com', { address: '127.0.0.1', port: 8443 })).toBe('one');
  });
});
