// The HLS master playlist for a static (VOD) DASH manifest: each video Representation a
// variant, each audio language or label a rendition of the AUDIO group. The MPD itself is
// read in a worker thread (dash-thread.ts), which also writes the media playlists; this
// module only writes the master from the facts it hands back. Its URIs are the proxy's
// own (`uriFor`), never the upstream's.

import type { PlaylistFacts } from './dash-thread';

export interface DashFacts {
  /** Video variants, in the MPD's order; keys `v0`, `v1`… */
  video: PlaylistFacts[];
  /** One per audio label; keys `a0`, `a1`… */
  audio: { name: string; language: string | undefined; facts: PlaylistFacts }[];
}

/** The master playlist; `uriFor(key)` is the proxy URL of a media playlist. */
export function masterPlaylist(mpd: DashFacts, uriFor: (key: string) => string): string {
  const lines = ['#EXTM3U', '#EXT-X-VERSION:7', '#EXT-X-INDEPENDENT-SEGMENTS'];
  if (!mpd.video.length) {
    // Audio only: each rendition is a variant of its own.
    mpd.audio.forEach((a, i) => {
      lines.push(`#EXT-X-STREAM-INF:${streamInf(a.facts, undefined)}`, uriFor(`a${i}`));
    });
    return lines.join('\n') + '\n';
  }
  mpd.audio.forEach((a, i) => {
    const attrs = [
      'TYPE=AUDIO',
      'GROUP-ID="audio"',
      `NAME=${quoted(a.name)}`,
      ...(a.language ? [`LANGUAGE=${quoted(a.language)}`] : []),
      `DEFAULT=${i === 0 ? 'YES' : 'NO'}`,
      'AUTOSELECT=YES',
      `URI="${uriFor(`a${i}`)}"`,
    ];
    lines.push(`#EXT-X-MEDIA:${attrs.join(',')}`);
  });
  // A variant's bandwidth and codecs count the richest audio it may be played with.
  const topAudio = [...mpd.audio].sort(
    (a, b) => (b.facts.bandwidth ?? 0) - (a.facts.bandwidth ?? 0),
  )[0];
  mpd.video.forEach((v, i) => {
    lines.push(`#EXT-X-STREAM-INF:${streamInf(v, topAudio?.facts)}`, uriFor(`v${i}`));
  });
  return lines.join('\n') + '\n';
}

function streamInf(p: PlaylistFacts, audio: PlaylistFacts | undefined): string {
  const bandwidth = (p.bandwidth ?? 0) + (audio?.bandwidth ?? 0);
  const codecs = [p.codecs, audio?.codecs].filter((c): c is string => !!c);
  const attrs = [`BANDWIDTH=${Math.max(1, Math.round(bandwidth))}`];
  if (p.resolution) attrs.push(`RESOLUTION=${p.resolution.width}x${p.resolution.height}`);
  if (codecs.length) attrs.push(`CODECS=${quoted(codecs.join(','))}`);
  const rate = p.frameRate;
  if (typeof rate === 'number' && Number.isFinite(rate) && rate > 0) {
    attrs.push(`FRAME-RATE=${rate.toFixed(3)}`);
  }
  if (audio) attrs.push('AUDIO="audio"');
  return attrs.join(',');
}

/**
 * A quoted-string attribute value (RFC 8216 §4.2) from MPD text (codecs, label, lang): no
 * quotes, and no control character or line separator. Players end lines at more than CR
 * and LF (hls.js at U+2028 and U+2029, Python's splitlines at VT, FF and U+0085), so one
 * of those in an MPD's codecs would put a line of the MPD's choosing, such as a URI
 * straight to another host, into the master playlist.
 */
function quoted(value: string): string {
  return `"${value.replace(/"/g, "'").replace(/[\p{Cc}\p{Zl}\p{Zp}]/gu, ' ')}"`;
}
