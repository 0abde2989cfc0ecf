// The quality gate: an output's SSIM, PSNR and (where this FFmpeg measures it) VMAF
// against the source put through the preset's own filters, on sampled stretches.
//
// A long source is not decoded twice in full: each stretch of the source is its own input,
// opened just before the stretch with `-ss`/`-t` (the loopback lets the demuxer seek), and
// only there do the preset's filters (a slow denoiser) run. The output arrives on a pipe
// (see verify-source.ts) and cannot seek: it is decoded once and the same stretches are
// cut from it with `trim`, counted from its first picture as the source's are.

import type { Readable } from 'node:stream';
import { runProbe } from '../ffmpeg/probe-run';
import type { QualityCheck } from '../presets/preset';
import type { VerifyTools } from './verify';
import { fail, runFfmpeg, type SourceInput } from './verify-source';

/** An output's picture scores against its source, kept with the output. */
export interface QualityScores {
  /** Mean SSIM of all planes, 0..1 (1: the same picture). */
  ssim: number;
  /** Mean PSNR in dB (capped at 99 for identical pictures). */
  psnr: number;
  /**
   * Mean VMAF, 0..100; null when the preset asked for it and this FFmpeg could not measure
   * it (not measured is not passed). Absent when not asked for.
   */
  vmaf?: number | null;
  /** Why VMAF was not measured, for the job's notes. */
  vmafMissing?: string;
}

/** A stretch of the video where the scores are measured, in seconds from its start. */
export interface Stretch {
  start: number;
  seconds: number;
}

const SSIM_LINE = /\] SSIM .*All:([\d.]+)/;
const PSNR_LINE = /\] PSNR .*average:([\d.]+|inf)/;
const VMAF_LINE = /VMAF score[:=]\s*([\d.]+)/;

/**
 * Where the scores are measured: all of a short video; for a long one, six 10-second
 * stretches spread across it (a tape can run three hours; six stretches see its start,
 * middle and end, and a minute of pictures averages out a single bad scene). Each start
 * is a quarter of a millisecond off the millisecond, so it never falls exactly on a
 * picture's time (in milliseconds or in MPEG's 90 kHz ticks): no picture at a boundary is
 * kept on one side and dropped on the other by rounding.
 */
export function sampledStretches(durationSeconds: number): Stretch[] | undefined {
  if (!(durationSeconds > 120)) return undefined;
  return Array.from({ length: 6 }, (_, i) => ({
    start: Math.round((((i + 0.5) * durationSeconds) / 6 - 5) * 1000) / 1000 + 0.00025,
    seconds: 10,
  }));
}

/**
 * When the source's first picture is, and when the file starts (its earliest stream, often
 * the sound), in seconds: FFmpeg's `-ss` counts from the file's start, the output's
 * pictures from its first picture. Read from the header and first packets only.
 */
export interface SourceTimes {
  video: number;
  file: number;
}

/** Seconds read before each stretch, for a denoiser's memory and a deinterlacer's neighbours. */
const LEAD_IN = 1;

/**
 * The inputs after the output's pipe and the filtergraph that scores it: numbers and the
 * preset's own filter text only. `[0:v]` is the output; the source is input 1, or inputs
 * 1..n, one per stretch.
 *
 * Both sides count a stretch from their first picture. The output is decoded whole, its
 * times set to start at zero and the stretch cut with `trim`. Each stretch of the source is
 * opened a second early with `-ss`, after which FFmpeg's times are the source's less the
 * seek point, so the same `trim` there is shifted by where the first picture lies; the
 * preset's filters run before it, on the lead-in too.
 */
export function qualityGraph(
  check: Pick<QualityCheck, 'reference'>,
  source: Pick<SourceInput, 'input' | 'demuxer'>,
  stretches: Stretch[] | undefined,
  vmaf: boolean,
  times: SourceTimes = { video: 0, file: 0 },
): { inputs: string[]; graph: string } {
  const open = ['-format_whitelist', source.demuxer, '-f', source.demuxer, '-i', source.input.url];
  const fix = (n: number) => n.toFixed(6);
  // Both sides: one time base, square pixels (the output's shape is stated, not drawn)
  // and one pixel format.
  const tail = 'settb=AVTB,setsar=1,format=yuv420p';
  const metrics = vmaf ? ['ssim', 'psnr', 'libvmaf'] : ['ssim', 'psnr'];
  const n = metrics.length;
  const pads = (side: string) => metrics.map((_, i) => `[${side}${i}]`).join('');
  const scores = metrics.map((m, i) => `[d${i}][r${i}]${m}`);
  if (!stretches) {
    return {
      inputs: open,
      graph: [
        `[0:v]setpts=PTS-STARTPTS,${tail},split=${n}${pads('d')}`,
        `[1:v]${['setpts=PTS-STARTPTS', ...check.reference, tail].join(',')},split=${n}${pads('r')}`,
        ...scores,
      ].join(';'),
    };
  }
  const k = stretches.length;
  const offset = Math.max(0, times.video - times.file);
  const seeks = stretches.map((s) => Math.max(0, s.start + offset - LEAD_IN));
  const cut = (start: number, seconds: number) =>
    `trim=start=${fix(start)}:duration=${fix(seconds)},setpts=PTS-STARTPTS,${tail}`;
  const all = (side: string) => stretches.map((_, i) => `[${side}${i}]`).join('');
  return {
    inputs: stretches.flatMap((s, i) => [
      ...['-ss', fix(seeks[i]!), '-t', fix(s.start + offset - seeks[i]! + s.seconds + 1)],
      ...open,
    ]),
    graph: [
      `[0:v]setpts=PTS-STARTPTS,split=${k}${all('o')}`,
      ...stretches.map((s, i) => `[o${i}]${cut(s.start, s.seconds)}[p${i}]`),
      ...stretches.map((s, i) => {
        const chain = [...check.reference, cut(s.start + offset - seeks[i]!, s.seconds)];
        return `[${i + 1}:v]${chain.join(',')}[q${i}]`;
      }),
      `${all('p')}concat=n=${k}:v=1:a=0,split=${n}${pads('d')}`,
      `${all('q')}concat=n=${k}:v=1:a=0,split=${n}${pads('r')}`,
      ...scores,
    ].join(';'),
  };
}

/** The source's first picture time and file start (SourceTimes), from FFprobe. */
export async function sourceTimes(tools: VerifyTools, source: SourceInput): Promise<SourceTimes> {
  const ran = await runProbe(
    tools.ffprobePath,
    [
      ...['-v', 'error', '-protocol_whitelist', 'http,tcp'],
      ...['-format_whitelist', source.demuxer, '-f', source.demuxer],
      ...['-select_streams', 'v:0', '-show_entries', 'stream=start_time:format=start_time'],
      ...['-of', 'json', source.input.url],
    ],
    source.input.env,
    {},
  );
  const parsed = JSON.parse(ran.stdout || '{}') as {
    streams?: { start_time?: string }[];
    format?: { start_time?: string };
  };
  const seconds = (text: string | undefined) =>
    Number.isFinite(Number(text)) && text !== undefined ? Number(text) : 0;
  return {
    video: seconds(parsed.streams?.[0]?.start_time),
    file: seconds(parsed.format?.start_time),
  };
}

const vmafProbes = new Map<string, Promise<string | undefined>>();

/**
 * Why this FFmpeg cannot measure VMAF although it lists libvmaf, or undefined when it can:
 * FFmpeg 4's libvmaf loads its model from a file that a packaged FFmpeg may not ship (and
 * says so on its standard output). Two tenths of a second of a test pattern, tried once
 * per binary.
 */
export function vmafUnavailable(ffmpegPath: string): Promise<string | undefined> {
  let probe = vmafProbes.get(ffmpegPath);
  if (!probe) {
    const pattern = ['-f', 'lavfi', '-i', 'testsrc2=s=176x144:r=25:d=0.2'];
    probe = runFfmpeg(
      { ffmpegPath, ffprobePath: '' },
      [
        ...['-hide_banner', '-nostats', '-v', 'info', ...pattern, ...pattern],
        ...['-lavfi', '[0:v][1:v]libvmaf', '-f', 'null', '-'],
      ],
      {},
    ).then(
      (ran) =>
        ran.code === 0 && VMAF_LINE.test(ran.stderr)
          ? undefined
          : /model/i.test(ran.stderr + ran.stdout)
            ? 'this FFmpeg cannot load its VMAF model'
            : 'VMAF could not be measured with this FFmpeg',
      () => 'VMAF could not be measured with this FFmpeg',
    );
    vmafProbes.set(ffmpegPath, probe);
  }
  return probe;
}

/** SSIM, PSNR and VMAF (where asked and measurable) of an output, read from `body`. */
export async function measureQuality(
  tools: VerifyTools,
  source: SourceInput,
  check: QualityCheck,
  body: Readable,
): Promise<QualityScores> {
  const vmafMissing = check.vmaf
    ? await vmafUnavailable(tools.ffmpegPath)
    : 'this FFmpeg has no VMAF';
  const vmaf = vmafMissing === undefined;
  const demuxer = check.demuxer ?? 'matroska';
  const stretches = sampledStretches(source.durationSeconds);
  const times = stretches ? await sourceTimes(tools, source) : undefined;
  const { inputs, graph } = qualityGraph(check, source, stretches, vmaf, times);
  const ran = await runFfmpeg(
    tools,
    [
      ...['-hide_banner', '-nostats', '-v', 'info', '-protocol_whitelist', 'pipe,http,tcp'],
      ...['-format_whitelist', demuxer, '-f', demuxer, '-i', 'pipe:0', ...inputs],
      ...['-filter_complex', graph, '-f', 'null', '-'],
    ],
    source.input.env,
    body,
  );
  const lines = ran.stderr.split('\n');
  const find = (re: RegExp) => lines.map((l) => re.exec(l)?.[1]).find((v) => v !== undefined);
  const ssim = find(SSIM_LINE);
  const psnr = find(PSNR_LINE);
  const vmafScore = vmaf ? find(VMAF_LINE) : undefined;
  if (ran.code !== 0 || ssim === undefined || psnr === undefined || (vmaf && !vmafScore)) {
    const why = lines.find((l) => /error|invalid|failed/i.test(l)) ?? `exit ${ran.code}`;
    fail(check.output, `its picture could not be compared with the original (${why.trim()})`);
  }
  return {
    ssim: Number(ssim),
    psnr: psnr === 'inf' ? 99 : Math.min(99, Number(psnr)),
    ...(vmaf ? { vmaf: Number(vmafScore) } : { vmaf: null, vmafMissing }),
  };
}

/** Fails with the scores in plain words when an output is under its preset's thresholds. */
export function checkScores(check: QualityCheck, scores: QualityScores): void {
  const lowVmaf = typeof scores.vmaf === 'number' && scores.vmaf < check.minVmaf;
  if (scores.ssim >= check.minSsim && scores.psnr >= check.minPsnr && !lowVmaf) return;
  fail(
    check.output,
    `the picture came out too far from the original to keep (likeness ${scores.ssim.toFixed(3)}, ` +
      `needs ${check.minSsim}; clarity ${scores.psnr.toFixed(1)} dB, needs ${check.minPsnr} dB` +
      (typeof scores.vmaf === 'number'
        ? `; VMAF ${scores.vmaf.toFixed(1)}, needs ${check.minVmaf}`
        : '') +
      '); try a better quality setting',
  );
}

/** How a job's notes state an output's scores. */
export function scoresNote(name: string, scores: QualityScores): string {
  const vmaf =
    typeof scores.vmaf === 'number'
      ? `, VMAF ${scores.vmaf.toFixed(2)}`
      : scores.vmaf === null
        ? `; VMAF not measured (${scores.vmafMissing ?? 'not available'})`
        : '';
  return `${name}: picture checked against the original: SSIM ${scores.ssim.toFixed(4)}, PSNR ${scores.psnr.toFixed(2)} dB${vmaf}`;
}

/** The scores as kept with the output: the why of a missing VMAF stays in the notes. */
export function storedScores(scores: QualityScores): Omit<QualityScores, 'vmafMissing'> {
  const { ssim, psnr, vmaf } = scores;
  return { ssim, psnr, ...(vmaf !== undefined ? { vmaf } : {}) };
}
