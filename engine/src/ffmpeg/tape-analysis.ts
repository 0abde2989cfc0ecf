// Analyses a digitised tape in one decoding pass: one FFmpeg, its decoded picture split
// between the detectors, each fed only what it needs so the whole costs little more than
// reading the tape (bench/tape.ts holds it to 1.5x a plain decode):
//
//   picture ─┬─ 1 s in every 10 ─ middle half ─ idet ───────────── pipe:5  (field order)
//            ├─ a frame a second ─┬─ cropdetect ─────────────────── pipe:6  (overscan)
//            │                    └─ bottom rows, grey ─ pipe:4             (head switching)
//            ├─ quarter size ─┬─ scdet ─ blackdetect ───────────────── pipe:3  (cuts)
//            │                └─ 16×12 means ─ scdet ──────────────── pipe:10 (cuts)
//            └─ 1 in 10 ─ top field, quarter width ─ signalstats ───── pipe:7  (dropouts)
//   sound ───┬─ silencedetect ───────────────────────────────────── pipe:8
//            └─ 1 s blocks ─ astats ─────────────────────────────── pipe:9  (clipping)
//   DV frames, copied undecoded (a DV tape only) ─────────────────── pipe:11 (recording clock)
//
// The sampling rates are the speed budget: idet needs only enough frames to be sure (and
// only the middle half of each, taken without a copy: the woven fields show there as
// they do across the width, and the sides are where overscan and black borders are), a
// dropout-heavy stretch shows in one frame in ten, and scdet and blackdetect judge whole
// pictures, which a sixteenth of the pixels shows as well as all of them. A second scdet
// compares the pictures' layouts (each the mean colour of 16×12 blocks): scdet's score is
// how much more a frame changed than the one before did, so a hard cut out of a busy
// picture (noise, leaves, a crowd) scores little on the pixels, while block means barely
// move within such a scene and jump at the cut. signalstats
// looks at one field (taken without a copy), a quarter as wide: a dropout is a streak
// along a line, so narrowing keeps it, and within one field a moving edge is not combed
// into outliers of its own. Its hue and saturation, which it works out for every colour
// pixel whatever is asked, are what made it dear at half size.
//
// Each printer writes to a pipe of its own (tape-signals.ts reads them); nothing is written
// to disk and no name or title is on the command line. FFmpeg goes on past a stretch it
// cannot decode, and the gap in the frames' times says where it was.

import { DvDateMeter, type Recording } from './dv-dates';
import { runFfmpeg, type Progress, type RunOptions } from './runner';
import { BandMeter, STRIP_ROWS } from './tape-band';
import {
  LAYOUT_THRESHOLD,
  SCENE_THRESHOLD,
  proposeCuts,
  type Cut,
  type Interval,
} from './tape-cuts';
import {
  SignalCollector,
  emptySignals,
  type CropBox,
  type FieldCounts,
  type TapeSignals,
} from './tape-signals';

export type FieldOrder = 'tff' | 'bff' | 'progressive' | 'unknown';

export interface TapeAnalysis {
  version: 1;
  durationSeconds: number;
  width: number;
  height: number;
  interlaced: boolean;
  fieldOrder: FieldOrder;
  /** idet's counts of frames judged each way (on the sampled stretches). */
  fields: FieldCounts;
  /** What to keep of the picture: overscan borders and the head-switching band removed. */
  crop: CropBox;
  /** Noisy rows found at the bottom (head switching). */
  headSwitchingRows: number;
  cuts: Cut[];
  qc: {
    hasAudio: boolean;
    /** Stretches where many pictures had dropouts (streaks of outlier pixels). */
    dropouts: Interval[];
    /** Stretches whose sound hit full scale repeatedly. */
    clippedAudio: Interval[];
    /** Black stretches of ten seconds or more (and whether they were silent too). */
    blank: (Interval & { silent: boolean })[];
  };
  /** Stretches FFmpeg could not decode (no pictures came out); the analysis went on past them. */
  undecodable: Interval[];
  /**
   * Where each recording on a DV tape starts and when the camcorder's clock says it was
   * made (dv-dates.ts); absent when the tape is not DV or its frames carry no date.
   */
  recordings?: Recording[];
}

export interface TapeMedia {
  durationSeconds: number;
  width: number;
  height: number;
  hasAudio: boolean;
  /** FFprobe's name for the picture's codec: `dvvideo` frames carry a recording clock. */
  videoCodec?: string;
}

export interface TapeInput {
  /** The loopback URL (or a path, in tests and the bench). */
  url: string;
  protocols: string;
  format: string;
  env?: Readonly<Record<string, string>>;
}

/**
 * The printers, each on a pipe of its own (fd 3, 5, 6, …; fd 4 is the band strip) and
 * buffered: `direct=1` on one shared pipe cost a write() per printed line, some 150,000 a
 * ten-minute tape, and as many wake-ups of the reader.
 */
const PIPES = {
  cuts: 3,
  strip: 4,
  fields: 5,
  crop: 6,
  dropouts: 7,
  silence: 8,
  sound: 9,
  layout: 10,
};
const print = (pipe: number, key?: string) =>
  `metadata=mode=print${key ? `:key=${key}` : ''}:file=pipe\\\\:${pipe}`;
const aprint = (pipe: number) => `a${print(pipe)}`;
/** A DV tape's frames, copied as they are, on the pipe after the printers'. */
const DV_PIPE = Math.max(...Object.values(PIPES)) + 1;
const isDv = (media: TapeMedia) => media.videoCodec === 'dvvideo';
/** Blocks of the layout scdet compares (tape-cuts.ts, LAYOUT_THRESHOLD). */
const LAYOUT_SIZE = '16:12';
const BLACK_MIN_SECONDS = 0.4;
const SILENCE_MIN_SECONDS = 0.4;
const SILENCE_NOISE = '-45dB';
/**
 * A sampled picture has dropouts when it has many more outlier pixels (signalstats' TOUT)
 * than the rest of its scene: how many a clean picture has depends on what it shows (fine
 * patterns have many), so the measure is against the same scene's own pictures.
 */
const TOUT_RATIO = 3;
const TOUT_MARGIN = 0.001;
/** Samples (one frame in ten) a scene needs before its pictures are judged. */
const MIN_SCENE_SAMPLES = 10;
const BLANK_MIN_SECONDS = 10;

/** The filter graph; its only output is the grey strip of the bottom rows (`[strip]`). */
export function analysisGraph(media: TapeMedia): string {
  const video = [
    `[0:v:0]split=4[i][c][m][d]`,
    `[i]select='lt(mod(n\\,250)\\,25)',crop=iw/2:ih:iw/4:0,idet,${print(PIPES.fields)},nullsink`,
    `[c]select='isnan(prev_selected_t)+gte(t-prev_selected_t\\,1)',split[c1][c2]`,
    `[c1]cropdetect=limit=24:round=2:reset=1:skip=0,${print(PIPES.crop)},nullsink`,
    `[c2]crop=iw:${STRIP_ROWS}:0:ih-${STRIP_ROWS},format=gray[strip]`,
    `[m]scale=trunc(iw/8)*2:trunc(ih/8)*2:flags=fast_bilinear,split[m1][m2]`,
    `[m1]scdet=threshold=${SCENE_THRESHOLD},` +
      `blackdetect=d=${BLACK_MIN_SECONDS}:pix_th=0.1,${print(PIPES.cuts)},nullsink`,
    // Only the layout's changes are printed (sc_pass): every frame is already on pipe:3.
    `[m2]scale=${LAYOUT_SIZE}:flags=area,scdet=threshold=${LAYOUT_THRESHOLD}:sc_pass=1,` +
      `${print(PIPES.layout)},nullsink`,
    `[d]select='not(mod(n\\,10))',field=top,scale=trunc(iw/8)*2:ih:flags=fast_bilinear,` +
      `signalstats=stat=tout,${print(PIPES.dropouts, 'lavfi.signalstats.TOUT')},nullsink`,
  ];
  const audio = media.hasAudio
    ? [
        `[0:a:0]asplit[a1][a2]`,
        `[a1]silencedetect=n=${SILENCE_NOISE}:d=${SILENCE_MIN_SECONDS},${aprint(PIPES.silence)},` +
          `anullsink`,
        `[a2]asetnsamples=n=48000,astats=metadata=1:reset=1:measure_perchannel=none:` +
          `measure_overall=Peak_level+Peak_count,${aprint(PIPES.sound)},anullsink`,
      ]
    : [];
  return [...video, ...audio].join(';');
}

/**
 * Decoders that share a picture out in slices, not whole pictures to threads: the
 * analysis's filters run on FFmpeg's main thread between pictures, so the slice threads
 * wait on them, and handing out slices cost more than it saved. On the bench's
 * 10-minute MPEG-2 tape the one-pass analysis took 8.6 s on one decoding thread against
 * 9.8 s on the default three (a plain decode: 6.35 s against 6.6 s). DV and H.264 decode
 * faster on threads (whole pictures on their own, beside the filters).
 */
const ONE_THREAD_DECODERS = new Set(['mpeg2video', 'mpeg1video']);

export function analysisArgs(input: TapeInput, media: TapeMedia): string[] {
  return [
    '-hide_banner',
    '-nostdin',
    '-protocol_whitelist',
    input.protocols,
    '-format_whitelist',
    input.format,
    '-f',
    input.format,
    ...(ONE_THREAD_DECODERS.has(media.videoCodec ?? '') ? ['-threads', '1'] : []),
    '-i',
    input.url,
    // Every filter on one thread: their work per frame is small, and handing it out in
    // slices to a second thread cost more in wake-ups than it saved (about a fifth of the
    // analysis's CPU time on the bench's tape). The decoder keeps its own threads.
    '-filter_complex_threads',
    '1',
    '-filter_complex',
    analysisGraph(media),
    '-map',
    '[strip]',
    '-fps_mode',
    'passthrough',
    '-f',
    'rawvideo',
    `pipe:${PIPES.strip}`,
    // The same read gives the DV frames undecoded (a raw DIF frame per packet, whatever
    // the container): the DV muxer would write its own clock over the camcorder's.
    ...(isDv(media) ? ['-map', '0:v:0', '-c:v', 'copy', '-f', 'rawvideo', `pipe:${DV_PIPE}`] : []),
  ];
}

export async function analyseTape(
  input: TapeInput,
  media: TapeMedia,
  run: Omit<RunOptions, 'durationSeconds' | 'env' | 'pipes' | 'onProgress'> & {
    onProgress?: (p: Progress) => void;
  },
): Promise<TapeAnalysis> {
  const signals = emptySignals();
  const band = new BandMeter(media.width);
  const dv = isDv(media) ? new DvDateMeter() : undefined;
  // fd 3 + i reads pipe i; the strip goes to the band meter, every other pipe to a collector.
  const fds = Object.values(PIPES).sort((a, b) => a - b);
  const collectors = new Map(
    fds
      .filter((fd) => fd !== PIPES.strip)
      .map((fd) => [fd, new SignalCollector(signals, fd === PIPES.layout ? 'layout' : 'frames')]),
  );
  await runFfmpeg(analysisArgs(input, media), {
    ...run,
    env: input.env,
    durationSeconds: media.durationSeconds,
    pipes: [
      ...fds.map((fd) => {
        const collector = collectors.get(fd);
        return collector
          ? (chunk: Buffer) => collector.push(chunk)
          : (chunk: Buffer) => band.push(chunk);
      }),
      ...(dv ? [(chunk: Buffer) => dv.push(chunk)] : []),
    ],
  });
  for (const collector of collectors.values()) collector.end(media.durationSeconds);
  return judge(signals, band.bandRows(), media, dv?.recordings());
}

/** Turns what was measured into the analysis (pure; exported for tests). */
export function judge(
  raw: TapeSignals,
  bandRows: number,
  media: TapeMedia,
  recordings: Recording[] = [],
): TapeAnalysis {
  const s = relative(raw);
  const duration = media.durationSeconds;
  const { tff, bff, progressive } = s.fields;
  const judged = tff + bff + progressive;
  // Woven fields show one order clearly; a progressive picture with sharp moving edges
  // fools idet both ways about equally.
  const [major, minor] = tff >= bff ? [tff, bff] : [bff, tff];
  const interlaced = judged > 0 && major >= 0.25 * judged && major >= 3 * minor;
  const fieldOrder: FieldOrder =
    judged === 0 ? 'unknown' : !interlaced ? 'progressive' : tff >= bff ? 'tff' : 'bff';
  const blank = s.black
    .filter((b) => b.end - b.start >= BLANK_MIN_SECONDS)
    .map((b) => ({
      ...b,
      silent: s.silence.some((q) => q.start <= b.start + 0.5 && q.end >= b.end - 0.5),
    }));
  return {
    version: 1,
    durationSeconds: duration,
    width: media.width,
    height: media.height,
    interlaced,
    fieldOrder,
    fields: s.fields,
    crop: suggestCrop(s.crops, bandRows, media),
    headSwitchingRows: bandRows,
    cuts: proposeCuts({
      durationSeconds: duration,
      black: s.black,
      silence: s.silence,
      scenes: s.scenes,
      dateJumps: recordings.flatMap((x) =>
        x.jumpSeconds === undefined ? [] : [{ at: x.at, seconds: x.jumpSeconds }],
      ),
    }),
    qc: {
      hasAudio: media.hasAudio,
      dropouts: stretches(dropoutTimes(s), 1, 1),
      clippedAudio: stretches(
        s.sound.filter((q) => q.peak >= -0.1 && q.peakCount >= 4).map((q) => q.at),
        1,
        1,
      ),
      blank,
    },
    undecodable: undecodable(s.frameTimes, duration),
    ...(recordings.length ? { recordings } : {}),
  };
}

/** Times made relative to the first frame of each kind (MPEG-TS starts at 1.4 s, say). */
function relative(s: TapeSignals): TapeSignals {
  const v = s.firstVideo ?? 0;
  const a = s.firstAudio ?? s.firstVideo ?? 0;
  const iv = (i: Interval, o: number) => ({ start: r(i.start - o), end: r(i.end - o) });
  return {
    ...s,
    scenes: s.scenes.map((x) => ({ ...x, at: r(x.at - v) })),
    black: s.black.map((i) => iv(i, v)),
    silence: s.silence.map((i) => iv(i, a)),
    frameTimes: s.frameTimes.map((t) => t - v),
    pictures: s.pictures.map((p) => ({ ...p, at: p.at - v })),
    sound: s.sound.map((q) => ({ ...q, at: q.at - a })),
  };
}

const r = (t: number) => Math.round(Math.max(0, t) * 1000) / 1000;
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const even = (n: number) => n - (n % 2);

function suggestCrop(crops: CropBox[], bandRows: number, media: TapeMedia): CropBox {
  const box = crops.length
    ? {
        x: median(crops.map((c) => c.x))!,
        y: median(crops.map((c) => c.y))!,
        right: median(crops.map((c) => c.x + c.width))!,
        bottom: median(crops.map((c) => c.y + c.height))!,
      }
    : { x: 0, y: 0, right: media.width, bottom: media.height };
  const x = Math.max(0, box.x + (box.x % 2));
  const y = Math.max(0, box.y + (box.y % 2));
  const bottom = Math.min(box.bottom, media.height - bandRows);
  return { x, y, width: even(Math.max(2, box.right - x)), height: even(Math.max(2, bottom - y)) };
}

function dropoutTimes(s: TapeSignals): number[] {
  // Scenes, split wherever the picture changed at once or went black.
  const edges = [
    ...s.scenes.map((x) => x.at),
    ...s.black.flatMap((g) => [g.start, g.end]),
    Number.POSITIVE_INFINITY,
  ].sort((x, y) => x - y);
  const out: number[] = [];
  let scene: TapeSignals['pictures'] = [];
  let edge = 0;
  const judgeScene = () => {
    if (scene.length >= MIN_SCENE_SAMPLES) {
      const baseline = median(scene.map((q) => q.tout))!;
      for (const p of scene) {
        if (p.tout > Math.max(TOUT_RATIO * baseline, baseline + TOUT_MARGIN)) out.push(p.at);
      }
    }
    scene = [];
  };
  for (const p of s.pictures) {
    if (p.at >= edges[edge]!) {
      judgeScene();
      while (p.at >= edges[edge]!) edge++;
    }
    scene.push(p);
  }
  judgeScene();
  return out;
}

/** Times (sorted) closer than `join` seconds as stretches of at least `min` seconds. */
function stretches(times: number[], join: number, min: number): Interval[] {
  const out: Interval[] = [];
  for (const t of times) {
    const last = out.at(-1);
    if (last && t - last.end <= join) last.end = t;
    else out.push({ start: t, end: t });
  }
  return out
    .map((i) => ({ start: r(i.start), end: r(i.end + join / 2) }))
    .filter((i) => i.end - i.start >= min);
}

/** Where the pictures stopped coming: a jump in the frames' times, or an early end. */
function undecodable(times: number[], duration: number): Interval[] {
  if (times.length === 0) return duration > 0 ? [{ start: 0, end: r(duration) }] : [];
  const steps = times.slice(1).map((t, i) => t - times[i]!);
  const step = median(steps) ?? 0.04;
  const limit = Math.max(0.5, 10 * step);
  const out: Interval[] = [];
  for (const [i, d] of steps.entries()) {
    if (d > limit) out.push({ start: r(times[i]! + step), end: r(times[i + 1]!) });
  }
  const last = times.at(-1)!;
  if (duration - last > limit + step) out.push({ start: r(last + step), end: r(duration) });
  return out;
}
