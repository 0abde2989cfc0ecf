// A static (VOD) DASH manifest as HLS: one master playlist (each video Representation a
// variant, each audio language or label a rendition of the AUDIO group) and one media
// playlist per variant or rendition (EXT-X-MAP for the initialisation segment, byte ranges
// where the MPD addresses parts of a file). mpd-parser reads the MPD; this module refuses
// what it cannot convert faithfully, and writes the playlists.
//
// The media playlists written here name the upstream's absolute URLs. They are never sent
// as they are: dash-route.ts passes them through the HLS rewriter (playlist-rewrite.ts),
// so each URI meets exactly the checks an upstream HLS playlist's would (scheme, route
// origins and paths). Every URL is normalised by the WHATWG parser first, which drops
// line breaks and escapes quotes, so an MPD cannot smuggle a line into a playlist.
//
// Work is bounded before mpd-parser expands templates: a template of `duration="1"` over a
// year, or a timeline repeat of a billion, would otherwise make one segment object each.

import {
  inheritAttributes,
  stringToMpdXml,
  toM3u8,
  toPlaylists,
  type MpdByteRange,
  type MpdManifest,
  type MpdPlaylist,
  type MpdRepresentationInfo,
} from 'mpd-parser';
import { KeepsakeError } from '../core/errors';

/** Segments one MPD may expand to, across all its representations. */
const MAX_SEGMENTS = 500_000;

/** The identifiers a SegmentTemplate may use (ISO/IEC 23009-1 §5.3.9.4.4) that we convert. */
const IDENTIFIER = /^(RepresentationID|(Number|Bandwidth|Time)(%0\d{1,2}d)?)$/;
const TEMPLATE_ATTRIBUTES = ['media', 'initialization', 'index', 'bitstreamSwitching'];

export interface DashManifest {
  /** Video variants, in the MPD's order; keys `v0`, `v1`… */
  video: MpdPlaylist[];
  /** One per audio label (the highest bandwidth representation of it); keys `a0`, `a1`… */
  audio: {
    name: string;
    language: string | undefined;
    isDefault: boolean;
    playlist: MpdPlaylist;
  }[];
}

/** Parses a static MPD; DASH_UNSUPPORTED for what cannot become HLS. */
export function readMpd(text: string, mpdUrl: URL): DashManifest {
  // No DTDs: entity expansion is a way to make a small file cost a lot of memory.
  if (/<!DOCTYPE|<!ENTITY/i.test(text)) throw unsupported('it declares a DTD or entities');
  let root: Element;
  try {
    root = stringToMpdXml(text);
  } catch (err) {
    throw unsupported('it is not an MPD (XML with an MPD root element)', err);
  }
  const type = root.getAttribute('type') ?? 'static';
  if (type === 'dynamic') {
    throw unsupported(
      'it is a live (dynamic) presentation; only static (on-demand) MPDs are served',
    );
  }
  if (type !== 'static') throw unsupported(`its type "${type}" is neither static nor dynamic`);
  checkTemplates(root);
  let info: MpdRepresentationInfo[];
  try {
    info = inheritAttributes(root, { manifestUri: mpdUrl.href }).representationInfo;
  } catch (err) {
    throw unsupported('its periods or representations cannot be read', err);
  }
  const expected = info.reduce((n, r) => n + segmentCount(r), 0);
  if (expected > MAX_SEGMENTS) {
    throw unsupported(`it describes ${expected} segments (at most ${MAX_SEGMENTS})`);
  }
  let manifest: MpdManifest;
  try {
    manifest = toM3u8({ dashPlaylists: toPlaylists(info) });
  } catch (err) {
    throw unsupported('its segments cannot be listed', err);
  }
  const video = manifest.playlists ?? [];
  const audio: DashManifest['audio'] = [];
  for (const [name, rendition] of Object.entries(manifest.mediaGroups?.AUDIO?.['audio'] ?? {})) {
    const best = [...rendition.playlists].sort(
      (a, b) => (b.attributes.BANDWIDTH ?? 0) - (a.attributes.BANDWIDTH ?? 0),
    )[0];
    if (!best) continue;
    audio.push({
      name,
      language: rendition.language || undefined,
      isDefault: audio.length === 0,
      playlist: best,
    });
  }
  if (!video.length && !audio.length) throw unsupported('it has no video or audio to play');
  return { video, audio };
}

/** The playlist a media-playlist key names, if the MPD has it. */
export function playlistFor(mpd: DashManifest, key: string): MpdPlaylist | undefined {
  const m = /^([va])(\d{1,5})$/.exec(key);
  if (!m) return undefined;
  const i = Number(m[2]);
  return m[1] === 'v' ? mpd.video[i] : mpd.audio[i]?.playlist;
}

/**
 * The master playlist. `uriFor(key)` is the proxy URL of a media playlist; it is written
 * as given (it is ours, not the upstream's).
 */
export function masterPlaylist(mpd: DashManifest, uriFor: (key: string) => string): string {
  const lines = ['#EXTM3U', '#EXT-X-VERSION:7', '#EXT-X-INDEPENDENT-SEGMENTS'];
  const topAudio = [...mpd.audio].sort(
    (a, b) => (b.playlist.attributes.BANDWIDTH ?? 0) - (a.playlist.attributes.BANDWIDTH ?? 0),
  )[0];
  if (!mpd.video.length) {
    // Audio only: each rendition is a variant of its own.
    mpd.audio.forEach((a, i) => {
      lines.push(`#EXT-X-STREAM-INF:${streamInf(a.playlist, undefined, false)}`, uriFor(`a${i}`));
    });
    return lines.join('\n') + '\n';
  }
  mpd.audio.forEach((a, i) => {
    const attrs = [
      'TYPE=AUDIO',
      'GROUP-ID="audio"',
      `NAME=${quoted(a.name)}`,
      ...(a.language ? [`LANGUAGE=${quoted(a.language)}`] : []),
      `DEFAULT=${a.isDefault ? 'YES' : 'NO'}`,
      'AUTOSELECT=YES',
      `URI="${uriFor(`a${i}`)}"`,
    ];
    lines.push(`#EXT-X-MEDIA:${attrs.join(',')}`);
  });
  mpd.video.forEach((v, i) => {
    lines.push(`#EXT-X-STREAM-INF:${streamInf(v, topAudio?.playlist, true)}`, uriFor(`v${i}`));
  });
  return lines.join('\n') + '\n';
}

function streamInf(p: MpdPlaylist, audio: MpdPlaylist | undefined, group: boolean): string {
  const a = p.attributes;
  const bandwidth = (a.BANDWIDTH ?? 0) + (audio?.attributes.BANDWIDTH ?? 0);
  const codecs = [a.CODECS, audio?.attributes.CODECS].filter((c): c is string => !!c);
  const attrs = [`BANDWIDTH=${Math.max(1, Math.round(bandwidth))}`];
  if (a.RESOLUTION) attrs.push(`RESOLUTION=${a.RESOLUTION.width}x${a.RESOLUTION.height}`);
  if (codecs.length) attrs.push(`CODECS=${quoted(codecs.join(','))}`);
  const rate = a['FRAME-RATE'];
  if (typeof rate === 'number' && Number.isFinite(rate) && rate > 0) {
    attrs.push(`FRAME-RATE=${rate.toFixed(3)}`);
  }
  if (group && audio) attrs.push('AUDIO="audio"');
  return attrs.join(',');
}

/**
 * A media playlist naming upstream URLs (see the top of this file). SegmentBase playlists
 * must have had their sidx added (dash-route.ts) before.
 */
export function mediaPlaylist(p: MpdPlaylist): string {
  if (!p.segments.length) throw unsupported('a representation has no segments');
  const target = Math.max(1, ...p.segments.map((s) => Math.round(s.duration)));
  const lines = [
    '#EXTM3U',
    '#EXT-X-VERSION:7',
    `#EXT-X-TARGETDURATION:${target}`,
    '#EXT-X-MEDIA-SEQUENCE:0',
    '#EXT-X-PLAYLIST-TYPE:VOD',
    '#EXT-X-INDEPENDENT-SEGMENTS',
  ];
  let map: string | undefined;
  for (const s of p.segments) {
    if (!Number.isFinite(s.duration) || s.duration < 0) {
      throw unsupported('a segment has no usable duration');
    }
    if (s.discontinuity) lines.push('#EXT-X-DISCONTINUITY');
    if (s.map) {
      const range = s.map.byterange ? `,BYTERANGE="${byteRange(s.map.byterange)}"` : '';
      const tag = `#EXT-X-MAP:URI="${normalised(s.map.resolvedUri)}"${range}`;
      if (tag !== map) lines.push(tag);
      map = tag;
    }
    lines.push(`#EXTINF:${s.duration.toFixed(6)},`);
    if (s.byterange) lines.push(`#EXT-X-BYTERANGE:${byteRange(s.byterange)}`);
    lines.push(normalised(s.resolvedUri));
  }
  lines.push('#EXT-X-ENDLIST');
  return lines.join('\n') + '\n';
}

/** HLS `length@offset`, from numbers mpd-parser may give as bigints. */
function byteRange(r: MpdByteRange): string {
  const length = BigInt(r.length);
  const offset = BigInt(r.offset);
  if (length <= 0n || offset < 0n) throw unsupported('a byte range is empty or negative');
  return `${length}@${offset}`;
}

/** One URI on one line: the WHATWG serialisation has no line breaks and no bare quotes. */
function normalised(uri: string): string {
  try {
    return new URL(uri).href;
  } catch {
    throw new KeepsakeError('PLAYLIST_REFUSED', 'the MPD names a URI that does not parse');
  }
}

function quoted(value: string): string {
  return `"${value.replace(/["\r\n]/g, "'")}"`;
}

/** Refuses templates whose identifiers we would otherwise pass on as literal text. */
function checkTemplates(root: Element): void {
  const templates = root.getElementsByTagName('SegmentTemplate');
  for (let i = 0; i < templates.length; i += 1) {
    for (const name of TEMPLATE_ATTRIBUTES) {
      const value = templates[i]!.getAttribute(name);
      if (!value) continue;
      const parts = value.split('$');
      if (parts.length % 2 === 0) {
        throw unsupported(`a SegmentTemplate ${name} has an unpaired $ ("${short(value)}")`);
      }
      for (let p = 1; p < parts.length; p += 2) {
        const id = parts[p]!;
        if (id !== '' && !IDENTIFIER.test(id)) {
          throw unsupported(`a SegmentTemplate ${name} uses the unknown identifier $${short(id)}$`);
        }
      }
    }
  }
}

/** How many segments mpd-parser would make for a representation (an upper bound). */
function segmentCount(r: MpdRepresentationInfo): number {
  const { template, segmentTimeline, list } = r.segmentInfo;
  const total = Math.max(r.attributes.sourceDuration ?? 0, r.attributes.periodDuration ?? 0);
  if (segmentTimeline) {
    const timescale = template?.timescale || 1;
    let n = 0;
    for (const s of segmentTimeline) {
      const repeat = Number(s.r ?? 0);
      if (repeat >= 0) n += repeat + 1;
      else n += Math.ceil((total * timescale) / Math.max(Number(s.d) || 0, 1e-9));
    }
    return n;
  }
  if (template?.duration !== undefined) {
    const seconds = template.duration / (template.timescale || 1);
    if (!(seconds > 0)) throw unsupported('a SegmentTemplate has a duration of 0');
    return Math.ceil(total / seconds);
  }
  if (list?.segmentUrls) return list.segmentUrls.length;
  return 1;
}

function short(text: string): string {
  return text.length > 40 ? `${text.slice(0, 40)}…` : text;
}

function unsupported(reason: string, cause?: unknown): KeepsakeError {
  return new KeepsakeError(
    'DASH_UNSUPPORTED',
    `the DASH manifest cannot be served as HLS: ${reason}`,
    {
      cause,
    },
  );
}
