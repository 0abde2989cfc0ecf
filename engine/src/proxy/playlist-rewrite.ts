// HLS playlist rewriting (RFC 8216 + the low-latency tags): every URI a player would
// fetch is resolved against the playlist's own URL and replaced by a proxy URL, so the
// player never talks to an upstream directly. Anything we cannot rewrite safely is
// refused with the line number, never passed through: a URI left untouched would let an
// upstream send the player around the proxy.
//
// Kept as-is: comments, unknown tags, EXT-X-BYTERANGE and BYTERANGE attributes (they
// address bytes of the resource, which the proxy serves unchanged), and line endings.

import { KeepsakeError } from '../errors';

export interface RewriteOptions {
  /** The playlist's URL after redirects: relative URIs resolve against it. */
  playlistUrl: URL;
  /**
   * The proxy URL for an absolute upstream URL (fragment removed). Throws a KeepsakeError
   * to refuse it (e.g. outside the allowlist). The result must not hold `"`, CR or LF.
   */
  rewrite: (absolute: URL) => string;
  /** Allow http:// media inside an https:// playlist (never for keys). */
  allowInsecure: boolean;
}

/**
 * The attributes holding URIs, per tag. Beyond the tags the issue names, EXT-X-SESSION-DATA,
 * EXT-X-CONTENT-STEERING and interstitial EXT-X-DATERANGE assets also make players fetch
 * URLs, so they are rewritten too rather than left as a way around the proxy.
 */
const URI_ATTRIBUTES: ReadonlyMap<string, readonly string[]> = new Map([
  ['EXT-X-KEY', ['URI']],
  ['EXT-X-SESSION-KEY', ['URI']],
  ['EXT-X-MAP', ['URI']],
  ['EXT-X-MEDIA', ['URI']],
  ['EXT-X-I-FRAME-STREAM-INF', ['URI']],
  ['EXT-X-IMAGE-STREAM-INF', ['URI']],
  ['EXT-X-PART', ['URI']],
  ['EXT-X-PRELOAD-HINT', ['URI']],
  ['EXT-X-RENDITION-REPORT', ['URI']],
  ['EXT-X-SESSION-DATA', ['URI']],
  ['EXT-X-CONTENT-STEERING', ['SERVER-URI']],
  ['EXT-X-DATERANGE', ['X-ASSET-URI', 'X-ASSET-LIST']],
]);

/** Keys fetched over http would expose them to anyone on the path, whatever the route says. */
const KEY_TAGS = new Set(['EXT-X-KEY', 'EXT-X-SESSION-KEY']);

/** The playlist's location for messages: origin and path, never its query (it may hold a token). */
export function describeUrl(url: URL): string {
  return url.protocol === 'http:' || url.protocol === 'https:'
    ? `${url.origin}${url.pathname}`
    : url.protocol;
}

/** The rewritten playlist, or a PLAYLIST_REFUSED KeepsakeError naming the line. */
export function rewritePlaylist(text: string, options: RewriteOptions): string {
  // Odd indexes hold the line endings, so CRLF and LF survive as they were.
  const parts = text.split(/(\r?\n)/);
  for (let i = 0; i < parts.length; i += 2) {
    const line = parts[i]!;
    const lineNo = i / 2 + 1;
    try {
      parts[i] = rewriteLine(line, options);
    } catch (err) {
      const reason = err instanceof KeepsakeError ? err.message : String(err);
      throw new KeepsakeError(
        'PLAYLIST_REFUSED',
        `${describeUrl(options.playlistUrl)} line ${lineNo}: ${reason}`,
        { cause: err },
      );
    }
  }
  return parts.join('');
}

function rewriteLine(line: string, options: RewriteOptions): string {
  const trimmed = line.trim();
  if (trimmed === '') return line;
  if (!trimmed.startsWith('#')) return proxied(trimmed, false, options);
  if (!trimmed.startsWith('#EXT')) return line; // a comment
  const colon = trimmed.indexOf(':');
  if (colon < 0) return line;
  const tag = trimmed.slice(1, colon);
  const names = URI_ATTRIBUTES.get(tag);
  if (!names) return line;
  const prefix = trimmed.slice(0, colon + 1);
  const attrs = parseAttributes(trimmed.slice(colon + 1));
  let out = '';
  let at = 0;
  const list = trimmed.slice(colon + 1);
  for (const a of attrs) {
    if (!names.includes(a.name)) continue;
    if (!a.quoted) throw refusal(`${tag} has an unquoted ${a.name}`);
    const uri = proxied(a.value, KEY_TAGS.has(tag), options);
    if (/["\r\n]/.test(uri)) throw new KeepsakeError('INTERNAL', 'a proxy URL holds a quote');
    out += list.slice(at, a.start) + `"${uri}"`;
    at = a.end;
  }
  return prefix + out + list.slice(at);
}

function refusal(message: string): KeepsakeError {
  return new KeepsakeError('PLAYLIST_REFUSED', message);
}

/** Resolves one URI, applies the scheme rules and hands it to the proxy's URL scheme. */
function proxied(uri: string, isKey: boolean, options: RewriteOptions): string {
  let absolute: URL;
  try {
    absolute = new URL(uri, options.playlistUrl);
  } catch {
    throw refusal('a URI that does not parse');
  }
  // data: is refused too: a data: playlist could carry upstream URLs the proxy never sees.
  if (absolute.protocol !== 'http:' && absolute.protocol !== 'https:') {
    throw refusal(`a ${absolute.protocol} URI (only http and https are proxied)`);
  }
  if (options.playlistUrl.protocol === 'https:' && absolute.protocol === 'http:') {
    if (isKey) throw refusal(`an http:// key inside an https:// playlist`);
    if (!options.allowInsecure) {
      throw refusal(`an http:// URI inside an https:// playlist (${describeUrl(absolute)})`);
    }
  }
  absolute.hash = ''; // never sent to a server
  const out = options.rewrite(absolute);
  if (/[\r\n]/.test(out) || out.startsWith('#') || out.trim() !== out || out === '') {
    throw new KeepsakeError('INTERNAL', 'a proxy URL is not a single URI line');
  }
  return out;
}

export interface Attribute {
  name: string;
  /** The value without its quotes. */
  value: string;
  quoted: boolean;
  /** Where the value (quotes included) starts and ends in the attribute list. */
  start: number;
  end: number;
}

/**
 * An attribute list (RFC 8216 §4.2): NAME=VALUE pairs split by commas, where a quoted
 * string may hold commas and `=`. Malformed lists are refused, not guessed at, so that the
 * proxy and the player cannot read different URIs from the same line.
 */
export function parseAttributes(list: string): Attribute[] {
  const attrs: Attribute[] = [];
  let i = 0;
  while (i < list.length) {
    const eq = list.indexOf('=', i);
    if (eq < 0) throw refusal('a malformed attribute list (a name without a value)');
    const name = list.slice(i, eq).trim();
    if (!/^[A-Z0-9-]+$/.test(name)) throw refusal(`a malformed attribute name "${name}"`);
    const start = eq + 1;
    let end: number;
    let value: string;
    let quoted = false;
    if (list[start] === '"') {
      const close = list.indexOf('"', start + 1);
      if (close < 0) throw refusal(`an unterminated quoted string in ${name}`);
      end = close + 1;
      value = list.slice(start + 1, close);
      quoted = true;
    } else {
      const comma = list.indexOf(',', start);
      end = comma < 0 ? list.length : comma;
      value = list.slice(start, end);
    }
    attrs.push({ name, value, quoted, start, end });
    if (end >= list.length) break;
    if (list[end] !== ',') throw refusal(`text after the quoted value of ${name}`);
    i = end + 1;
  }
  return attrs;
}
