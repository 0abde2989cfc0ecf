// How long a goal will take and how much room its results need, from each item's facts
// (length and picture size, library/item-info.ts) and the speed measured on this machine.
//
// Work is counted in "pixel-seconds" (picture width × height × seconds of video), so a
// speed measured on a small clip says something about a large one. A preset never run
// here (or on the chosen server) yet falls back to the defaults below: deliberately
// slow figures, close to what a small two-core machine manages on a standard-definition
// tape, so that a first estimate errs on the long side rather than promising too much.

import type { GoalStep } from './goals';

/** A standard-definition tape picture (PAL DV): the size the defaults are stated for. */
const SD_PIXELS = 720 * 576;

export interface PresetRate {
  /** Video: pixel-seconds encoded per second of wall time. */
  pixelRate: number;
  /** Video: bytes of output per pixel-second of input (picture and sound together). */
  bytesPerPixelSecond: number;
  /** Photos: seconds and bytes per photo. */
  secondsPerItem: number;
  bytesPerItem: number;
}

/** `speed` is a multiple of real time on an SD picture; `mbps` the output's bit rate there. */
const video = (speed: number, mbps: number): PresetRate => ({
  pixelRate: speed * SD_PIXELS,
  bytesPerPixelSecond: (mbps * 1_000_000) / 8 / SD_PIXELS,
  secondsPerItem: 0,
  bytesPerItem: 0,
});

/** Conservative defaults per preset (see the top of this file). */
export const DEFAULT_RATES: Record<string, PresetRate> = {
  'vhs-restore': video(0.5, 4.5),
  // Lossless: about half of the raw picture; quick to encode, then decoded twice to check.
  'exact-master': video(1.5, 60),
  'archive-hevc': video(0.2, 3.5),
  'archive-av1': video(0.1, 2.5),
  'web-h264': video(1, 2),
  'hls-playback': video(0.5, 4),
  remux: video(20, 30),
  thumbnails: video(5, 0.05),
  'photo-web': { pixelRate: 0, bytesPerPixelSecond: 0, secondsPerItem: 2, bytesPerItem: 600_000 },
};

/** What the estimate needs to know of one item. */
export interface ItemFacts {
  kind: string;
  durationSeconds?: number;
  width?: number;
  height?: number;
}

/** One finished job, as measured: its preset, the item's facts, its speed and output. */
export interface FinishedRun {
  preset: string;
  /** FFmpeg's speed at the end: seconds of video per second of wall time. */
  speed?: number;
  outputBytes: number;
  item: ItemFacts;
}

export interface GoalEstimate {
  seconds: number;
  bytes: number;
  /** Items whose length or picture size is not known yet (not counted). */
  unknownItems: number;
  /** Whether every preset's speed came from jobs run here, rather than the defaults. */
  measured: boolean;
}

const median = (values: number[]): number | undefined => {
  if (values.length === 0) return undefined;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)];
};

const pixelSeconds = (item: ItemFacts): number | undefined =>
  item.durationSeconds && item.width && item.height
    ? item.durationSeconds * item.width * item.height
    : undefined;

/** Each preset's rate from the runs measured, or its default where none was. */
export function ratesFrom(runs: readonly FinishedRun[]): Map<string, PresetRate> {
  const rates = new Map<string, PresetRate>();
  const byPreset = new Map<string, FinishedRun[]>();
  for (const run of runs) byPreset.set(run.preset, [...(byPreset.get(run.preset) ?? []), run]);
  for (const [preset, list] of byPreset) {
    const base = DEFAULT_RATES[preset];
    if (!base) continue;
    const sized = list.flatMap((r) => {
      const ps = pixelSeconds(r.item);
      return ps ? [{ run: r, ps }] : [];
    });
    const pixelRate = median(
      sized.flatMap(({ run }) =>
        run.speed && run.speed > 0 ? [run.speed * run.item.width! * run.item.height!] : [],
      ),
    );
    const bytesPerPixelSecond = median(sized.map(({ run, ps }) => run.outputBytes / ps));
    const photos = list.filter((r) => r.item.kind === 'photo');
    const bytesPerItem = median(photos.map((r) => r.outputBytes));
    if (pixelRate === undefined && bytesPerItem === undefined) continue;
    rates.set(preset, {
      pixelRate: pixelRate ?? base.pixelRate,
      bytesPerPixelSecond: bytesPerPixelSecond ?? base.bytesPerPixelSecond,
      secondsPerItem: base.secondsPerItem,
      bytesPerItem: bytesPerItem ?? base.bytesPerItem,
    });
  }
  return rates;
}

/**
 * The whole goal on these items, run as the queue runs it: its jobs are queued item by
 * item, step by step (desktop-goal-routes.ts), and the worker starts each in turn as one
 * of its `concurrency` places frees up (jobs/worker.ts). Each job has its share of the
 * machine's threads whatever else runs (jobs/job-engine.ts), so a speed measured on one
 * job is the speed of one place; the time is when the last place is done.
 */
export function estimateSteps(
  steps: readonly GoalStep[],
  items: readonly ItemFacts[],
  measured: ReadonlyMap<string, PresetRate>,
  concurrency = 1,
): GoalEstimate {
  const jobSeconds: number[] = [];
  let bytes = 0;
  let unknownItems = 0;
  for (const item of items) {
    const ps = pixelSeconds(item);
    if (item.kind !== 'photo' && ps === undefined) {
      unknownItems += 1;
      continue;
    }
    for (const step of steps) {
      const rate = measured.get(step.preset) ?? DEFAULT_RATES[step.preset];
      if (!rate) continue;
      if (item.kind === 'photo') {
        jobSeconds.push(rate.secondsPerItem);
        bytes += rate.bytesPerItem;
      } else {
        jobSeconds.push(ps! / rate.pixelRate);
        bytes += ps! * rate.bytesPerPixelSecond;
      }
    }
  }
  return {
    seconds: Math.round(runInPlaces(jobSeconds, concurrency)),
    bytes: Math.round(bytes),
    unknownItems,
    measured: steps.every((s) => measured.has(s.preset)),
  };
}

/** When jobs of these lengths, started in this order, are all done in `places` at once. */
function runInPlaces(jobSeconds: readonly number[], places: number): number {
  const free = new Array<number>(Math.max(1, Math.floor(places))).fill(0);
  for (const seconds of jobSeconds) {
    // The next job goes to the place that frees up first.
    let i = 0;
    for (let j = 1; j < free.length; j++) if (free[j]! < free[i]!) i = j;
    free[i] = free[i]! + seconds;
  }
  return Math.max(...free);
}

/**
 * Whether the results fit: the estimate is rough, and a full disk stops every job (and
 * the vault's own writes), so a quarter more than the estimate is asked to be free.
 */
export function enoughRoom(bytes: number, freeBytes: number): boolean {
  return freeBytes >= bytes * 1.25;
}
