// Where one event on a tape ends and the next begins, from what the analysis measured.
// No single signal is trusted alone: a black gap with silence under it is how a VCR or a
// camcorder leaves the space between recordings (high confidence); a black gap without
// silence, or a hard scene change with a silence beside it, is likely; a lone scene change
// is often a camcorder's stop and start, but as often a pan or a flash (low). A DV tape's
// recording clock (dv-dates.ts) says for sure where the camcorder stopped and started:
// how sure that this is a new event, not a new shot of the same one, grows with how long
// it was stopped. Signals close together are one boundary, and a cut never falls inside
// a gap: the clip after a gap starts where the picture comes back, and the gap itself
// belongs to neither clip.
//
// Pure and table-tested (tape-cuts.test.ts); times are seconds from the start of the tape.

export interface Interval {
  start: number;
  end: number;
}

export interface SceneChange {
  at: number;
  /** scdet's score, 0..100 (how different the frame is from the one before). */
  score: number;
  /** Scored on the pictures' block means, not their pixels (tape-analysis.ts). */
  layout?: boolean;
}

export type CutReason = 'black' | 'silence' | 'scene' | 'recording-date';

/** Where a DV tape's recording clock jumps (dv-dates.ts): a new recording starts. */
export interface DateJump {
  at: number;
  /** How far the clock moved beyond the tape's own time; negative when it went back. */
  seconds: number;
}

export interface Cut {
  /** Where the next clip starts. */
  at: number;
  /** 0..1. */
  confidence: number;
  reasons: CutReason[];
  /** The blank stretch before `at` that belongs to no clip, when the cut is at a gap. */
  gap?: Interval;
}

export interface CutSignals {
  durationSeconds: number;
  black: readonly Interval[];
  silence: readonly Interval[];
  scenes: readonly SceneChange[];
  /** Only a DV tape's frames carry a recording clock. */
  dateJumps?: readonly DateJump[];
}

/** Signals closer than this are one boundary. */
export const MERGE_SECONDS = 1;
/** A gap touching the tape's start or end trims it; it separates no clips. */
const EDGE_SECONDS = 0.5;

const overlap = (a: Interval, b: Interval) =>
  Math.max(0, Math.min(a.end, b.end) - Math.max(a.start, b.start));

const round = (t: number) => Math.round(t * 1000) / 1000;

/** What scdet is asked to report (tape-analysis.ts): lower scores are no scene change. */
export const SCENE_THRESHOLD = 8;
/**
 * The same for the scdet on 16×12 block means. On the bench's ten-minute tape every hard
 * cut and gap edge scored 28 or more there and nothing else more than 5.4; the pixels'
 * scdet scored a cut out of a busy picture 7.0.
 */
export const LAYOUT_THRESHOLD = 20;

/** A scene change's weight: its score above the threshold, up to 1. */
const sceneWeight = (scene: SceneChange) =>
  Math.min(
    1,
    Math.max(0, (scene.score - (scene.layout ? LAYOUT_THRESHOLD : SCENE_THRESHOLD)) / 30),
  );

/**
 * A recording clock's jump: certainly a stop and start of the camcorder, and the longer it
 * was stopped (or when its clock went back: another day's recording, or a reset clock)
 * the surer it is that a new event begins. Seconds or minutes apart is a new shot, often
 * of the same birthday.
 */
function jumpConfidence(seconds: number): number {
  if (seconds < 0 || seconds >= 3600) return 0.95;
  if (seconds >= 600) return 0.85;
  return 0.6;
}

export function proposeCuts(signals: CutSignals): Cut[] {
  const { durationSeconds: duration } = signals;
  const gaps = [...signals.black].sort((a, b) => a.start - b.start);
  const used = new Set<SceneChange>();
  const cuts: Cut[] = [];

  for (const gap of gaps) {
    // Fades and hard cuts into and out of the gap are the gap's own edges.
    const near = signals.scenes.filter(
      (s) => s.at >= gap.start - MERGE_SECONDS && s.at <= gap.end + MERGE_SECONDS,
    );
    for (const s of near) used.add(s);
    if (gap.start < EDGE_SECONDS || gap.end > duration - EDGE_SECONDS) continue;
    const length = gap.end - gap.start;
    const silent = signals.silence.some(
      (s) => overlap(s, gap) >= Math.min(0.5 * length, s.end - s.start) * 0.5,
    );
    const reasons: CutReason[] = ['black'];
    if (silent) reasons.push('silence');
    if (near.length > 0) reasons.push('scene');
    const confidence = round((silent ? 0.9 : 0.6) + (near.length > 0 ? 0.05 : 0));
    cuts.push({
      at: round(gap.end),
      confidence,
      reasons,
      gap: { start: round(gap.start), end: round(gap.end) },
    });
  }

  for (const scene of signals.scenes) {
    if (used.has(scene)) continue;
    if (scene.at < EDGE_SECONDS || scene.at > duration - EDGE_SECONDS) continue;
    const silent = signals.silence.some(
      (s) => scene.at >= s.start - MERGE_SECONDS && scene.at <= s.end + MERGE_SECONDS,
    );
    const weight = sceneWeight(scene);
    cuts.push({
      at: round(scene.at),
      confidence: round((silent ? 0.55 : 0.3) + 0.2 * weight),
      reasons: silent ? ['scene', 'silence'] : ['scene'],
    });
  }

  for (const jump of signals.dateJumps ?? []) {
    if (jump.at < EDGE_SECONDS || jump.at > duration - EDGE_SECONDS) continue;
    const confidence = jumpConfidence(jump.seconds);
    // The camcorder's black between recordings: the clock moves on where it ends (or begins).
    const gapCut = cuts.find(
      (c) =>
        c.gap && jump.at >= c.gap.start - MERGE_SECONDS && jump.at <= c.gap.end + MERGE_SECONDS,
    );
    if (gapCut) {
      gapCut.reasons.push('recording-date');
      // Two signals that do not share a cause agree: surer than either.
      gapCut.confidence = round(Math.min(1, Math.max(gapCut.confidence, confidence) + 0.03));
    } else {
      cuts.push({ at: round(jump.at), confidence, reasons: ['recording-date'] });
    }
  }

  // One boundary per place: the most confident of signals closer than MERGE_SECONDS.
  cuts.sort((a, b) => a.at - b.at);
  const merged: Cut[] = [];
  for (const cut of cuts) {
    const last = merged.at(-1);
    if (!last || cut.at - last.at >= MERGE_SECONDS) {
      merged.push(cut);
      continue;
    }
    const [keep, other] = cut.confidence > last.confidence ? [cut, last] : [last, cut];
    const reasons = [...new Set([...keep.reasons, ...other.reasons])];
    merged[merged.length - 1] = { ...keep, reasons: ORDER.filter((r) => reasons.includes(r)) };
  }
  return merged;
}

const ORDER: readonly CutReason[] = ['black', 'silence', 'scene', 'recording-date'];
