// Which of a video's sampled frames makes its poster. Home videos open on black (a
// camcorder's first second, a tape's leader) and tapes hold stretches of blank screen
// (the VCR's blue, grey between recordings): a frame that is dark, or flat (one colour
// with no detail), is not a picture of anything. Among the frames that are, the poster is
// the most typical one, as FFmpeg's `thumbnail` filter chooses: the frame whose brightness
// histogram is nearest the average of them all, not an odd one out (a flash, a fade).

export interface LumaStats {
  /** Mean brightness, 0-255 (BT.601 luma). */
  mean: number;
  /** Spread of brightness: near 0 for a frame of one colour. */
  stddev: number;
  /** Share of pixels in each of HISTOGRAM_BINS brightness bins (sums to 1). */
  histogram: number[];
}

const HISTOGRAM_BINS = 32;
/** Darker than this on average is black (a lit scene's mean sits well above 40). */
export const BLACK_MEAN = 24;
/** Brighter than this is a white-out (an overexposed start, a blank white screen). */
export const WHITE_MEAN = 240;
/** Less spread than this is one flat colour: a blue screen, a grey blank. */
export const FLAT_STDDEV = 10;

/** Luma statistics of packed RGB (3 bytes a pixel), from every other pixel of every other row. */
export function lumaStats(rgb: Buffer, width: number, height: number): LumaStats {
  const counts = new Array<number>(HISTOGRAM_BINS).fill(0);
  let sum = 0;
  let sumSq = 0;
  let n = 0;
  const stride = width * 3;
  for (let y = 0; y < height; y += 2) {
    for (let at = y * stride, end = at + stride; at < end; at += 6) {
      const luma = (77 * rgb[at]! + 150 * rgb[at + 1]! + 29 * rgb[at + 2]!) >> 8;
      sum += luma;
      sumSq += luma * luma;
      counts[luma >> 3]! += 1;
      n++;
    }
  }
  if (n === 0) return { mean: 0, stddev: 0, histogram: counts };
  const mean = sum / n;
  return {
    mean,
    stddev: Math.sqrt(Math.max(0, sumSq / n - mean * mean)),
    histogram: counts.map((c) => c / n),
  };
}

/** Whether a frame shows something: not black, not white, not one flat colour. */
export function showsSomething(stats: LumaStats): boolean {
  return stats.mean >= BLACK_MEAN && stats.mean <= WHITE_MEAN && stats.stddev >= FLAT_STDDEV;
}

/**
 * The index of the poster among the frames: the most typical of those that show
 * something; when none does (a video that is all black), the one with the most detail.
 */
export function choosePoster(frames: readonly LumaStats[]): number {
  if (frames.length === 0) throw new Error('no frames to choose a poster from');
  const candidates = frames.map((s, i) => ({ s, i })).filter(({ s }) => showsSomething(s));
  if (candidates.length === 0) {
    let best = 0;
    frames.forEach((s, i) => {
      if (s.stddev > frames[best]!.stddev) best = i;
    });
    return best;
  }
  const average = new Array<number>(HISTOGRAM_BINS).fill(0);
  for (const { s } of candidates) {
    s.histogram.forEach((share, bin) => (average[bin]! += share / candidates.length));
  }
  let best = candidates[0]!;
  let bestDistance = Infinity;
  for (const candidate of candidates) {
    let distance = 0;
    candidate.s.histogram.forEach((share, bin) => (distance += (share - average[bin]!) ** 2));
    if (distance < bestDistance) {
      best = candidate;
      bestDistance = distance;
    }
  }
  return best.i;
}
