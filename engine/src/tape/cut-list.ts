// A tape's cut list: the clips a person keeps from one long recording, each with a title
// and a date. The analysis proposes one (cuts at black gaps, silences and scene changes);
// the family corrects it: moves a boundary, splits, merges, deletes, names. Every edit here
// is a pure function from one valid list to the next, so the viewer, the CSV import and the
// export all meet the same rules, and a list that breaks one is refused with a sentence a
// person can act on, never clamped in silence.
//
// Times are seconds from the start of the tape. Boundaries are snapped to the tape's frames
// when its frame rate is known, so "frame-accurate" means the same frame on every edit.

import { KeepsakeError } from '../core/errors';
import { parseLabelDate, parseTitle } from '../library/item-labels';
import type { LabelChapter } from '../presets/output-labels';

export interface Clip {
  /** Seconds from the start of the tape; the clip's first frame. */
  start: number;
  /** Seconds from the start of the tape; the clip runs up to, not including, this time. */
  end: number;
  title?: string;
  /** As library labels take it: 1989-12-24, optionally with a time. */
  date?: string;
}

export interface CutList {
  /** Seconds: the whole tape. No clip ends after it. */
  duration: number;
  /** Frames per second when known: boundaries snap to frames. */
  fps?: number;
  /** In time order, never overlapping; gaps between clips are parts left out. */
  clips: Clip[];
}

/** More clips than any tape holds; a list longer than this is a mistake or an attack. */
export const MAX_CLIPS = 2000;
/** The shortest clip kept: shorter pieces are slips of the hand, not events. */
export const MIN_CLIP_SECONDS = 0.5;

function invalid(message: string): KeepsakeError {
  return new KeepsakeError('CUT_LIST_INVALID', message);
}

/** 4275.5 → "1:11:15.5": how the family reads a place on the tape. */
export function clock(seconds: number): string {
  const whole = Math.floor(seconds);
  const frac = Math.round((seconds - whole) * 1000);
  const h = Math.floor(whole / 3600);
  const m = Math.floor((whole % 3600) / 60);
  const s = whole % 60;
  const mmss = `${String(m).padStart(h ? 2 : 1, '0')}:${String(s).padStart(2, '0')}`;
  const tail = frac ? `.${String(frac).padStart(3, '0').replace(/0+$/, '')}` : '';
  return `${h ? `${h}:` : ''}${mmss}${tail}`;
}

/** `t` on the nearest frame boundary (or to the millisecond when the rate is unknown). */
export function snap(t: number, fps: number | undefined): number {
  if (fps && fps > 0) return Math.round(t * fps) / fps;
  return Math.round(t * 1000) / 1000;
}

/**
 * The list checked: every clip inside the tape, long enough, in order, not overlapping,
 * titles and dates as the library takes them. Returns it with titles and dates normalised.
 */
export function checkCutList(list: CutList, now = Date.now()): CutList {
  const { duration, fps } = list;
  if (!Number.isFinite(duration) || duration <= 0) {
    throw invalid('the tape has no length, so it cannot be cut');
  }
  if (fps !== undefined && !(Number.isFinite(fps) && fps > 0 && fps <= 240)) {
    throw invalid(`${fps} is not a frame rate`);
  }
  if (list.clips.length > MAX_CLIPS) {
    throw invalid(`a tape can be cut into at most ${MAX_CLIPS} clips`);
  }
  const clips = list.clips.map((clip, i) => {
    const n = i + 1;
    if (!Number.isFinite(clip.start) || !Number.isFinite(clip.end)) {
      throw invalid(`clip ${n} has no start or end time`);
    }
    if (clip.start < 0) throw invalid(`clip ${n} starts before the tape does`);
    if (clip.end > duration + 1e-6) {
      throw invalid(
        `clip ${n} ends at ${clock(clip.end)}, after the tape ends (${clock(duration)})`,
      );
    }
    if (clip.end - clip.start < MIN_CLIP_SECONDS - 1e-6) {
      throw invalid(
        `clip ${n} (${clock(clip.start)} to ${clock(clip.end)}) is shorter than ${MIN_CLIP_SECONDS} s`,
      );
    }
    const prev = list.clips[i - 1];
    if (prev && clip.start < prev.end - 1e-6) {
      throw invalid(
        prev.start > clip.start
          ? `clip ${n} starts before clip ${i}: clips must be in time order`
          : `clip ${n} starts at ${clock(clip.start)}, inside clip ${i} (which ends at ${clock(prev.end)})`,
      );
    }
    const out: Clip = { start: clip.start, end: clip.end };
    try {
      if (clip.title !== undefined && clip.title !== '') out.title = parseTitle(clip.title);
      if (clip.date !== undefined && clip.date !== '') out.date = parseLabelDate(clip.date, now);
    } catch (err) {
      throw invalid(`clip ${n}: ${(err as Error).message}`);
    }
    return out;
  });
  return { duration, ...(fps ? { fps } : {}), clips };
}

/** The list a set of proposed cuts makes: one clip between each pair of boundaries. */
export function fromCuts(duration: number, cuts: number[], fps?: number): CutList {
  const points = [...new Set(cuts.map((t) => snap(t, fps)))]
    .filter((t) => t > 0 && t < duration)
    .sort((a, b) => a - b);
  const edges = [0, ...points, duration];
  const clips: Clip[] = [];
  for (let i = 0; i < edges.length - 1; i++) {
    const start = edges[i]!;
    const end = edges[i + 1]!;
    // A sliver between two cuts close together joins the clip before it.
    if (end - start < MIN_CLIP_SECONDS && clips.length) clips[clips.length - 1]!.end = end;
    else clips.push({ start, end });
  }
  // A first sliver (a cut just after the start) joins the clip after it.
  if (clips.length > 1 && clips[0]!.end - clips[0]!.start < MIN_CLIP_SECONDS) {
    clips[1]!.start = 0;
    clips.shift();
  }
  return checkCutList({ duration, ...(fps ? { fps } : {}), clips });
}

function clipAt(list: CutList, index: number): Clip {
  const clip = list.clips[index];
  if (!clip) throw invalid(`there is no clip ${index + 1}`);
  return clip;
}

function withClips(list: CutList, clips: Clip[]): CutList {
  return checkCutList({ ...list, clips });
}

/**
 * Clip `index`'s start or end moved to `t` (snapped to a frame). A boundary the clip shares
 * with its neighbour moves for both, as a person dragging the line between two clips means.
 */
export function moveEdge(list: CutList, index: number, edge: 'start' | 'end', t: number): CutList {
  const clip = clipAt(list, index);
  const at = snap(t, list.fps);
  const clips = list.clips.map((c) => ({ ...c }));
  const neighbour = edge === 'start' ? index - 1 : index + 1;
  const shared =
    clips[neighbour] &&
    Math.abs((edge === 'start' ? clips[neighbour]!.end : clips[neighbour]!.start) - clip[edge]) <
      1e-6;
  clips[index]![edge] = at;
  if (shared) clips[neighbour]![edge === 'start' ? 'end' : 'start'] = at;
  return withClips(list, clips);
}

/** Clip `index` cut in two at `t`; the second half keeps the date, not the title. */
export function split(list: CutList, index: number, t: number): CutList {
  const clip = clipAt(list, index);
  const at = snap(t, list.fps);
  if (!(at > clip.start && at < clip.end)) {
    throw invalid(
      `${clock(at)} is not inside clip ${index + 1} (${clock(clip.start)} to ${clock(clip.end)})`,
    );
  }
  const second: Clip = { start: at, end: clip.end, ...(clip.date ? { date: clip.date } : {}) };
  const clips = [...list.clips];
  clips.splice(index, 1, { ...clip, end: at }, second);
  return withClips(list, clips);
}

/** Clip `index` and the one after it made one, over the gap between them if any. */
export function merge(list: CutList, index: number): CutList {
  const first = clipAt(list, index);
  const next = clipAt(list, index + 1);
  const merged: Clip = { start: first.start, end: next.end };
  const title = first.title ?? next.title;
  const date = first.date ?? next.date;
  if (title) merged.title = title;
  if (date) merged.date = date;
  const clips = [...list.clips];
  clips.splice(index, 2, merged);
  return withClips(list, clips);
}

/** Clip `index` left out: its stretch of tape becomes a gap (the master keeps it). */
export function remove(list: CutList, index: number): CutList {
  clipAt(list, index);
  return withClips(
    list,
    list.clips.filter((_, i) => i !== index),
  );
}

/** Clip `index` with a new title and date; an empty string clears one. */
export function label(
  list: CutList,
  index: number,
  change: { title?: string; date?: string },
): CutList {
  const clip = { ...clipAt(list, index) };
  for (const key of ['title', 'date'] as const) {
    if (change[key] === undefined) continue;
    if (change[key] === '') delete clip[key];
    else clip[key] = change[key];
  }
  const clips = [...list.clips];
  clips[index] = clip;
  return withClips(list, clips);
}

/** The clips as chapters of a copy of the whole tape; an untitled clip is "Clip 3". */
export function chaptersOf(list: CutList): LabelChapter[] {
  return list.clips.map((c, i) => ({
    start: c.start,
    end: c.end,
    title: c.title ?? `Clip ${i + 1}`,
  }));
}
