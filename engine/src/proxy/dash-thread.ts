// Reading an MPD off the event loop. xmldom and mpd-parser are synchronous: on this
// machine a 3.6 MB MPD of 100,000 SegmentURLs took 1.4 s to parse and 0.6 s to list, and
// a 500,000-segment template 1.5 s to expand. Done on the proxy's thread, that would
// stall every other request for as long; so a short-lived worker thread does it, with a
// time and heap limit, and hands back only small things: the master playlist's facts, or
// one media playlist's text.
//
// `mpdThread` is the worker's whole program: it is sent as source text (as in
// library/scan.ts), so it may use nothing from outside its own body but its arguments.

import { createRequire } from 'node:module';
import { Worker } from 'node:worker_threads';
import type { MpdSidx } from 'mpd-parser';
import { KeepsakeError } from '../core/errors';

export interface PlaylistFacts {
  bandwidth: number | undefined;
  codecs: string | undefined;
  resolution: { width: number; height: number } | undefined;
  frameRate: number | undefined;
}

export interface ThreadInput {
  text: string;
  manifestUri: string;
  /** The media playlist wanted (`v0`, `a1`), or undefined for the master's facts. */
  key: string | undefined;
  /** A SegmentBase representation's parsed index, once fetched. */
  sidx?: MpdSidx;
  maxSegments: number;
}

export type ThreadOutput =
  | { refused: string }
  | { missing: true }
  | {
      master: {
        video: PlaylistFacts[];
        audio: { name: string; language: string | undefined; facts: PlaylistFacts }[];
        /** Every URI the media playlists will name, as a playlist for the HLS rewriter to check. */
        check: string;
      };
    }
  /** A SegmentBase representation: its index must be fetched (then ask again with `sidx`). */
  | { index: { uri: string; offset: number; length: number } }
  /** A media playlist naming upstream URLs, for the HLS rewriter. */
  | { media: string };

const TIME_LIMIT_MS = 10_000;
const HEAP_LIMIT_MB = 256;
/**
 * Threads reading at once, and reads waiting for one: each thread may take 256 MB, and a
 * client asking again and again (the routed proxy may listen beyond loopback) must not
 * run the machine out of memory. Past the queue, a read is refused as busy.
 */
export const MAX_THREADS = 2;
export const MAX_WAITING = 16;

let running = 0;
const waiting: (() => void)[] = [];

/** Threads reading an MPD now (for tests). */
export function mpdThreadsRunning(): number {
  return running;
}

/**
 * Runs mpdThread in a worker, at most MAX_THREADS at once; DASH_UNSUPPORTED when it is
 * refused or over its limits, SERVER_BUSY when too many reads already wait.
 */
export async function readMpdInThread(input: ThreadInput): Promise<ThreadOutput> {
  if (running >= MAX_THREADS) {
    if (waiting.length >= MAX_WAITING) {
      throw new KeepsakeError(
        'SERVER_BUSY',
        'too many DASH manifests are being read at once; try again in a moment',
      );
    }
    // The slot is handed over by the read that frees it, so `running` never dips.
    await new Promise<void>((resolve) => waiting.push(resolve));
  } else {
    running += 1;
  }
  try {
    return await readInWorker(input);
  } finally {
    const next = waiting.shift();
    if (next) next();
    else running -= 1;
  }
}

function readInWorker(input: ThreadInput): Promise<ThreadOutput> {
  const modulePath = createRequire(import.meta.url).resolve('mpd-parser');
  const source = `const { parentPort, workerData } = require('node:worker_threads');
const __name = (fn) => fn;
try {
  parentPort.postMessage((${mpdThread.toString()})(require(workerData.modulePath), workerData.input));
} catch (err) {
  parentPort.postMessage({ refused: 'it cannot be read (' + String((err && err.message) || err).slice(0, 200) + ')' });
}`;
  const worker = new Worker(source, {
    eval: true,
    workerData: { modulePath, input },
    env: {},
    resourceLimits: { maxOldGenerationSizeMb: HEAP_LIMIT_MB },
  });
  let timer: NodeJS.Timeout | undefined;
  return new Promise<ThreadOutput>((resolve, reject) => {
    timer = setTimeout(
      () => reject(unsupported(`reading it took over ${TIME_LIMIT_MS / 1000} s`)),
      TIME_LIMIT_MS,
    );
    worker.once('message', (out: ThreadOutput) =>
      'refused' in out ? reject(unsupported(out.refused)) : resolve(out),
    );
    worker.once('error', (err) =>
      reject(unsupported(`reading it failed (${err.message.slice(0, 200)})`, err)),
    );
    worker.once('exit', (code) => reject(unsupported(`reading it stopped (exit ${code})`)));
  }).finally(() => {
    clearTimeout(timer);
    void worker.terminate();
  });
}

export function unsupported(reason: string, cause?: unknown): KeepsakeError {
  return new KeepsakeError(
    'DASH_UNSUPPORTED',
    `the DASH manifest cannot be served as HLS: ${reason}`,
    { cause },
  );
}

/* eslint-disable @typescript-eslint/no-explicit-any -- mpd-parser's objects, untyped here */
/**
 * The worker's program (see the top of this file). Refusals are returned as
 * `{ refused }`, never thrown as KeepsakeErrors, which do not exist in the worker.
 */
export function mpdThread(mpd: any, input: ThreadInput): ThreadOutput {
  class Refusal extends Error {}
  const refuse = (reason: string): never => {
    throw new Refusal(reason);
  };
  const short = (s: string) => (s.length > 40 ? `${s.slice(0, 40)}…` : s);
  try {
    const { text } = input;
    // No DTDs: entity expansion is a way to make a small file cost a lot of memory.
    if (/<!DOCTYPE|<!ENTITY/i.test(text)) refuse('it declares a DTD or entities');
    let root: any;
    try {
      root = mpd.stringToMpdXml(text);
    } catch {
      refuse('it is not an MPD (XML with an MPD root element)');
    }
    const type = root.getAttribute('type') || 'static';
    if (type === 'dynamic') {
      refuse('it is a live (dynamic) presentation; only static (on-demand) MPDs are served');
    }
    if (type !== 'static') refuse(`its type "${short(type)}" is neither static nor dynamic`);

    // Template identifiers we would otherwise pass on as literal text (ISO/IEC 23009-1
    // §5.3.9.4.4), and formats other than %0Nd.
    const identifier = /^(RepresentationID|(Number|Bandwidth|Time)(%0\d{1,2}d)?)$/;
    const templates = root.getElementsByTagName('SegmentTemplate');
    for (let i = 0; i < templates.length; i += 1) {
      for (const name of ['media', 'initialization', 'index', 'bitstreamSwitching']) {
        const value: string | null = templates[i].getAttribute(name);
        if (!value) continue;
        const parts = value.split('$');
        if (parts.length % 2 === 0) {
          refuse(`a SegmentTemplate ${name} has an unpaired $ ("${short(value)}")`);
        }
        for (let p = 1; p < parts.length; p += 2) {
          if (parts[p] !== '' && !identifier.test(parts[p]!)) {
            refuse(`a SegmentTemplate ${name} uses the unknown identifier $${short(parts[p]!)}$`);
          }
        }
      }
    }

    const info: any[] = mpd.inheritAttributes(root, {
      manifestUri: input.manifestUri,
    }).representationInfo;
    // Bounded before mpd-parser expands templates into one object per segment. The count
    // follows mpd-parser 1.x's own expansion (parseByDuration, parseByTimeline): an
    // endNumber, an S@r of -1 running to the next S@t, or a negative S@t each make it
    // list segments the presentation's duration alone would not suggest.
    const byDuration = (a: any): number => {
      const segmentSeconds = a.duration / (a.timescale || 1);
      const endNumber = a.endNumber ? parseInt(String(a.endNumber), 10) : NaN;
      const end = !Number.isNaN(endNumber)
        ? endNumber
        : typeof a.periodDuration === 'number'
          ? a.periodDuration / segmentSeconds
          : a.sourceDuration / segmentSeconds;
      return end > 0 ? Math.ceil(end) : 0; // mpd-parser's range(0, end)
    };
    const byTimeline = (a: any, timeline: any[]): number => {
      const timescale = a.timescale || 1;
      let time = -1;
      let n = 0;
      timeline.forEach((S, i) => {
        const d = S.d;
        const repeat = S.r || 0;
        const t = S.t || 0;
        if (time < 0) time = t;
        if (t && t > time) time = t;
        const count =
          repeat >= 0
            ? repeat + 1
            : i + 1 === timeline.length
              ? (a.sourceDuration * timescale - time) / d
              : (timeline[i + 1].t - time) / d;
        // Its loop pushes while the number is below the end: ceil(count) of them.
        const pushed = count > 0 ? Math.ceil(count) : 0;
        n += pushed;
        time += d * pushed;
      });
      return n;
    };
    let expected = 0;
    for (const r of info) {
      const { template, base, list, segmentTimeline } = r.segmentInfo;
      const a = { ...r.attributes, ...(template || base || list) };
      if (template) {
        if (a.duration) expected += byDuration(a);
        else if (segmentTimeline) expected += byTimeline(a, segmentTimeline);
        else expected += 1;
      } else if (base) {
        expected += a.duration ? byDuration(a) : 1;
      } else if (list) {
        if (a.duration) expected += byDuration(a);
        else if (segmentTimeline) expected += byTimeline(a, segmentTimeline);
        expected += list.segmentUrls ? list.segmentUrls.length : 0;
      } else expected += 1;
    }
    if (!(expected <= input.maxSegments)) {
      refuse(`it describes ${expected} segments (at most ${input.maxSegments})`);
    }
    const manifest = mpd.toM3u8({ dashPlaylists: mpd.toPlaylists(info) });

    const video: any[] = manifest.playlists || [];
    const audio: { name: string; language: string | undefined; playlist: any }[] = [];
    const groups = (manifest.mediaGroups && manifest.mediaGroups.AUDIO) || {};
    for (const [name, rendition] of Object.entries<any>(groups.audio || {})) {
      // One rendition per label: its highest-bandwidth representation.
      const best = [...rendition.playlists].sort(
        (a: any, b: any) => (b.attributes.BANDWIDTH || 0) - (a.attributes.BANDWIDTH || 0),
      )[0];
      if (best) audio.push({ name, language: rendition.language || undefined, playlist: best });
    }
    if (!video.length && !audio.length) refuse('it has no video or audio to play');

    // One URI on one line: the WHATWG serialisation has no line breaks and no bare quotes.
    const uri = (u: string): string => {
      try {
        return new URL(u).href;
      } catch {
        return refuse('it names a URI that does not parse');
      }
    };
    const range = (r: any): string => {
      const length = BigInt(r.length);
      const offset = BigInt(r.offset);
      if (length <= 0n || offset < 0n) refuse('a byte range is empty or negative');
      return `${length}@${offset}`;
    };
    const media = (p: any): string => {
      if (!p.segments.length) refuse('a representation has no segments');
      let target = 1;
      for (const s of p.segments) {
        if (!Number.isFinite(s.duration) || s.duration < 0) {
          refuse('a segment has no usable duration');
        }
        target = Math.max(target, Math.round(s.duration));
      }
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
        if (s.discontinuity) lines.push('#EXT-X-DISCONTINUITY');
        if (s.map) {
          const br = s.map.byterange ? `,BYTERANGE="${range(s.map.byterange)}"` : '';
          const tag = `#EXT-X-MAP:URI="${uri(s.map.resolvedUri)}"${br}`;
          if (tag !== map) lines.push(tag);
          map = tag;
        }
        lines.push(`#EXTINF:${s.duration.toFixed(6)},`);
        if (s.byterange) lines.push(`#EXT-X-BYTERANGE:${range(s.byterange)}`);
        lines.push(uri(s.resolvedUri));
      }
      lines.push('#EXT-X-ENDLIST');
      return lines.join('\n') + '\n';
    };
    const facts = (p: any): PlaylistFacts => ({
      bandwidth: p.attributes.BANDWIDTH,
      codecs: p.attributes.CODECS,
      resolution: p.attributes.RESOLUTION,
      frameRate: p.attributes['FRAME-RATE'],
    });
    /** The URIs of a SegmentBase representation before its index is read. */
    const indexUris = (p: any): string[] =>
      [p.sidx && p.sidx.resolvedUri, p.sidx && p.sidx.map && p.sidx.map.resolvedUri].filter(
        Boolean,
      );

    if (input.key === undefined) {
      const seen = new Set<string>();
      const lines = ['#EXTM3U'];
      for (const p of [...video, ...audio.map((a) => a.playlist)]) {
        const uris: string[] = p.segments.length
          ? p.segments.flatMap((s: any) => [s.map && s.map.resolvedUri, s.resolvedUri])
          : indexUris(p);
        if (!uris.length) refuse('a representation has no segments');
        for (const u of uris) {
          if (!u) continue;
          const line = uri(u);
          if (!seen.has(line)) lines.push('#EXTINF:0,', line);
          seen.add(line);
        }
      }
      return {
        master: {
          video: video.map(facts),
          audio: audio.map((a) => ({
            name: a.name,
            language: a.language,
            facts: facts(a.playlist),
          })),
          check: lines.join('\n') + '\n',
        },
      };
    }
    const m = /^([va])(\d{1,5})$/.exec(input.key);
    const playlist = m && (m[1] === 'v' ? video[Number(m[2])] : audio[Number(m[2])]?.playlist);
    if (!playlist) return { missing: true };
    if (playlist.sidx && !playlist.segments.length) {
      const sidx = playlist.sidx;
      if (!input.sidx) {
        return {
          index: {
            uri: uri(sidx.resolvedUri),
            offset: Number(sidx.byterange.offset),
            length: Number(sidx.byterange.length),
          },
        };
      }
      if (input.sidx.references.some((r) => r.referenceType !== 0)) {
        refuse('its segment index points at further indexes');
      }
      // Without an Initialization range, the init segment is what precedes the index.
      sidx.map = sidx.map || {
        resolvedUri: sidx.resolvedUri,
        byterange: { offset: 0, length: Number(sidx.byterange.offset) },
      };
      mpd.addSidxSegmentsToPlaylist(playlist, input.sidx, sidx.resolvedUri);
    }
    return { media: media(playlist) };
  } catch (err) {
    if (err instanceof Refusal) return { refused: err.message };
    throw err;
  }
}
/* eslint-enable @typescript-eslint/no-explicit-any */
