// rewritePlaylist on its own: every URI-bearing line kind, the scheme rules, and
// properties over generated playlists.

import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { KeepsakeError } from '../errors';
import { parseAttributes, rewritePlaylist } from './playlist-rewrite';

const base = new URL('https://origin.test/live/hd/index.m3u8?token=SECRET');
/** A proxy URL scheme that is easy to invert in assertions. */
const P = (u: URL) => `/p?u=${encodeURIComponent(u.href)}`;
const unP = (s: string) => new URL(s, 'https://proxy.test').searchParams.get('u');
const rewrite = (text: string, allowInsecure = false, playlistUrl = base) =>
  rewritePlaylist(text, { playlistUrl, rewrite: P, allowInsecure });

function refusal(fn: () => unknown): KeepsakeError {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(KeepsakeError);
    expect((err as KeepsakeError).code).toBe('PLAYLIST_REFUSED');
    return err as KeepsakeError;
  }
  throw new Error('expected a refusal');
}

describe('rewritePlaylist', () => {
  it('rewrites every URI-bearing tag and media line, resolving against the playlist URL', () => {
    const input = [
      '#EXTM3U',
      '#EXT-X-VERSION:9',
      '# a comment with URI="https://elsewhere.test/x"',
      '#EXT-X-SESSION-KEY:METHOD=AES-128,URI="/keys/session.key"',
      '#EXT-X-MEDIA:TYPE=AUDIO,GROUP-ID="aud",NAME="English, main",URI="../audio/en.m3u8"',
      '#EXT-X-MEDIA:TYPE=CLOSED-CAPTIONS,GROUP-ID="cc",NAME="CC1",INSTREAM-ID="CC1"',
      '#EXT-X-I-FRAME-STREAM-INF:BANDWIDTH=86000,CODECS="avc1.4d401f,mp4a.40.2",URI="iframes.m3u8"',
      '#EXT-X-STREAM-INF:BANDWIDTH=1280000,CODECS="avc1.4d401f,mp4a.40.2",AUDIO="aud"',
      'low/index.m3u8',
      '#EXT-X-KEY:METHOD=NONE',
      '#EXT-X-KEY:METHOD=AES-128,URI="https://origin.test/keys/k1.key",IV=0x0123456789abcdef0123456789abcdef',
      '#EXT-X-MAP:URI="init.mp4",BYTERANGE="720@0"',
      '#EXT-X-BYTERANGE:1000@720',
      '#EXTINF:4.0,',
      '//origin.test/live/hd/seg1.m4s#frag',
      '#EXT-X-PART:DURATION=1.0,URI="part1.m4s",BYTERANGE="500@1720",INDEPENDENT=YES',
      '#EXT-X-PRELOAD-HINT:TYPE=PART,URI="part2.m4s",BYTERANGE-START=2220',
      '#EXT-X-RENDITION-REPORT:URI="../sd/index.m3u8",LAST-MSN=10,LAST-PART=2',
      '#EXT-X-SOMETHING-NEW:URI="untouched.bin"',
      '',
    ].join('\n');
    const out = rewrite(input).split('\n');
    const u = (p: string) => P(new URL(p));
    expect(out).toEqual([
      '#EXTM3U',
      '#EXT-X-VERSION:9',
      '# a comment with URI="https://elsewhere.test/x"',
      `#EXT-X-SESSION-KEY:METHOD=AES-128,URI="${u('https://origin.test/keys/session.key')}"`,
      `#EXT-X-MEDIA:TYPE=AUDIO,GROUP-ID="aud",NAME="English, main",URI="${u('https://origin.test/live/audio/en.m3u8')}"`,
      '#EXT-X-MEDIA:TYPE=CLOSED-CAPTIONS,GROUP-ID="cc",NAME="CC1",INSTREAM-ID="CC1"',
      `#EXT-X-I-FRAME-STREAM-INF:BANDWIDTH=86000,CODECS="avc1.4d401f,mp4a.40.2",URI="${u('https://origin.test/live/hd/iframes.m3u8')}"`,
      '#EXT-X-STREAM-INF:BANDWIDTH=1280000,CODECS="avc1.4d401f,mp4a.40.2",AUDIO="aud"',
      u('https://origin.test/live/hd/low/index.m3u8'),
      '#EXT-X-KEY:METHOD=NONE',
      `#EXT-X-KEY:METHOD=AES-128,URI="${u('https://origin.test/keys/k1.key')}",IV=0x0123456789abcdef0123456789abcdef`,
      `#EXT-X-MAP:URI="${u('https://origin.test/live/hd/init.mp4')}",BYTERANGE="720@0"`,
      '#EXT-X-BYTERANGE:1000@720',
      '#EXTINF:4.0,',
      u('https://origin.test/live/hd/seg1.m4s'),
      `#EXT-X-PART:DURATION=1.0,URI="${u('https://origin.test/live/hd/part1.m4s')}",BYTERANGE="500@1720",INDEPENDENT=YES`,
      `#EXT-X-PRELOAD-HINT:TYPE=PART,URI="${u('https://origin.test/live/hd/part2.m4s')}",BYTERANGE-START=2220`,
      `#EXT-X-RENDITION-REPORT:URI="${u('https://origin.test/live/sd/index.m3u8')}",LAST-MSN=10,LAST-PART=2`,
      '#EXT-X-SOMETHING-NEW:URI="untouched.bin"',
      '',
    ]);
    // The playlist's query (a token) is not carried into any rewritten URL.
    expect(out.join('\n')).not.toContain('SECRET');
  });

  it('also rewrites session data, content steering and interstitial assets', () => {
    const out = rewrite(
      [
        '#EXTM3U',
        '#EXT-X-SESSION-DATA:DATA-ID="com.example.lyrics",URI="lyrics.json"',
        '#EXT-X-CONTENT-STEERING:SERVER-URI="/steer",PATHWAY-ID="CDN"',
        '#EXT-X-DATERANGE:ID="ad1",CLASS="com.apple.hls.interstitial",START-DATE="2024-01-01T00:00:00Z",X-ASSET-URI="ad.m3u8"',
      ].join('\n'),
    );
    expect(out).not.toMatch(/URI="(lyrics\.json|\/steer|ad\.m3u8)"/);
    expect(out).toContain(`SERVER-URI="${P(new URL('https://origin.test/steer'))}"`);
  });

  it('keeps CRLF line endings and blank lines', () => {
    const out = rewrite('#EXTM3U\r\n#EXTINF:4,\r\nseg.ts\r\n\r\n#EXT-X-ENDLIST\r\n');
    expect(out).toBe(
      `#EXTM3U\r\n#EXTINF:4,\r\n${P(new URL('https://origin.test/live/hd/seg.ts'))}\r\n\r\n#EXT-X-ENDLIST\r\n`,
    );
  });

  it('refuses non-http schemes, naming the line and not the token', () => {
    for (const [line, scheme] of [
      ['file:///etc/passwd', 'file:'],
      ['#EXT-X-KEY:METHOD=SAMPLE-AES,URI="skd://key-server/1"', 'skd:'],
      ['#EXT-X-KEY:METHOD=AES-128,URI="data:text/plain;base64,AAAAAAAAAAAAAAAAAAAAAA=="', 'data:'],
      ['data:application/vnd.apple.mpegurl;base64,I0VYVE0zVQ==', 'data:'],
      ['#EXT-X-MAP:URI="ftp://origin.test/init.mp4"', 'ftp:'],
      ['javascript:alert(1)', 'javascript:'],
    ]) {
      const err = refusal(() => rewrite(`#EXTM3U\n#EXTINF:4,\n${line}\n`));
      expect(err.message).toContain('line 3');
      expect(err.message).toContain(scheme);
      expect(err.message).toContain('https://origin.test/live/hd/index.m3u8');
      expect(err.message).not.toContain('SECRET');
    }
  });

  it('refuses http:// inside https:// unless allowed, and http keys always', () => {
    const seg = '#EXTM3U\n#EXTINF:4,\nhttp://origin.test/seg.ts\n';
    expect(refusal(() => rewrite(seg)).message).toMatch(/line 3: an http:\/\/ URI inside/);
    expect(rewrite(seg, true)).toContain(P(new URL('http://origin.test/seg.ts')));
    const part = '#EXTM3U\n#EXT-X-PART:DURATION=1,URI="http://origin.test/p.m4s"\n';
    expect(refusal(() => rewrite(part)).message).toMatch(/line 2/);
    const key = '#EXTM3U\n#EXT-X-KEY:METHOD=AES-128,URI="http://origin.test/k.key"\n';
    expect(refusal(() => rewrite(key, true)).message).toMatch(/line 2: an http:\/\/ key/);
    // An http playlist may name http URIs.
    const plain = new URL('http://origin.test/a/index.m3u8');
    expect(rewrite(seg, false, plain)).toContain(P(new URL('http://origin.test/seg.ts')));
  });

  it('refuses attribute lists it cannot read unambiguously', () => {
    refusal(() => rewrite('#EXTM3U\n#EXT-X-MAP:URI=init.mp4\n'));
    refusal(() => rewrite('#EXTM3U\n#EXT-X-MAP:URI="init.mp4\n'));
    refusal(() => rewrite('#EXTM3U\n#EXT-X-MAP:URI="init.mp4"junk\n'));
    refusal(() => rewrite('#EXTM3U\n#EXT-X-KEY:METHOD\n'));
    // Both copies of a repeated URI are rewritten, whichever a player reads.
    const twice = rewrite('#EXTM3U\n#EXT-X-MAP:URI="a.mp4",URI="https://evil.test/b.mp4"\n');
    expect(twice).not.toContain('"a.mp4"');
    expect(twice).not.toContain('"https://evil.test/b.mp4"');
  });

  it('refuses what the proxy URL scheme refuses, naming the line', () => {
    const err = refusal(() =>
      rewritePlaylist('#EXTM3U\n#EXTINF:4,\nok.ts\n#EXTINF:4,\nhttps://evil.test/x.ts\n', {
        playlistUrl: base,
        allowInsecure: false,
        rewrite: (u) => {
          if (u.host !== 'origin.test') throw new KeepsakeError('PLAYLIST_REFUSED', 'outside');
          return P(u);
        },
      }),
    );
    expect(err.message).toMatch(/line 5: outside/);
  });

  it('parses quoted strings holding commas and equals signs', () => {
    expect(parseAttributes('A="x,y=z",B=1,URI="u"').map((a) => [a.name, a.value])).toEqual([
      ['A', 'x,y=z'],
      ['B', '1'],
      ['URI', 'u'],
    ]);
  });

  describe('properties', () => {
    const segment = fc
      .array(fc.stringMatching(/^[A-Za-z0-9._~-]{1,8}$/), { minLength: 1, maxLength: 4 })
      .map((parts) => parts.join('/'));
    const relative = fc.oneof(
      segment,
      segment.map((s) => `../${s}`),
      segment.map((s) => `/${s}`),
      segment.map((s) => `//cdn.test/${s}`),
      segment.map((s) => `https://other.test/${s}?q=1`),
    );
    const quoted = fc.stringMatching(/^[^"\r\n]{0,12}$/);
    const line = fc.oneof(
      fc.record({ kind: fc.constant('uri' as const), uri: relative }),
      fc.record({
        kind: fc.constant('tag' as const),
        tag: fc.constantFrom('EXT-X-MAP', 'EXT-X-PART', 'EXT-X-MEDIA', 'EXT-X-KEY'),
        uri: relative,
        other: quoted,
      }),
      fc.record({
        kind: fc.constant('text' as const),
        text: fc.oneof(
          fc.stringMatching(/^#[^\r\n]{0,30}$/),
          fc.constantFrom('#EXTINF:4.0,', '#EXT-X-BYTERANGE:100@0', '#EXT-X-KEY:METHOD=NONE', ''),
        ),
      }),
    );
    const render = (l: Record<string, unknown>) =>
      l.kind === 'uri'
        ? String(l.uri)
        : l.kind === 'tag'
          ? `#${String(l.tag)}:NAME="${String(l.other)}",URI="${String(l.uri)}",BYTERANGE="10@0"`
          : String(l.text);

    it('keeps the structure and every other line; each URI decodes to its absolute original', () => {
      fc.assert(
        fc.property(fc.array(line, { maxLength: 30 }), fc.boolean(), (lines, crlf) => {
          const eol = crlf ? '\r\n' : '\n';
          const text = ['#EXTM3U', ...lines.map(render)].join(eol);
          const out = rewrite(text).split(eol);
          const inLines = text.split(eol);
          expect(out).toHaveLength(inLines.length);
          lines.forEach((l, i) => {
            const got = out[i + 1]!;
            const want = inLines[i + 1]!;
            if (l.kind === 'text') {
              expect(got).toBe(want);
              return;
            }
            const original = new URL(String(l.uri), base).href;
            if (l.kind === 'uri') {
              expect(unP(got)).toBe(original);
            } else {
              const attrs = parseAttributes(got.slice(got.indexOf(':') + 1));
              expect(unP(attrs.find((a) => a.name === 'URI')!.value)).toBe(original);
              // Everything but the URI is as it was.
              expect(attrs.filter((a) => a.name !== 'URI')).toEqual(
                parseAttributes(want.slice(want.indexOf(':') + 1))
                  .filter((a) => a.name !== 'URI')
                  .map((a) => ({ ...a, start: expect.any(Number), end: expect.any(Number) })),
              );
            }
          });
        }),
      );
    });

    it('never lets a non-http URI through', () => {
      const scheme = fc
        .stringMatching(/^[a-z][a-z0-9+.-]{0,8}$/)
        .filter((s) => !/^https?$/.test(s));
      fc.assert(
        fc.property(scheme, segment, fc.boolean(), (s, path, inTag) => {
          const uri = `${s}:${path}`;
          const text = inTag ? `#EXTM3U\n#EXT-X-MAP:URI="${uri}"` : `#EXTM3U\n${uri}`;
          refusal(() => rewrite(text, true));
        }),
      );
    });
  });
});
