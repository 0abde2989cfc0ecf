// The stream proxy's routes file (YAML): which incoming host names and listeners go to
// which upstream origin, with what timeouts, TLS checks, HLS rewriting and allowlist.
// One schema checks it; errors name the field and its line. `keepsake validate -c FILE`
// and the SIGHUP reload (routes-holder.ts) run exactly this parse. See
// docs/stream-proxy-routes.md for the format.

import { readFile } from 'node:fs/promises';
import { isIP } from 'node:net';
import { dirname, resolve as resolvePath } from 'node:path';
import picomatch from 'picomatch';
import { Type, type Static } from 'typebox';
import { Value } from 'typebox/value';
import { LineCounter, parseDocument, type Document } from 'yaml';
import { KeepsakeError } from '../core/errors';
import { compileCors, type RouteCors } from './route-cors';
import { parseUpstreamProxy, type UpstreamProxy } from './upstream-proxy';
import type { UpstreamTimeouts } from './upstream-types';

const MIB = 1024 * 1024;
const Ms = (fallback: number) =>
  Type.Integer({ minimum: 1, maximum: 3_600_000, default: fallback });

const RouteSchema = Type.Object(
  {
    /** For logs and errors; defaults to `routes[i]`. */
    name: Type.Optional(Type.String({ minLength: 1, maxLength: 100 })),
    hosts: Type.Array(Type.String({ minLength: 1, maxLength: 253 }), { minItems: 1 }),
    listen: Type.Optional(Type.Array(Type.String({ minLength: 1 }), { minItems: 1 })),
    upstream: Type.String({ minLength: 1 }),
    timeouts: Type.Object(
      { connectMs: Ms(5_000), readMs: Ms(15_000), requestMs: Ms(30_000) },
      { default: {}, additionalProperties: false },
    ),
    tls: Type.Object(
      { verify: Type.Boolean({ default: true }) },
      { default: {}, additionalProperties: false },
    ),
    hls: Type.Object(
      {
        rewrite: Type.Boolean({ default: true }),
        baseUrl: Type.Optional(Type.String({ minLength: 1 })),
        allowInsecureSegments: Type.Boolean({ default: false }),
        maxPlaylistBytes: Type.Integer({ minimum: 1024, maximum: 64 * MIB, default: 8 * MIB }),
      },
      { default: {}, additionalProperties: false },
    ),
    /** Serve a DASH manifest (MPD) as HLS playlists (dash-to-hls.ts). */
    dash: Type.Object(
      {
        toHls: Type.Boolean({ default: false }),
        maxManifestBytes: Type.Integer({ minimum: 1024, maximum: 64 * MIB, default: 8 * MIB }),
      },
      { default: {}, additionalProperties: false },
    ),
    /** `socks5://user:pass@host:port` or `http://host:port` (upstream-proxy.ts). */
    upstreamProxy: Type.Optional(Type.String({ minLength: 1 })),
    /** Which web pages may read this route from a script (route-cors.ts). */
    cors: Type.Optional(
      Type.Object(
        {
          origins: Type.Array(Type.String({ minLength: 1 }), { minItems: 1 }),
          methods: Type.Array(Type.Union([Type.Literal('GET'), Type.Literal('HEAD')]), {
            minItems: 1,
            default: ['GET', 'HEAD'],
          }),
          headers: Type.Array(Type.String({ minLength: 1 }), { default: ['range'] }),
          credentials: Type.Boolean({ default: false }),
          maxAgeSeconds: Type.Integer({ minimum: 0, maximum: 86_400, default: 600 }),
        },
        { additionalProperties: false },
      ),
    ),
    allow: Type.Object(
      {
        paths: Type.Array(Type.String({ minLength: 1 }), { default: ['/**'] }),
        origins: Type.Array(Type.String({ minLength: 1 }), { default: [] }),
        privateCidrs: Type.Array(Type.String({ minLength: 1 }), { default: [] }),
      },
      { default: {}, additionalProperties: false },
    ),
  },
  { additionalProperties: false },
);

export const RoutesFileSchema = Type.Object(
  {
    routes: Type.Array(RouteSchema),
    /** The listener's own certificate (listener-tls.ts); paths relative to the file. */
    tls: Type.Optional(
      Type.Object(
        { cert: Type.String({ minLength: 1 }), key: Type.String({ minLength: 1 }) },
        { additionalProperties: false },
      ),
    ),
  },
  { additionalProperties: false },
);

export type RouteConfig = Static<typeof RouteSchema>;

export interface Listener {
  address: string;
  port: number;
}

/** A checked route, with its patterns compiled. */
export interface Route {
  name: string;
  /** Position in the file, for messages. */
  index: number;
  hosts: readonly string[];
  /** `ADDRESS:PORT` or `*:PORT`; undefined: every listener. */
  listen: readonly string[] | undefined;
  /** The origin requests go to (scheme://host[:port]). */
  upstream: URL;
  /** Further origins playlists may point at (e.g. a CDN or key server), served under /.ks-origin/. */
  origins: readonly URL[];
  timeouts: UpstreamTimeouts;
  verifyTls: boolean;
  hls: {
    rewrite: boolean;
    /** Where players reach this route; undefined: rewritten URIs are root-relative. */
    baseUrl: URL | undefined;
    allowInsecureSegments: boolean;
    maxPlaylistBytes: number;
  };
  /** DASH manifests (MPDs) served as HLS; the MPD is read up to maxManifestBytes. */
  dash: { toHls: boolean; maxManifestBytes: number };
  /** Reach the upstream through this proxy; undefined: directly. */
  upstreamProxy: UpstreamProxy | undefined;
  /** Cross-origin reads allowed from web pages; undefined: none. */
  cors: RouteCors | undefined;
  /** Path globs of upstream URLs that may be fetched, and private ranges explicitly allowed. */
  allow: { paths: readonly string[]; privateCidrs: readonly string[] };
  matchesHost(host: string): boolean;
  matchesListener(listener: Listener): boolean;
  allowsPath(pathname: string): boolean;
}

export interface Routes {
  /** The file they came from, when they came from one. */
  file: string | undefined;
  routes: readonly Route[];
  /** The listener's certificate and key files (absolute), when it serves TLS itself. */
  tls: { cert: string; key: string } | undefined;
}

type Problem = { path: (string | number)[]; message: string };

/** Parses and checks a routes file's text; errors name the field, its line and the file. */
export function parseRoutes(text: string, file?: string): Routes {
  const label = file ?? 'routes file';
  const lineCounter = new LineCounter();
  const doc = parseDocument(text, { lineCounter, prettyErrors: true, uniqueKeys: true });
  if (doc.errors.length) {
    throw new KeepsakeError(
      'USAGE',
      `${label}: is not valid YAML (${doc.errors.map((e) => e.message.split('\n')[0]).join('; ')})`,
    );
  }
  const raw: unknown = doc.toJS({ maxAliasCount: 50 });
  const problems = checkShape(raw);
  if (!problems.length) {
    const value = raw as Static<typeof RoutesFileSchema>;
    const routes = value.routes.map((r, i) => compileRoute(r, i, problems));
    // Relative to the routes file, so the file can move with its certificates.
    const near = (p: string) => (file ? resolvePath(dirname(file), p) : resolvePath(p));
    const tls = value.tls && { cert: near(value.tls.cert), key: near(value.tls.key) };
    if (!problems.length) return { file, routes, tls };
  }
  const lines = problems.map((p) => describeProblem(p, doc, lineCounter));
  throw new KeepsakeError('USAGE', `${label}: ${[...new Set(lines)].join('; ')}`);
}

export async function readRoutesFile(path: string): Promise<Routes> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (err) {
    throw new KeepsakeError('NOT_FOUND', 'cannot read the routes file', { file: path, cause: err });
  }
  return parseRoutes(text, path);
}

/**
 * Whether `keepsake validate -c FILE` should read FILE as routes: a .yaml/.yml name, or
 * any YAML/JSON mapping with a top-level `routes` key (server configurations have none).
 * An unreadable file is not routes; the server-config path reports it.
 */
export async function isRoutesFile(path: string): Promise<boolean> {
  if (/\.ya?ml$/i.test(path)) return true;
  try {
    const doc = parseDocument(await readFile(path, 'utf8'));
    return !doc.errors.length && doc.has('routes');
  } catch {
    return false;
  }
}

/** The first route (in file order) for this Host header and listener, if any. */
export function matchRoute(
  routes: Routes,
  host: string | undefined,
  listener?: Listener,
): Route | undefined {
  const name = hostName(host);
  if (name === undefined) return undefined;
  return routes.routes.find(
    (r) => r.matchesHost(name) && (listener === undefined || r.matchesListener(listener)),
  );
}

/** `Host` header → lower-case name without port or trailing dot; IPv6 literals never match. */
export function hostName(host: string | undefined): string | undefined {
  if (!host) return undefined;
  const name = host.replace(/:\d+$/, '').toLowerCase().replace(/\.$/, '');
  return /^[a-z0-9-]+(\.[a-z0-9-]+)*$/.test(name) ? name : undefined;
}

function checkShape(raw: unknown): Problem[] {
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) {
    return [{ path: [], message: 'must hold a mapping with a "routes" list' }];
  }
  Value.Default(RoutesFileSchema, raw);
  // An extra key is reported once, by its name (not also as "schema is false" at its path).
  return [...Value.Errors(RoutesFileSchema, raw)]
    .filter((e) => e.keyword !== 'boolean')
    .map((e) => {
      const path = e.instancePath
        .split('/')
        .slice(1)
        .map((s) => (/^\d+$/.test(s) ? Number(s) : s));
      const extra = (e.params as { additionalProperties?: string[] }).additionalProperties;
      return extra
        ? { path, message: `unknown setting ${extra.map((k) => `"${k}"`).join(', ')}` }
        : { path, message: e.message };
    });
}

// Host patterns are matched label by label: `*` is one label, `**` any number of them.
// Rewriting dots as slashes lets picomatch do exactly that.
const HOST_PATTERN = /^(\*\*|[a-z0-9*?-]+)(\.(\*\*|[a-z0-9*?-]+))*$/;
const LISTEN = /^(\*|\d{1,3}(?:\.\d{1,3}){3}|\[[0-9a-f:.]+\]):(\d{1,5})$/i;

function compileRoute(r: RouteConfig, index: number, problems: Problem[]): Route {
  const at = (...path: (string | number)[]) => ['routes', index, ...path];
  const fail = (path: (string | number)[], message: string) => problems.push({ path, message });

  const hosts = r.hosts.map((h) => h.toLowerCase());
  hosts.forEach((h, i) => {
    if (!HOST_PATTERN.test(h) || /\*\*\*/.test(h)) {
      fail(at('hosts', i), `"${h}" is not a host name pattern (labels of a-z, 0-9, -, * and ?)`);
    }
  });
  const hostMatch = picomatch(hosts.map(dotsToSlashes));

  const listen = r.listen?.map((l) => l.toLowerCase());
  listen?.forEach((l, i) => {
    const m = LISTEN.exec(l);
    const address = m?.[1]?.replace(/^\[|\]$/g, '');
    const port = Number(m?.[2]);
    if (!m || (address !== '*' && !isIP(address ?? '')) || port < 1 || port > 65535) {
      fail(at('listen', i), `"${l}" is not ADDRESS:PORT (e.g. 127.0.0.1:8443, [::1]:8443, *:8443)`);
    }
  });

  const upstream = originOf(r.upstream, at('upstream'), fail);
  const origins = r.allow.origins.map((o, i) => originOf(o, at('allow', 'origins', i), fail));
  const baseUrl =
    r.hls.baseUrl === undefined ? undefined : originOf(r.hls.baseUrl, at('hls', 'baseUrl'), fail);

  r.allow.paths.forEach((p, i) => {
    if (!p.startsWith('/')) fail(at('allow', 'paths', i), `"${p}" must start with /`);
  });
  const pathMatch = picomatch([...r.allow.paths]);

  let upstreamProxy: UpstreamProxy | undefined;
  if (r.upstreamProxy !== undefined) {
    try {
      upstreamProxy = parseUpstreamProxy(r.upstreamProxy);
    } catch (err) {
      fail(at('upstreamProxy'), (err as Error).message);
    }
  }
  const cors = r.cors && compileCors(r.cors, (path, message) => fail(at('cors', ...path), message));

  r.allow.privateCidrs.forEach((c, i) => {
    if (!isCidr(c)) fail(at('allow', 'privateCidrs', i), `"${c}" is not a CIDR (e.g. 10.0.0.0/8)`);
  });

  return {
    name: r.name ?? `routes[${index}]`,
    index,
    hosts,
    listen,
    upstream,
    origins: [upstream, ...origins.filter((o) => o.origin !== upstream.origin)],
    timeouts: { ...r.timeouts },
    verifyTls: r.tls.verify,
    hls: {
      rewrite: r.hls.rewrite,
      baseUrl,
      allowInsecureSegments: r.hls.allowInsecureSegments,
      maxPlaylistBytes: r.hls.maxPlaylistBytes,
    },
    dash: { toHls: r.dash.toHls, maxManifestBytes: r.dash.maxManifestBytes },
    upstreamProxy,
    cors,
    allow: { paths: [...r.allow.paths], privateCidrs: [...r.allow.privateCidrs] },
    matchesHost: (host) => hostMatch(dotsToSlashes(host)),
    matchesListener: (l) =>
      listen === undefined || listen.some((pattern) => listenerMatches(pattern, l)),
    allowsPath: (pathname) => pathMatch(pathname),
  };
}

function dotsToSlashes(s: string): string {
  return s.replaceAll('.', '/');
}

function listenerMatches(pattern: string, l: Listener): boolean {
  const m = LISTEN.exec(pattern);
  if (!m || Number(m[2]) !== l.port) return false;
  const want = m[1]!.replace(/^\[|\]$/g, '');
  const have = l.address.replace(/^::ffff:(?=\d+\.)/, '').toLowerCase();
  return want === '*' || want === have;
}

/** An http(s) origin with nothing else: no credentials, path, query or fragment. */
function originOf(
  value: string,
  path: (string | number)[],
  fail: (path: (string | number)[], message: string) => void,
): URL {
  let url: URL | undefined;
  try {
    url = new URL(value);
  } catch {
    // reported below
  }
  if (
    !url ||
    (url.protocol !== 'http:' && url.protocol !== 'https:') ||
    url.username ||
    url.password ||
    url.pathname !== '/' ||
    url.search ||
    url.hash
  ) {
    fail(path, `"${value}" must be an http(s) origin like https://host[:port], nothing after it`);
    return new URL('http://invalid.invalid');
  }
  return new URL(url.origin);
}

function isCidr(value: string): boolean {
  const [address, bits, ...rest] = value.split('/');
  const family = isIP(address ?? '');
  if (!family || rest.length || bits === undefined || !/^\d{1,3}$/.test(bits)) return false;
  return Number(bits) <= (family === 4 ? 32 : 128);
}

function describeProblem(p: Problem, doc: Document, lines: LineCounter): string {
  const where = p.path.reduce<string>(
    (s, k) => (typeof k === 'number' ? `${s}[${k}]` : s ? `${s}.${k}` : k),
    '',
  );
  // The nearest node that exists in the file (a missing field: its parent).
  for (let n = p.path.length; n >= 0; n--) {
    const node = doc.getIn(p.path.slice(0, n), true) as { range?: [number] } | undefined;
    if (node?.range) {
      const line = lines.linePos(node.range[0]).line;
      return `line ${line}: ${where || 'the file'} ${p.message}`;
    }
  }
  return `${where || 'the file'} ${p.message}`;
}
