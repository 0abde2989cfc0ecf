// The destinations the stream proxy may fetch from. A URL is allowed when one entry
// matches its host, scheme, port and path; the entry also says which special-purpose
// address ranges (a NAS on the home LAN) its host may resolve to. Refusal is the default:
// an empty allowlist refuses everything.

import picomatch from 'picomatch';
import { KeepsakeError } from '../core/errors';
import { parseCidr } from './address-policy';
import type { Cidr } from './address-policy';
import type { AllowlistEntry } from '../core/config';

export type { AllowlistEntry, ProxyScheme } from '../core/config';

export interface AllowlistMatch {
  /** The entry's position in the list, so callers can key per-entry state on it. */
  index: number;
  entry: AllowlistEntry;
  /** `allowPrivate`, parsed. */
  permitted: readonly Cidr[];
  allowDowngrade: boolean;
}

export type MatchResult = { ok: true; match: AllowlistMatch } | { ok: false; reason: string };

interface Compiled extends AllowlistMatch {
  host: (hostname: string) => boolean;
  schemes: ReadonlySet<string>;
  ports: ReadonlySet<number> | undefined;
  path: (pathname: string) => boolean;
}

const GLOB_CHARS = /[*?{}[\]!]/;

/** The host as the URL parser writes it ('0x7f000001' → '127.0.0.1', IDN → punycode). */
function canonicalHost(host: string): string {
  const bare = host.includes(':') && !host.startsWith('[') ? `[${host}]` : host;
  try {
    const url = new URL(`http://${bare}/`);
    if (url.port !== '' || url.username !== '' || url.pathname !== '/')
      throw new Error('not a host');
    return url.hostname;
  } catch {
    throw new KeepsakeError('USAGE', `allowlist host ${JSON.stringify(host)} is not a host name`);
  }
}

function compileHost(pattern: string): (hostname: string) => boolean {
  const text = pattern.trim().toLowerCase();
  // IPv6 literals contain '[' ']', which picomatch reads as a character class.
  if (!GLOB_CHARS.test(text) || (text.startsWith('[') && text.endsWith(']'))) {
    const exact = canonicalHost(text);
    return (hostname) => hostname === exact;
  }
  if (text.includes('/') || text.includes(':')) {
    throw new KeepsakeError(
      'USAGE',
      `allowlist host ${JSON.stringify(pattern)} is not a host glob`,
    );
  }
  const glob = picomatch(text, { dot: true });
  // IP literals only match when written as such: '*' must not open every address.
  return (hostname) => !hostname.startsWith('[') && !/^[\d.]+$/.test(hostname) && glob(hostname);
}

function compile(entry: AllowlistEntry, index: number): Compiled {
  const schemes = entry.schemes ?? ['https'];
  for (const scheme of schemes) {
    if (scheme !== 'http' && scheme !== 'https') {
      throw new KeepsakeError(
        'USAGE',
        `allowlist scheme ${JSON.stringify(scheme)} is not http or https`,
      );
    }
  }
  for (const port of entry.ports ?? []) {
    if (!Number.isInteger(port) || port < 1 || port > 65535) {
      throw new KeepsakeError('USAGE', `allowlist port ${JSON.stringify(port)} is not a port`);
    }
  }
  const pathGlobs = (entry.paths ?? ['**']).map((p) => picomatch(p, { dot: true }));
  return {
    index,
    entry,
    permitted: (entry.allowPrivate ?? []).map(parseCidr),
    allowDowngrade: entry.allowDowngrade ?? false,
    host: compileHost(entry.host),
    schemes: new Set(schemes.map((s) => `${s}:`)),
    ports: entry.ports ? new Set(entry.ports) : undefined,
    path: (pathname) => pathGlobs.some((glob) => glob(pathname)),
  };
}

function effectivePort(url: URL): number {
  if (url.port !== '') return Number(url.port);
  return url.protocol === 'https:' ? 443 : 80;
}

export class Allowlist {
  private readonly entries: readonly Compiled[];

  /** Validates every entry; throws USAGE naming the first bad one. */
  constructor(entries: readonly AllowlistEntry[]) {
    this.entries = entries.map(compile);
  }

  get size(): number {
    return this.entries.length;
  }

  /** The first entry that allows `url`, or why none does (for a 403 message). */
  match(url: URL): MatchResult {
    if (url.protocol !== 'http:' && url.protocol !== 'https:') {
      return { ok: false, reason: `scheme ${url.protocol} is not proxied (only http and https)` };
    }
    if (url.username !== '' || url.password !== '') {
      return { ok: false, reason: 'URLs with credentials are not proxied' };
    }
    const forHost = this.entries.filter((e) => e.host(url.hostname));
    if (forHost.length === 0)
      return { ok: false, reason: `${url.hostname} is not on the allowlist` };
    const forScheme = forHost.filter((e) => e.schemes.has(url.protocol));
    if (forScheme.length === 0) {
      return {
        ok: false,
        reason: `${url.protocol.slice(0, -1)} is not allowed for ${url.hostname}`,
      };
    }
    const port = effectivePort(url);
    const forPort = forScheme.filter((e) => !e.ports || e.ports.has(port));
    if (forPort.length === 0) {
      return { ok: false, reason: `port ${port} is not allowed for ${url.hostname}` };
    }
    const found = forPort.find((e) => e.path(url.pathname));
    if (!found) {
      return { ok: false, reason: `the path ${url.pathname} is not allowed for ${url.hostname}` };
    }
    const { index, entry, permitted, allowDowngrade } = found;
    return { ok: true, match: { index, entry, permitted, allowDowngrade } };
  }
}
