// The edits the Clips panel makes to a tape's clips while the family works, before Save.
// The engine checks the saved list again by its own rules (engine/src/tape/cut-list.ts,
// which the renderer cannot import): these keep the editor from offering a step the engine
// would refuse, and say why in plain words when a button cannot do what was asked.
import type { ClipView } from '../../engine/src/net/desktop-clip-contract';

export type Clip = ClipView;

/** The engine's shortest clip: shorter pieces are slips of the hand. */
export const MIN_CLIP_SECONDS = 0.5;
/** When the tape's frame rate is not known: PAL's 25 frames a second, as most tapes are. */
const FALLBACK_FPS = 25;

export class ClipEditError extends Error {}

/** Seconds of one frame of the tape. */
export function frameSeconds(fps: number | undefined): number {
  return 1 / (fps && fps > 0 ? fps : FALLBACK_FPS);
}

/** `t` on the nearest frame (to the millisecond when the rate is unknown), as the engine snaps. */
export function snap(t: number, fps: number | undefined): number {
  if (fps && fps > 0) return Math.round(t * fps) / fps;
  return Math.round(t * 1000) / 1000;
}

/** 4275.52 → "1:11:15.52": a place on the tape as the family reads it. */
export function clock(seconds: number): string {
  const cs = Math.round(Math.max(0, seconds) * 100);
  const h = Math.floor(cs / 360_000);
  const m = Math.floor((cs % 360_000) / 6000);
  const s = Math.floor((cs % 6000) / 100);
  const frac = cs % 100;
  const mmss = `${h ? `${h}:${String(m).padStart(2, '0')}` : m}:${String(s).padStart(2, '0')}`;
  return frac ? `${mmss}.${String(frac).padStart(2, '0')}` : mmss;
}

/** The whole tape as one clip: where a family starts cutting by hand. */
export function wholeTape(duration: number): Clip[] {
  return [{ start: 0, end: duration }];
}

/** Clips made from proposed cut times (seconds), as the engine's fromCuts makes them. */
export function fromCuts(duration: number, cuts: readonly number[], fps?: number): Clip[] {
  const points = [...new Set(cuts.map((t) => snap(t, fps)))]
    .filter((t) => t > 0 && t < duration)
    .sort((a, b) => a - b);
  const edges = [0, ...points, duration];
  const clips: Clip[] = [];
  for (let i = 0; i < edges.length - 1; i++) {
    const start = edges[i]!;
    const end = edges[i + 1]!;
    const last = clips[clips.length - 1];
    if (end - start < MIN_CLIP_SECONDS && last) last.end = end;
    else clips.push({ start, end });
  }
  return clips;
}

/** Where a recording on a DV tape starts and the camera's clock then (`1994-07-01T10:00:00`). */
export interface Recording {
  at: number;
  recorded: string;
}

/**
 * The camera's clock at `t` on a DV tape, as the date field takes it (`1994-07-01 10:00`):
 * the clock at the start of the recording playing then, counted on. Undefined before the
 * first dated recording, and for a clock set in the future, which the engine would refuse.
 */
export function recordedAt(
  recordings: readonly Recording[] | undefined,
  t: number,
  now = Date.now(),
): string | undefined {
  const recording = [...(recordings ?? [])].reverse().find((r) => r.at <= t + 1e-3);
  if (!recording) return undefined;
  const ms = Date.parse(`${recording.recorded}Z`) + Math.max(0, t - recording.at) * 1000;
  if (!Number.isFinite(ms) || ms > now) return undefined;
  const iso = new Date(ms).toISOString();
  return `${iso.slice(0, 10)} ${iso.slice(11, 16)}`;
}

/**
 * Clips from the analysis's proposed cuts: one clip between each pair, and where a cut
 * follows a blank stretch (black, silence), the clip before it ends where the blank begins.
 * On a DV tape each clip is dated by the camera's clock at its start.
 */
export function fromSuggestions(
  duration: number,
  cuts: readonly { at: number; gap?: { start: number; end: number } }[],
  fps?: number,
  recordings?: readonly Recording[],
): Clip[] {
  const clips = fromCuts(
    duration,
    cuts.map((c) => c.at),
    fps,
  ).map((clip) => {
    const date = recordedAt(recordings, clip.start);
    return date ? { ...clip, date } : clip;
  });
  for (const cut of cuts) {
    if (!cut.gap) continue;
    const at = snap(cut.at, fps);
    const before = clips.find((c) => Math.abs(c.end - at) < 1e-6);
    const end = snap(cut.gap.start, fps);
    if (before && end - before.start >= MIN_CLIP_SECONDS && end < before.end) before.end = end;
  }
  return clips;
}

function tooShort(start: number, end: number): boolean {
  return end - start < MIN_CLIP_SECONDS - 1e-6;
}

/** Clip `index` cut in two at `t`; the second part keeps the date, not the title. */
export function split(clips: readonly Clip[], index: number, t: number, fps?: number): Clip[] {
  const clip = clips[index];
  if (!clip) throw new ClipEditError('Choose a clip first.');
  const at = snap(t, fps);
  if (!(at > clip.start && at < clip.end)) {
    throw new ClipEditError('Play to a moment inside the clip, then split.');
  }
  if (tooShort(clip.start, at) || tooShort(at, clip.end)) {
    throw new ClipEditError('That is too close to the start or end of the clip to split there.');
  }
  const second: Clip = { start: at, end: clip.end, ...(clip.date ? { date: clip.date } : {}) };
  return [...clips.slice(0, index), { ...clip, end: at }, second, ...clips.slice(index + 1)];
}

/** Clip `index` and the one after it made one; the first's title and date win. */
export function joinNext(clips: readonly Clip[], index: number): Clip[] {
  const first = clips[index];
  const next = clips[index + 1];
  if (!first || !next) throw new ClipEditError('There is no clip after this one to join.');
  const title = first.title ?? next.title;
  const date = first.date ?? next.date;
  const merged: Clip = {
    start: first.start,
    end: next.end,
    ...(title ? { title } : {}),
    ...(date ? { date } : {}),
  };
  return [...clips.slice(0, index), merged, ...clips.slice(index + 2)];
}

/** Clip `index` left out of the clips (the tape itself keeps every second). */
export function removeClip(clips: readonly Clip[], index: number): Clip[] {
  return clips.filter((_, i) => i !== index);
}

/**
 * Clip `index`'s start or end moved to `t`. A boundary it shares with its neighbour moves
 * for both, as a person moving the line between two clips means.
 */
export function moveEdge(
  clips: readonly Clip[],
  index: number,
  edge: 'start' | 'end',
  t: number,
  fps?: number,
): Clip[] {
  const clip = clips[index];
  if (!clip) throw new ClipEditError('Choose a clip first.');
  const at = snap(t, fps);
  const out = clips.map((c) => ({ ...c }));
  const n = edge === 'start' ? index - 1 : index + 1;
  const neighbour = out[n];
  const shared =
    neighbour !== undefined &&
    Math.abs((edge === 'start' ? neighbour.end : neighbour.start) - clip[edge]) < 1e-6;
  out[index]![edge] = at;
  if (shared) neighbour[edge === 'start' ? 'end' : 'start'] = at;
  const moved = out[index]!;
  if (tooShort(moved.start, moved.end)) {
    throw new ClipEditError(
      edge === 'start'
        ? 'A clip cannot start at or after its end: play to an earlier moment.'
        : 'A clip cannot end at or before its start: play to a later moment.',
    );
  }
  if (shared && tooShort(neighbour.start, neighbour.end)) {
    throw new ClipEditError('That would leave the clip next to it too short.');
  }
  const before = out[index - 1];
  const after = out[index + 1];
  if ((before && moved.start < before.end - 1e-6) || (after && moved.end > after.start + 1e-6)) {
    throw new ClipEditError('Clips cannot overlap: that moment is inside the next clip.');
  }
  return out;
}

/** Clip `index` with a new title or date; an empty one clears it. */
export function relabel(
  clips: readonly Clip[],
  index: number,
  change: { title?: string; date?: string },
): Clip[] {
  return clips.map((c, i) => {
    if (i !== index) return c;
    const next: Clip = { ...c };
    for (const key of ['title', 'date'] as const) {
      const value = change[key];
      if (value === undefined) continue;
      if (value === '') delete next[key];
      else next[key] = value;
    }
    return next;
  });
}

/** The clip playing at `t` (its index), else the one just before it, else -1. */
export function clipAt(clips: readonly Clip[], t: number): number {
  let found = -1;
  clips.forEach((c, i) => {
    if (c.start <= t + 1e-6) found = i;
  });
  return found;
}
