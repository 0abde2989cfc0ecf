// Test-only: short DASH presentations made by real FFmpeg (lavfi testsrc + sine, H.264 +
// AAC in fMP4), one folder per way an MPD can address its segments, and an origin handler
// that serves a folder with byte ranges as a CDN would.
//
//   number/    SegmentTemplate with $Number$ (FFmpeg's dash muxer, no timeline)
//   time/      SegmentTemplate with $Time$ and a SegmentTimeline (dash muxer)
//   list/      SegmentList with byte ranges into one file per stream (dash muxer, single_file)
//   base/      SegmentBase with indexRange: FFmpeg's mp4 muxer with one global sidx per
//              file; the dash muxer writes no SegmentBase, so the MPD is written here
//              from the files' own box offsets.
//
// Each has two video representations (320x240 and 160x120, 25 fps) and one audio
// adaptation set, SECONDS long, with a keyframe every second.

import { execFile } from 'node:child_process';
import { createReadStream } from 'node:fs';
import { mkdir, readFile, stat, writeFile } from 'node:fs/promises';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { join, normalize, sep } from 'node:path';
import { promisify } from 'node:util';
import { locateFfmpeg } from '../ffmpeg/locate';

const run = promisify(execFile);

export const DASH_SECONDS = 6;
export const DASH_LAYOUTS = ['number', 'time', 'list', 'base'] as const;
export type DashLayout = (typeof DASH_LAYOUTS)[number];

const SOURCES = [
  '-f',
  'lavfi',
  '-i',
  `testsrc=size=320x240:rate=25:duration=${DASH_SECONDS}`,
  '-f',
  'lavfi',
  '-i',
  `sine=frequency=440:sample_rate=48000:duration=${DASH_SECONDS}`,
];
const VIDEO = ['-c:v', 'libx264', '-preset', 'ultrafast', '-pix_fmt', 'yuv420p', '-g', '25'];
const AUDIO = ['-c:a', 'aac', '-b:a', '64k'];

/** Makes every layout under `dir` (dir/number/manifest.mpd, …). */
export async function makeDashMedia(dir: string): Promise<void> {
  const { ffmpegPath } = await locateFfmpeg();
  const ffmpeg = (args: string[]) => run(ffmpegPath, ['-hide_banner', '-v', 'error', ...args]);
  const dash = async (layout: DashLayout, extra: string[]) => {
    await mkdir(join(dir, layout), { recursive: true });
    await ffmpeg([
      ...SOURCES,
      ...['-map', '0:v', '-map', '0:v', '-map', '1:a'],
      ...VIDEO,
      ...['-b:v:0', '400k', '-s:v:0', '320x240', '-b:v:1', '150k', '-s:v:1', '160x120'],
      ...AUDIO,
      // FFmpeg 5.1 names the first AAC segment by its negative priming time otherwise.
      ...['-avoid_negative_ts', 'make_zero'],
      ...['-f', 'dash', '-seg_duration', '2', '-use_template', '1'],
      ...['-adaptation_sets', 'id=0,streams=v id=1,streams=a'],
      ...extra,
      join(dir, layout, 'manifest.mpd'),
    ]);
  };
  await dash('number', ['-use_timeline', '0']);
  await dash('time', [
    '-use_timeline',
    '1',
    '-media_seg_name',
    'chunk-$RepresentationID$-$Time$.m4s',
  ]);
  await dash('list', ['-single_file', '1']);

  await mkdir(join(dir, 'base'), { recursive: true });
  // Video fragments start at each keyframe (1 s); audio ones every 2 s.
  // default_base_moof: a segment fetched alone (by its byte range) must not name file offsets.
  const frag = (flags: string) => ['-movflags', `${flags}empty_moov+global_sidx+default_base_moof`];
  const video = [...VIDEO, ...frag('frag_keyframe+')];
  const files = [
    { name: 'v0.mp4', args: ['-map', '0:v', ...video, '-b:v', '400k', '-s', '320x240'] },
    { name: 'v1.mp4', args: ['-map', '0:v', ...video, '-b:v', '150k', '-s', '160x120'] },
    { name: 'a0.mp4', args: ['-map', '1:a', ...AUDIO, ...frag(''), '-frag_duration', '2000000'] },
  ];
  const ranges: Record<string, { init: string; index: string }> = {};
  for (const f of files) {
    const path = join(dir, 'base', f.name);
    await ffmpeg([...SOURCES, ...f.args, path]);
    ranges[f.name] = sidxRanges(await readFile(path));
  }
  const rep = (name: string, attrs: string) =>
    `<Representation ${attrs}><BaseURL>${name}</BaseURL>` +
    `<SegmentBase indexRange="${ranges[name]!.index}"><Initialization range="${ranges[name]!.init}"/></SegmentBase>` +
    `</Representation>`;
  await writeFile(
    join(dir, 'base', 'manifest.mpd'),
    [
      '<?xml version="1.0" encoding="utf-8"?>',
      `<MPD xmlns="urn:mpeg:dash:schema:mpd:2011" type="static" profiles="urn:mpeg:dash:profile:isoff-on-demand:2011" mediaPresentationDuration="PT${DASH_SECONDS}.0S" minBufferTime="PT2S">`,
      '<Period>',
      '<AdaptationSet contentType="video" mimeType="video/mp4" segmentAlignment="true">',
      rep('v0.mp4', 'id="0" codecs="avc1.42c014" bandwidth="400000" width="320" height="240"'),
      rep('v1.mp4', 'id="1" codecs="avc1.42c00c" bandwidth="150000" width="160" height="120"'),
      '</AdaptationSet>',
      '<AdaptationSet contentType="audio" mimeType="audio/mp4" lang="en">',
      rep('a0.mp4', 'id="2" codecs="mp4a.40.2" bandwidth="64000" audioSamplingRate="48000"'),
      '</AdaptationSet>',
      '</Period>',
      '</MPD>',
      '',
    ].join('\n'),
  );
}

/** The init (ftyp + moov) and index (sidx) byte ranges of a fragmented MP4, inclusive. */
function sidxRanges(file: Buffer): { init: string; index: string } {
  let at = 0;
  while (at + 8 <= file.length) {
    const size = file.readUInt32BE(at);
    const type = file.toString('latin1', at + 4, at + 8);
    if (type === 'sidx') return { init: `0-${at - 1}`, index: `${at}-${at + size - 1}` };
    if (size < 8) break;
    at += size;
  }
  throw new Error('no sidx box: FFmpeg did not write a global index');
}

const TYPES: Record<string, string> = {
  '.mpd': 'application/dash+xml',
  '.m4s': 'video/iso.segment',
  '.mp4': 'video/mp4',
};

/** An origin handler serving `root` (GET and HEAD, single byte ranges), 404 otherwise. */
export function serveFolder(root: string) {
  return (req: IncomingMessage, res: ServerResponse) => {
    void (async () => {
      const path = normalize(join(root, decodeURIComponent((req.url ?? '/').split('?')[0]!)));
      if (!path.startsWith(root + sep)) return res.writeHead(403).end();
      const size = await stat(path).then(
        (s) => (s.isFile() ? s.size : undefined),
        () => undefined,
      );
      if (size === undefined) return res.writeHead(404).end();
      const type = TYPES[/\.[a-z0-9]+$/.exec(path)?.[0] ?? ''] ?? 'application/octet-stream';
      const range = /^bytes=(\d+)-(\d*)$/.exec(req.headers.range ?? '');
      let start = 0;
      let end = size - 1;
      if (range) {
        start = Number(range[1]);
        end = range[2] ? Math.min(Number(range[2]), size - 1) : size - 1;
        if (start > end) {
          return res.writeHead(416, { 'content-range': `bytes */${size}` }).end();
        }
      }
      res.writeHead(range ? 206 : 200, {
        'content-type': type,
        'content-length': String(end - start + 1),
        'accept-ranges': 'bytes',
        ...(range ? { 'content-range': `bytes ${start}-${end}/${size}` } : {}),
      });
      if (req.method === 'HEAD') return res.end();
      createReadStream(path, { start, end }).pipe(res);
    })();
  };
}
