import { describe, expect, it } from 'vitest';
import {
  MAX_CLIPS,
  checkCutList,
  clock,
  fromCuts,
  label,
  merge,
  moveEdge,
  remove,
  snap,
  split,
  type CutList,
} from './cut-list';

const PAL = 25;
const tape = (clips: CutList['clips'], duration = 600): CutList => ({ duration, fps: PAL, clips });
const spans = (list: CutList) => list.clips.map((c) => [c.start, c.end]);

describe('clock and snap', () => {
  it.each([
    [0, '0:00'],
    [75.5, '1:15.5'],
    [4275.04, '1:11:15.04'],
    [3600, '1:00:00'],
  ])('%s s reads %s', (s, text) => expect(clock(s)).toBe(text));

  it('snaps to the nearest frame, or to the millisecond without a rate', () => {
    expect(snap(10.019, 25)).toBe(10); // frame 250
    expect(snap(10.03, 25)).toBeCloseTo(10.04, 9);
    expect(snap(1.0001, 30000 / 1001)).toBeCloseTo(30 / (30000 / 1001), 9);
    expect(snap(1.23456, undefined)).toBe(1.235);
  });
});

describe('fromCuts', () => {
  it('makes one clip between each pair of boundaries, sorted and deduplicated', () => {
    expect(spans(fromCuts(60, [40, 20, 20, 0, 60, 75], PAL))).toEqual([
      [0, 20],
      [20, 40],
      [40, 60],
    ]);
  });

  it('folds slivers between close cuts into a neighbour instead of making a 0.2 s clip', () => {
    expect(spans(fromCuts(60, [0.2, 30, 30.2], PAL))).toEqual([
      [0, 30.2],
      [30.2, 60],
    ]);
  });

  it('gives one whole clip for a tape with no cuts', () => {
    expect(spans(fromCuts(12.5, []))).toEqual([[0, 12.5]]);
  });
});

describe('checkCutList refuses what cannot be cut, in words', () => {
  it.each<[string, CutList, RegExp]>([
    [
      'past the end',
      tape([{ start: 500, end: 700 }]),
      /clip 1 ends at 11:40, after the tape ends \(10:00\)/,
    ],
    ['before the start', tape([{ start: -1, end: 5 }]), /clip 1 starts before the tape does/],
    [
      'overlapping',
      tape([
        { start: 0, end: 30 },
        { start: 20, end: 40 },
      ]),
      /clip 2 starts at 0:20, inside clip 1/,
    ],
    [
      'out of order',
      tape([
        { start: 30, end: 40 },
        { start: 0, end: 10 },
      ]),
      /time order/,
    ],
    ['too short', tape([{ start: 1, end: 1.2 }]), /shorter than 0.5 s/],
    ['not a number', tape([{ start: Number.NaN, end: 3 }]), /no start or end/],
    ['no length', tape([], 0), /no length/],
    [
      'bad date',
      tape([{ start: 0, end: 5, date: '1989-13-40' }]),
      /clip 1: "1989-13-40" is not a date/,
    ],
    [
      'bad title',
      tape([{ start: 0, end: 5, title: 'a\nb' }]),
      /clip 1: a title cannot hold line breaks/,
    ],
  ])('%s', (_, list, message) => {
    expect(() => checkCutList(list)).toThrow(message);
    try {
      checkCutList(list);
    } catch (err) {
      expect((err as { code: string }).code).toBe('CUT_LIST_INVALID');
    }
  });

  it('refuses more clips than a tape holds', () => {
    const clips = Array.from({ length: MAX_CLIPS + 1 }, (_, i) => ({ start: i, end: i + 1 }));
    expect(() => checkCutList(tape(clips, MAX_CLIPS + 1))).toThrow(/at most 2000 clips/);
  });

  it('keeps gaps (parts left out) and normalises titles and dates', () => {
    const out = checkCutList(
      tape([
        { start: 0, end: 10, title: '  Christmas 1989 ', date: '1989-12-24' },
        { start: 20, end: 30, title: '' },
      ]),
    );
    expect(out.clips).toEqual([
      { start: 0, end: 10, title: 'Christmas 1989', date: '1989-12-24' },
      { start: 20, end: 30 },
    ]);
  });
});

describe('edits', () => {
  const base = fromCuts(120, [30, 60, 90], PAL); // four clips of 30 s

  it('moves a shared boundary for both clips, snapped to a frame', () => {
    const out = moveEdge(base, 1, 'start', 25.013);
    expect(spans(out).slice(0, 2)).toEqual([
      [0, 25],
      [25, 60],
    ]);
    const later = moveEdge(base, 0, 'end', 33.33);
    expect(later.clips[0]!.end).toBeCloseTo(33.32, 9);
    expect(later.clips[1]!.start).toBeCloseTo(33.32, 9);
  });

  it('moves only its own edge when the neighbour is across a gap', () => {
    const gapped = remove(base, 1); // 0-30, 60-90, 90-120
    const out = moveEdge(gapped, 1, 'start', 50);
    expect(spans(out)).toEqual([
      [0, 30],
      [50, 90],
      [90, 120],
    ]);
  });

  it('refuses a move past the neighbour’s far edge or the tape’s end', () => {
    expect(() => moveEdge(base, 0, 'end', 61)).toThrow(/clip 2 .* shorter|inside|time order/);
    expect(() => moveEdge(base, 3, 'end', 121)).toThrow(/after the tape ends/);
  });

  it('splits a clip; the second half keeps the date, not the title', () => {
    const named = label(base, 0, { title: 'Birthday', date: '1990-05-01' });
    const out = split(named, 0, 12);
    expect(out.clips.slice(0, 2)).toEqual([
      { start: 0, end: 12, title: 'Birthday', date: '1990-05-01' },
      { start: 12, end: 30, date: '1990-05-01' },
    ]);
    expect(() => split(base, 0, 30)).toThrow(/not inside clip 1/);
  });

  it('merges a clip with the next, over a gap, keeping the first title', () => {
    const gapped = label(remove(base, 1), 1, { title: 'School play' }); // 0-30, 60-90*, 90-120
    const out = merge(gapped, 0);
    expect(out.clips[0]).toEqual({ start: 0, end: 90, title: 'School play' });
    expect(() => merge(base, 3)).toThrow(/no clip 5/);
  });

  it('labels and clears labels', () => {
    const named = label(base, 2, { title: 'Holiday', date: '1991-08-10' });
    expect(named.clips[2]).toMatchObject({ title: 'Holiday', date: '1991-08-10' });
    const cleared = label(named, 2, { title: '' });
    expect(cleared.clips[2]).toEqual({ start: 60, end: 90, date: '1991-08-10' });
  });

  it('leaves the list it was given unchanged', () => {
    const before = JSON.stringify(base);
    moveEdge(base, 1, 'start', 20);
    split(base, 2, 70);
    merge(base, 0);
    remove(base, 3);
    label(base, 0, { title: 'x' });
    expect(JSON.stringify(base)).toBe(before);
  });
});
