// HLS playlist rewriting (RFC 8216 + the low-latency tags): every URI a player would
// fetch is resolved against the playlist's own URL and replaced by a proxy URL, so the
// player never talks to an upstream directly. Anything we cannot rewrite safely is
// refused with the line number, never passed through: a URI left untouched would let an
// upstream send the player around the proxy.
//
// Lines are split wherever any player ends one, not only at LF: FFmpeg also ends a line at
// a bare CR, hls.js at U+2028 and U+2029, Python's splitlines (yt-dlp, streamlink) at VT,
// FF, FS, GS, RS and U+0085. A URI hidden behind such a separator inside a comment or after
// a tag is therefore its own line here too, and is rewritten or refused like any other.
// Other control characters (NUL ends a line for FFmpeg) refuse the playlist.
//
// Kept as-is: comments, EXT-X-BYTERANGE and BYTERANGE attributes (they address bytes of
// the resource, which the proxy serves unchanged), and line endings. Unknown tags are
// kept only when nothing in them could name another host: their URI attributes are
// rewritten and a value that looks like an absolute or network-path URI refuses them.
//
// Work is bounded: a line is at most MAX_LINE_CHARS, and the route proxy rewrites with
// rewritePlaylistYielding, which hands the event loop back every few milliseconds, so a
// hostile playlist of millions of lines cannot stall every other request.

import { KeepsakeError } from '../core/errors';

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

/**
 * Tags whose whole value is one URI. EXT-X-PREFETCH is the low-latency extension some
 * players (LHLS) fetch ahead of the segment list.
 */
const URI_VALUE_TAGS = new Set(['EXT-X-PREFETCH']);

/**
 * Standard tags that name no URI, whose values pass unchecked: EXTINF's title is free
 * text and may quote a web address without anyone fetching it.
 */
const PLAIN_TAGS = new Set([
  'EXTINF',
  'EXT-X-VERSION',
  'EXT-X-TARGETDURATION',
  'EXT-X-MEDIA-SEQUENCE',
  'EXT-X-DISCONTINUITY-SEQUENCE',
  'EXT-X-PLAYLIST-TYPE',
  'EXT-X-START',
  'EXT-X-BYTERANGE',
  'EXT-X-PROGRAM-DATE-TIME',
  'EXT-X-BITRATE',
  'EXT-X-PART-INF',
  'EXT-X-SERVER-CONTROL',
  'EXT-X-SKIP',
  'EXT-X-STREAM-INF',
]);

/**
 * Where a line ends for some player (see the top of this file). CRLF first, so that it
 * counts as one ending and is kept as it was.
 */
// eslint-disable-next-line no-control-regex -- control characters are what this matches
const LINE_END = /\r\n|[\n\r\v\f\x1c-\x1e\x85\u2028\u2029]/g;
const ANY_LINE_END = new RegExp(LINE_END.source);
/** Control characters no playlist needs; NUL ends a line for FFmpeg. Tab is allowed. */
// eslint-disable-next-line no-control-regex -- control characters are what this matches
const CONTROL = /[\x00-\x08\x0e-\x1b\x1f\x7f]/;
const CONTROL_NAMES: Record<string, string> = { '\x00': 'a NUL character' };

/** No real playlist line comes near this; it bounds the work one line can cost. */
export const MAX_LINE_CHARS = 64 * 1024;

/** Rewrites a playlist a batch of lines at a time (see rewritePlaylistYielding). */
class PlaylistRewriter {
  private at = 0;
  private lineNo = 0;
  private readonly out: string[] = [];
  private done = false;
  private readonly lineEnd = new RegExp(LINE_END.source, 'g');

  constructor(
    private readonly text: string,
    private readonly options: RewriteOptions,
  ) {}

  /**
   * Rewrites up to `lines` more lines, stopping early once `chars` characters are done
   * (long lines cost as much as many short ones); true once the whole playlist is done.
   */
  step(lines: number, chars: number): boolean {
    const { text } = this;
    const from = this.at;
    // One string per batch: a rope of millions of small pieces costs the GC dearly.
    const parts: string[] = [];
    for (let n = 0; n < lines && !this.done && this.at - from < chars; n++) {
      this.lineEnd.lastIndex = this.at;
      const m = this.lineEnd.exec(text);
      const end = m ? m.index : text.length;
      this.lineNo += 1;
      parts.push(this.rewrite(text.slice(this.at, end)));
      if (m) {
        parts.push(m[0]);
        this.at = end + m[0].length;
      } else {
        this.done = true;
      }
    }
    this.out.push(parts.join(''));
    return this.done;
  }

  result(): string {
    return this.out.join('');
  }

  private rewrite(line: string): string {
    try {
      if (line.length > MAX_LINE_CHARS) {
        throw refusal(`a line of ${line.length} characters (at most ${MAX_LINE_CHARS})`);
      }
      const control = CONTROL.exec(line);
      if (control) {
        const name =
          CONTROL_NAMES[control[0]] ??
          `the control character U+${control[0].charCodeAt(0).toString(16).padStart(4, '0')}`;
        throw refusal(`${name}, which some players read as the end of a line`);
      }
      return rewriteLine(line, this.options);
    } catch (err) {
      const reason = err instanceof KeepsakeError ? err.message : String(err);
      throw new KeepsakeError(
        'PLAYLIST_REFUSED',
        `${describeUrl(this.options.playlistUrl)} line ${this.lineNo}: ${reason}`,
        { cause: err },
      );
    }
  }
}

/** Lines, or characters, rewritten between two looks at the clock (and joined into one string). */
const LINES_PER_CHECK = 512;
const CHARS_PER_CHECK = 16 * 1024;

/** The rewritten playlist, or a PLAYLIST_REFUSED KeepsakeError naming the line. */
export function rewritePlaylist(text: string, options: RewriteOptions): string {
  const rewriter = new PlaylistRewriter(text, options);
  while (!rewriter.step(LINES_PER_CHECK, CHARS_PER_CHECK));
  return rewriter.result();
}

/**
 * rewritePlaylist for a server: the same result, but the event loop is handed back at
 * least every `sliceMs` milliseconds, so other requests are answered while a long (or
 * hostile) playlist is rewritten.
 */
export async function rewritePlaylistYielding(
  text: string,
  options: RewriteOptions,
  sliceMs = 5,
): Promise<string> {
  const rewriter = new PlaylistRewriter(text, options);
  for (;;) {
    const until = performance.now() + sliceMs;
    do {
      if (rewriter.step(LINES_PER_CHECK, CHARS_PER_CHECK)) return rewriter.result();
    } while (performance.now() < until);
    await new Promise<void>((resolve) => setImmediate(resolve));
  }
}

function rewriteLine(line: string, options: RewriteOptions): string {
  const trimmed = line.trim();
  if (trimmed === '') return line;
  if (!trimmed.startsWith('#')) return proxied(trimmed, false, options);
  if (!trimmed.startsWith('#EXT')) return line; // a comment
  const colon = trimmed.indexOf(':');
  if (colon < 0) return line;
  const tag = trimmed.slice(1, colon);
  const prefix = trimmed.slice(0, colon + 1);
  const list = trimmed.slice(colon + 1);
  if (PLAIN_TAGS.has(tag)) return line;
  const known = URI_ATTRIBUTES.get(tag);
  let attrs: Attribute[];
  try {
    attrs = parseAttributes(list);
  } catch (err) {
    if (known) throw err;
    // Not an attribute list: either the tag's value is a URI (`#EXT-X-PREFETCH:seg.ts`), or
    // an unknown tag (vendor cue markers) that may pass if nothing in it looks like a URI
    // on another host.
    if (URI_VALUE_TAGS.has(tag)) return prefix + proxied(list.trim(), false, options);
    checkNotForeign(tag, list);
    return line;
  }
  // Unknown tags: any attribute a player could fetch by its name (URI, X-TRACKING-URI)
  // is rewritten like a known one; the others must not look like a URI elsewhere.
  const isUri = (name: string) =>
    known ? known.includes(name) : name === 'URI' || name.endsWith('-URI');
  let out = '';
  let at = 0;
  for (const a of attrs) {
    if (!isUri(a.name)) {
      // A known tag's own attributes are defined by the spec (KEYFORMAT is a URN); only
      // client-defined X- attributes and those of unknown tags could carry anything.
      if (!known || a.name.startsWith('X-')) checkNotForeign(`${tag} ${a.name}`, a.value);
      continue;
    }
    if (!a.quoted) throw refusal(`${tag} has an unquoted ${a.name}`);
    const uri = proxied(a.value, KEY_TAGS.has(tag), options);
    if (/["\r\n]/.test(uri)) throw new KeepsakeError('INTERNAL', 'a proxy URL holds a quote');
    out += list.slice(at, a.start) + `"${uri}"`;
    at = a.end;
  }
  return prefix + out + list.slice(at);
}

/** A token that a player could read as a URI on another host: a scheme, or `//host`. */
const FOREIGN = /^(?:[a-z][a-z0-9+.-]*:|[\\/]{2})/i;

/** Refuses text (an unknown tag's value) holding something like an absolute URI. */
function checkNotForeign(where: string, text: string): void {
  for (const token of text.split(/[\s,;="'<>()[\]{}|^`]+/)) {
    if (FOREIGN.test(token)) {
      // Without its query, which may hold a token, as in describeUrl.
      const shown = token.split('?')[0]!.slice(0, 40);
      throw refusal(
        `${where} holds what looks like an address (${shown}) the proxy cannot rewrite`,
      );
    }
  }
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
  if (
    ANY_LINE_END.test(out) ||
    CONTROL.test(out) ||
    out.startsWith('#') ||
    out.trim() !== out ||
    out === ''
  ) {
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
