import { describe, expect, it } from 'vitest';
import { proposeCuts, type CutSignals } from './tape-cuts';

const base: CutSignals = { durationSeconds: 600, black: [], silence: [], scenes: [] };

describe('proposeCuts', () => {
  const table: {
    name: string;
    signals: Partial<CutSignals>;
    want: { at: number; reasons: string[]; min: number; max: number }[];
  }[] = [
    { name: 'nothing measured: one clip', signals: {}, want: [] },
    {
      name: 'black gap with silence under it: high, at the gap end',
      signals: { black: [{ start: 100, end: 102 }], silence: [{ start: 100.1, end: 101.9 }] },
      want: [{ at: 102, reasons: ['black', 'silence'], min: 0.85, max: 1 }],
    },
    {
      name: 'black gap with sound: likely',
      signals: { black: [{ start: 100, end: 101 }] },
      want: [{ at: 101, reasons: ['black'], min: 0.5, max: 0.7 }],
    },
    {
      name: 'lone scene change: low',
      signals: { scenes: [{ at: 200, score: 25 }] },
      want: [{ at: 200, reasons: ['scene'], min: 0.3, max: 0.5 }],
    },
    {
      name: 'a change of layout (block means) weighs from its own threshold',
      signals: { scenes: [{ at: 200, score: 21, layout: true }] },
      want: [{ at: 200, reasons: ['scene'], min: 0.3, max: 0.31 }],
    },
    {
      name: 'scene change beside a silence: likely',
      signals: { scenes: [{ at: 200, score: 25 }], silence: [{ start: 199, end: 199.8 }] },
      want: [{ at: 200, reasons: ['scene', 'silence'], min: 0.55, max: 0.8 }],
    },
    {
      name: 'scene changes at the edges and inside a gap merge into it',
      signals: {
        black: [{ start: 100, end: 103 }],
        silence: [{ start: 100, end: 103 }],
        scenes: [
          { at: 100, score: 60 },
          { at: 101.5, score: 30 },
          { at: 103, score: 60 },
        ],
      },
      want: [{ at: 103, reasons: ['black', 'silence', 'scene'], min: 0.9, max: 1 }],
    },
    {
      name: 'scene changes closer than a second are one boundary',
      signals: {
        scenes: [
          { at: 300, score: 15 },
          { at: 300.4, score: 40 },
        ],
      },
      want: [{ at: 300.4, reasons: ['scene'], min: 0.3, max: 0.6 }],
    },
    {
      name: 'a gap at the start or end trims, it separates nothing',
      signals: {
        black: [
          { start: 0, end: 2 },
          { start: 598, end: 600 },
        ],
        silence: [
          { start: 0, end: 2 },
          { start: 598, end: 600 },
        ],
        scenes: [
          { at: 1, score: 50 },
          { at: 598, score: 50 },
        ],
      },
      want: [],
    },
    {
      name: 'a silence alone is a pause in talk, not a boundary',
      signals: { silence: [{ start: 50, end: 53 }] },
      want: [],
    },
    {
      name: 'a DV clock jump of months where the picture does not change: high',
      signals: { dateJumps: [{ at: 4, seconds: 15_000_000 }] },
      want: [{ at: 4, reasons: ['recording-date'], min: 0.9, max: 1 }],
    },
    {
      name: 'a DV clock that goes back: high',
      signals: { dateJumps: [{ at: 4, seconds: -86_400 }] },
      want: [{ at: 4, reasons: ['recording-date'], min: 0.9, max: 1 }],
    },
    {
      name: 'a DV clock jump of a minute: a new shot, likely',
      signals: { dateJumps: [{ at: 120, seconds: 60 }] },
      want: [{ at: 120, reasons: ['recording-date'], min: 0.5, max: 0.7 }],
    },
    {
      name: 'a DV clock jump at a scene change is one cut, at the jump',
      signals: {
        dateJumps: [{ at: 120, seconds: 7200 }],
        scenes: [{ at: 120.4, score: 40 }],
      },
      want: [{ at: 120, reasons: ['scene', 'recording-date'], min: 0.9, max: 1 }],
    },
    {
      name: 'a DV clock jump in a black gap makes the gap surer, and stays at its end',
      signals: {
        black: [{ start: 100, end: 101 }],
        dateJumps: [{ at: 100.04, seconds: 7200 }],
      },
      want: [{ at: 101, reasons: ['black', 'recording-date'], min: 0.95, max: 1 }],
    },
    {
      name: 'a DV clock jump at the very start separates nothing',
      signals: { dateJumps: [{ at: 0.2, seconds: 7200 }] },
      want: [],
    },
  ];

  for (const row of table) {
    it(row.name, () => {
      const cuts = proposeCuts({ ...base, ...row.signals });
      expect(cuts.map((c) => ({ at: c.at, reasons: c.reasons }))).toEqual(
        row.want.map((w) => ({ at: w.at, reasons: w.reasons })),
      );
      for (const [i, w] of row.want.entries()) {
        expect(cuts[i]!.confidence).toBeGreaterThanOrEqual(w.min);
        expect(cuts[i]!.confidence).toBeLessThanOrEqual(w.max);
      }
    });
  }

  it('never proposes a cut inside a gap', () => {
    const black = [
      { start: 10, end: 14 },
      { start: 40, end: 41 },
    ];
    const scenes = [10.5, 12, 13.9, 40.2, 25].map((at) => ({ at, score: 50 }));
    const cuts = proposeCuts({ ...base, durationSeconds: 60, black, scenes });
    for (const cut of cuts) {
      expect(black.some((g) => cut.at > g.start && cut.at < g.end)).toBe(false);
    }
    expect(cuts.map((c) => c.at)).toEqual([14, 25, 41]);
    expect(cuts[0]!.gap).toEqual({ start: 10, end: 14 });
  });
});
