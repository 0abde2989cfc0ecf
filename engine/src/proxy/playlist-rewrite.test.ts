// rewritePlaylist on its own: every URI-bearing line kind, the scheme rules, and
// properties over generated playlists.

import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { KeepsakeError } from '../core/errors';
import {
  MAX_LINE_CHARS,
  parseAttributes,
  rewritePlaylist,
  rewritePlaylistYielding,
} from './playlist-rewrite';

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
      '#EXT-X-SOMETHING-NEW:URI="also-rewritten.bin"',
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
      // An unknown tag's URI is rewritten too: some player may know the tag.
      `#EXT-X-SOMETHING-NEW:URI="${u('https://origin.test/live/hd/also-rewritten.bin')}"`,
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

  /** Like `rewrite`, but the proxy refuses every host but origin.test, as a route does. */
  const routed = (text: string) =>
    rewritePlaylist(text, {
      playlistUrl: base,
      allowInsecure: false,
      rewrite: (u) => {
        if (u.host !== 'origin.test') throw new KeepsakeError('PLAYLIST_REFUSED', 'outside');
        return P(u);
      },
    });

  /** Every line end some player honours (see playlist-rewrite.ts), by name. */
  const SEPARATORS: [string, string][] = [
    ['CR', '\r'],
    ['U+2028', '\u2028'],
    ['U+2029', '\u2029'],
    ['U+0085', '\u0085'],
    ['VT', '\v'],
    ['FF', '\f'],
    ['FS', '\x1c'],
    ['GS', '\x1d'],
    ['RS', '\x1e'],
  ];

  describe.each(SEPARATORS)('a URI hidden behind %s', (_name, sep) => {
    for (const [where, before] of [
      ['a comment', '# note'],
      ['a tag', '#EXTINF:4.0,'],
      ['a URI tag', '#EXT-X-MAP:URI="init.mp4"'],
      ['a media line', 'seg.ts'],
    ]) {
      it(`after ${where}: a foreign one is refused, naming its line`, () => {
        const text = `#EXTM3U\n#EXTINF:4,\n${before}${sep}https://10.0.0.1/seg.ts\n`;
        const err = refusal(() => routed(text));
        expect(err.message).toMatch(/line 4: outside/);
      });
      it(`after ${where}: one on the route is rewritten, the separator kept`, () => {
        const text = `#EXTM3U\n${before}${sep}https://origin.test/live/x.ts\n`;
        const out = routed(text);
        expect(out).not.toContain('https://origin.test/live/x.ts');
        expect(out).toContain(`${sep}${P(new URL('https://origin.test/live/x.ts'))}\n`);
      });
    }
  });

  it('refuses NUL (a line end for FFmpeg) and other control characters, naming the line', () => {
    const nul = refusal(() => routed('#EXTM3U\n# note\0https://10.0.0.1/seg.ts\n'));
    expect(nul.message).toMatch(/line 2: a NUL character/);
    for (const c of ['\x01', '\x08', '\x0e', '\x1b', '\x1f', '\x7f']) {
      expect(refusal(() => routed(`#EXTM3U\n#EXTINF:4,t${c}x\nseg.ts\n`)).message).toMatch(
        /line 2: the control character U\+00/,
      );
    }
    // A tab is ordinary whitespace.
    expect(routed('#EXTM3U\n#EXTINF:4,\ta\tb\n\tseg.ts\n')).toContain('#EXTINF:4,\ta\tb\n');
  });

  it('splits on every separator, so no player finds a line the proxy did not see', () => {
    // How FFmpeg, hls.js and Python's splitlines cut a playlist into lines.
    const players: [string, RegExp][] = [
      ['ffmpeg', /\r\n|[\r\n\0]/],
      ['hls.js', /\r\n|[\r\n\u2028\u2029]/],
      // eslint-disable-next-line no-control-regex -- separators are the subject
      ['python', /\r\n|[\n\r\v\f\x1c-\x1e\x85\u2028\u2029]/],
      ['lf', /\n/],
    ];
    const piece = fc.constantFrom(
      '# note',
      '#EXTINF:4,',
      '#EXT-X-KEY:METHOD=NONE',
      '#EXT-X-MAP:URI="init.mp4"',
      'seg.ts',
      'https://origin.test/a.ts',
      'https://10.0.0.1/seg.ts',
      '//10.0.0.1/seg.ts',
      '',
    );
    const sep = fc.constantFrom('\n', '\r\n', ...SEPARATORS.map(([, s]) => s));
    fc.assert(
      fc.property(fc.array(fc.tuple(piece, sep), { maxLength: 12 }), (pieces) => {
        const text = `#EXTM3U\n${pieces.map(([p, s]) => p + s).join('')}`;
        let out: string;
        try {
          out = routed(text);
        } catch (err) {
          expect((err as KeepsakeError).code).toBe('PLAYLIST_REFUSED');
          return;
        }
        for (const [player, split] of players) {
          for (const line of out.split(split)) {
            // What is left of a separator this player does not split on is only whitespace.
            // eslint-disable-next-line no-control-regex -- separators are the subject
            const t = line.replace(/^[\s\x1c-\x1e\x85]+|[\s\x1c-\x1e\x85]+$/g, '');
            // A player fetches a line that is not a tag: it must start with a proxy URL.
            if (t && !t.startsWith('#')) expect(t, player).toMatch(/^\/p\?u=/);
            expect(t, player).not.toContain('10.0.0.1');
          }
        }
      }),
    );
  });

  describe('unknown tags', () => {
    it('rewrite the URI of EXT-X-PREFETCH and of any URI attribute', () => {
      const out = routed(
        [
          '#EXTM3U',
          '#EXT-X-PREFETCH:seg9.ts',
          '#EXT-X-PREFETCH:https://origin.test/live/seg10.ts',
          '#EXT-X-VENDOR-THING:ID="a",URI="v.bin",X-TRACKING-URI="/t"',
          '',
        ].join('\n'),
      );
      expect(out.split('\n')).toEqual([
        '#EXTM3U',
        `#EXT-X-PREFETCH:${P(new URL('https://origin.test/live/hd/seg9.ts'))}`,
        `#EXT-X-PREFETCH:${P(new URL('https://origin.test/live/seg10.ts'))}`,
        `#EXT-X-VENDOR-THING:ID="a",URI="${P(new URL('https://origin.test/live/hd/v.bin'))}",X-TRACKING-URI="${P(new URL('https://origin.test/t'))}"`,
        '',
      ]);
    });

    it('are refused when they name another host in any form', () => {
      for (const line of [
        '#EXT-X-PREFETCH:https://10.0.0.1/seg.ts',
        '#EXT-X-PREFETCH:URI="https://10.0.0.1/seg.ts"',
        '#EXT-X-SOMETHING-NEW:URI="http://10.0.0.1/x.bin"',
        '#EXT-X-VENDOR:X-TRACKING-URI="//10.0.0.1/t"',
        '#EXT-X-VENDOR:URI=http://10.0.0.1/x',
        '#EXT-X-VENDOR:SRC="http://10.0.0.1/x"',
        '#EXT-X-VENDOR:SRC="https:10.0.0.1/x"',
        '#EXT-X-VENDOR:http://10.0.0.1/x',
        '#EXT-X-VENDOR:1,//10.0.0.1/x',
        '#EXT-X-VENDOR:a=b c,\\\\10.0.0.1\\x',
        '#EXT-X-DATERANGE:ID="ad",START-DATE="2024-01-01T00:00:00Z",X-AD-URL="http://10.0.0.1/ad"',
        '#EXT-X-DEFINE:NAME="h",VALUE="http://10.0.0.1"',
      ]) {
        const err = refusal(() => routed(`#EXTM3U\n${line}\n#EXTINF:4,\nseg.ts\n`));
        expect(err.message, line).toMatch(/line 2: /);
      }
    });

    it('pass when they hold nothing like an address (cue markers, dates, key formats)', () => {
      const lines = [
        '#EXTM3U',
        '#EXT-X-CUE-OUT:30',
        '#EXT-X-CUE-OUT-CONT:ElapsedTime=5,Duration=30',
        '#EXT-OATCLS-SCTE35:/DAlAAAAAAAAAP/wFAUAAAABf+/+AAAAAH4AKTLgAAEAAAAAAAA=',
        '#EXT-X-DATERANGE:ID="ad",START-DATE="2024-01-01T00:00:00Z",X-COM-AD-ID="XYZ"',
        '#EXT-X-KEY:METHOD=SAMPLE-AES,URI="k.key",KEYFORMAT="urn:uuid:edef8ba9-79d6-4ace-a3c8-27dcd51d21ed"',
        '#EXTINF:4,see https://example.com for more',
        '#EXT-X-DEFINE:NAME="q",VALUE="1"',
        'seg.ts',
        '',
      ];
      const out = routed(lines.join('\n')).split('\n');
      expect(out.filter((_, i) => i !== 5 && i !== 8)).toEqual(
        lines.filter((_, i) => i !== 5 && i !== 8),
      );
    });
  });

  it('refuses a line longer than it rewrites, naming the line', () => {
    const long = `#EXTM3U\n#EXTINF:4,\n${'a'.repeat(MAX_LINE_CHARS + 1)}\n`;
    expect(refusal(() => routed(long)).message).toMatch(/line 3: a line of \d+ characters/);
  });

  it('rewrites a long playlist yielding to the event loop, with the same result', async () => {
    // About a second of work if done in one go (see route-proxy.test.ts for the server).
    const text = `#EXTM3U\n${'#EXTINF:4,\nseg.ts\n'.repeat(150_000)}`;
    const want = rewrite(text);
    const gaps: number[] = [];
    let last = performance.now();
    const timer = setInterval(() => {
      const now = performance.now();
      gaps.push(now - last);
      last = now;
    }, 1);
    last = performance.now();
    const got = await rewritePlaylistYielding(text, {
      playlistUrl: base,
      rewrite: P,
      allowInsecure: false,
    });
    clearInterval(timer);
    expect(got).toBe(want);
    expect(gaps.length).toBeGreaterThan(10);
    // Generous for a busy machine; the sync rewrite is one gap of the whole duration.
    expect(Math.max(...gaps)).toBeLessThan(250);
    await expect(
      rewritePlaylistYielding(`#EXTM3U\n${'seg.ts\n'.repeat(10_000)}# x\rhttps://10.0.0.1/\n`, {
        playlistUrl: base,
        rewrite: (u) => {
          if (u.host !== 'origin.test') throw new KeepsakeError('PLAYLIST_REFUSED', 'outside');
          return P(u);
        },
        allowInsecure: false,
      }),
    ).rejects.toThrow(/line 10003: outside/);
  });

  it('yields within long lines too: a batch is bounded by characters, not only lines', async () => {
    // 8 MiB in 160 lines of ~50 KiB, each an unknown tag with ~3,500 URI attributes to
    // rewrite: few lines, but as much work as the many short lines above.
    const attrs = Array.from({ length: 3500 }, (_, i) => `X${i}-URI="s.ts"`).join(',');
    const text = `#EXTM3U\n${`#EXT-X-VENDOR:${attrs}\n`.repeat(160)}`;
    const gaps: number[] = [];
    let last = performance.now();
    const timer = setInterval(() => {
      const now = performance.now();
      gaps.push(now - last);
      last = now;
    }, 1);
    const started = performance.now();
    await rewritePlaylistYielding(text, { playlistUrl: base, rewrite: P, allowInsecure: false });
    const ms = performance.now() - started;
    clearInterval(timer);
    gaps.push(performance.now() - last); // the wait up to the end, if no tick came at all
    expect(Math.max(...gaps)).toBeLessThan(Math.max(250, ms / 4));
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
          // Separators and control characters have tests of their own below.
          fc
            // eslint-disable-next-line no-control-regex -- separators are the subject
            .stringMatching(/^#[^\x00-\x1f\x7f\x85\u2028\u2029]{0,30}$/)
            .filter((t) => !t.startsWith('#EXT')),
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
