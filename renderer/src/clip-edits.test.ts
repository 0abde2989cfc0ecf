import { describe, expect, it } from 'vitest';
import {
  ClipEditError,
  clipAt,
  clock,
  fromCuts,
  fromSuggestions,
  joinNext,
  moveEdge,
  recordedAt,
  relabel,
  removeClip,
  snap,
  split,
  wholeTape,
} from './clip-edits';

describe('clip edits in the viewer', () => {
  const three = () =>
    split(split(wholeTape(15), 0, 5.01, 25), 1, 10, 25).map((c, i) =>
      i === 1 ? { ...c, title: 'Presents', date: '1994-12-25' } : c,
    );

  it('reads places on the tape as a clock and snaps them to frames', () => {
    expect(clock(0)).toBe('0:00');
    expect(clock(5.08)).toBe('0:05.08');
    expect(clock(4275.5)).toBe('1:11:15.50');
    expect(snap(5.13, 25)).toBe(5.12);
    expect(snap(1.23456, undefined)).toBe(1.235);
  });

  it('splits at a frame, the second part keeping the date and not the title', () => {
    expect(three()).toEqual([
      { start: 0, end: 5 },
      { start: 5, end: 10, title: 'Presents', date: '1994-12-25' },
      { start: 10, end: 15 },
    ]);
    const again = split(three(), 1, 7, 25);
    expect(again[2]).toEqual({ start: 7, end: 10, date: '1994-12-25' });
    expect(() => split(three(), 0, 5.2, 25)).toThrow(ClipEditError);
    expect(() => split(three(), 0, 4.8, 25)).toThrow(/too close/);
  });

  it('moves a shared boundary for both clips, and refuses a move that breaks the order', () => {
    const moved = moveEdge(three(), 1, 'start', 5.08, 25);
    expect(moved.slice(0, 2).map((c) => [c.start, c.end])).toEqual([
      [0, 5.08],
      [5.08, 10],
    ]);
    expect(() => moveEdge(three(), 1, 'start', 9.8, 25)).toThrow(/too short|start at or after/);
    expect(() => moveEdge(three(), 0, 'end', 0.2, 25)).toThrow(/end at or before/);
    // A gap left by a removed clip: an end moved into the next clip is refused.
    const gapped = removeClip(three(), 1);
    expect(() => moveEdge(gapped, 0, 'end', 11, 25)).toThrow(/overlap/);
    expect(moveEdge(gapped, 0, 'end', 7, 25)[0]).toEqual({ start: 0, end: 7 });
  });

  it('joins, removes and names clips', () => {
    expect(joinNext(three(), 0)).toEqual([
      { start: 0, end: 10, title: 'Presents', date: '1994-12-25' },
      { start: 10, end: 15 },
    ]);
    expect(() => joinNext(three(), 2)).toThrow(/no clip after/);
    expect(removeClip(three(), 1).map((c) => c.start)).toEqual([0, 10]);
    expect(relabel(three(), 1, { title: '' })[1]).toEqual({
      start: 5,
      end: 10,
      date: '1994-12-25',
    });
    expect(relabel(three(), 0, { date: '1994' })[0]).toEqual({ start: 0, end: 5, date: '1994' });
  });

  it('finds the clip playing, and makes clips from proposed cuts', () => {
    expect(clipAt(three(), 0)).toBe(0);
    expect(clipAt(three(), 7.3)).toBe(1);
    expect(clipAt(removeClip(three(), 1), 7.3)).toBe(0);
    expect(fromCuts(15, [10.01, 5, 5.1], 25).map((c) => [c.start, c.end])).toEqual([
      [0, 5.08],
      [5.08, 10],
      [10, 15],
    ]);
    // A cut after a black gap: the clip before it ends where the black begins.
    expect(
      fromSuggestions(15, [{ at: 6, gap: { start: 5, end: 6 } }, { at: 10 }], 25).map((c) => [
        c.start,
        c.end,
      ]),
    ).toEqual([
      [0, 5],
      [6, 10],
      [10, 15],
    ]);
  });

  it("dates clips of a DV tape by the camera's clock at their start", () => {
    const recordings = [
      { at: 2, recorded: '1994-07-01T10:00:00' },
      { at: 8, recorded: '1994-12-24T18:30:00' },
    ];
    const clips = fromSuggestions(15, [{ at: 2 }, { at: 5 }, { at: 8 }], 25, recordings);
    expect(clips.map((c) => [c.start, c.date])).toEqual([
      [0, undefined], // before the first dated frame
      [2, '1994-07-01 10:00'],
      [5, '1994-07-01 10:00'], // three seconds on
      [8, '1994-12-24 18:30'],
    ]);
    expect(recordedAt(recordings, 8 + 90)).toBe('1994-12-24 18:31');
    expect(recordedAt([{ at: 0, recorded: '2999-01-01T00:00:00' }], 1)).toBeUndefined();
    expect(fromSuggestions(15, [{ at: 8 }], 25)[1]!.date).toBeUndefined();
  });
});
