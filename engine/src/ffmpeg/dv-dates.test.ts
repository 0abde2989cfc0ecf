// The DV recording-date reader on hand-made bytes: packs as FFmpeg and camcorders write
// them, unset (0xFF) and malformed ones, frames in any split, and clocks that jump.

import { describe, expect, it } from 'vitest';
import {
  DvDateMeter,
  DvFrameReader,
  HOLD_FRAMES,
  RecordingTracker,
  readRecDate,
  readRecTime,
} from './dv-dates';

const bytes = (hex: string) => Buffer.from(hex.replace(/\s/g, ''), 'hex');
const bcd = (n: number) => Math.floor(n / 10) * 16 + (n % 10);
const datePack = (y: number, m: number, d: number) => [
  0x62,
  0xff,
  0xc0 | bcd(d),
  bcd(m),
  bcd(y % 100),
];
const timePack = (h: number, m: number, s: number) => [
  0x63,
  0xff,
  0x80 | bcd(s),
  0x80 | bcd(m),
  0xc0 | bcd(h),
];

interface FrameSpec {
  vaux?: number[][];
  subcode?: number[][];
  ntsc?: boolean;
}

/** A whole DV25 frame: header, subcode, VAUX, then audio and video blocks (zeros). */
function frame(spec: FrameSpec = {}): Buffer {
  const sequences = spec.ntsc ? 10 : 12;
  const out = Buffer.alloc(sequences * 150 * 80);
  for (let s = 0; s < sequences; s++) {
    const seq = s * 150 * 80;
    out.set([0x1f, (s << 4) | 0x07, 0x00, spec.ntsc ? 0x3f : 0xbf], seq);
    for (let b = 1; b < 150; b++) {
      const at = seq + b * 80;
      if (b <= 2) {
        out[at] = 0x3f;
        out.fill(0xff, at + 3, at + 80);
        (spec.subcode ?? []).forEach((pack, i) => out.set(pack, at + 3 + i * 8 + 3));
      } else if (b <= 5) {
        out[at] = 0x5f;
        out.fill(0xff, at + 3, at + 80);
        (spec.vaux ?? []).forEach((pack, i) => out.set(pack, at + 3 + i * 5));
      } else {
        out[at] = b % 16 === 6 ? 0x7f : 0x9f;
      }
    }
  }
  return out;
}

/** Frames read in chunks of `chunk` bytes: [seconds into the tape, clock text or undefined]. */
function read(frames: Buffer[], chunk: number): [number, string | undefined][] {
  const seen: [number, string | undefined][] = [];
  const reader = new DvFrameReader((at, clock) =>
    seen.push([at, clock === undefined ? undefined : new Date(clock * 1000).toISOString()]),
  );
  const all = Buffer.concat(frames);
  for (let i = 0; i < all.length; i += chunk) reader.push(all.subarray(i, i + chunk));
  reader.end();
  return seen;
}

describe('the rec date and rec time packs', () => {
  it('reads what FFmpeg writes for 1994-07-01 10:00:00', () => {
    expect(readRecDate(bytes('62ffc10794'))).toEqual({ year: 1994, month: 7, day: 1 });
    expect(readRecTime(bytes('63ff8080d0'))).toEqual({ hours: 10, minutes: 0, seconds: 0 });
  });

  it('reads a pack at an offset, and years past 2000', () => {
    const buf = Buffer.from([0, 0, ...datePack(2004, 12, 24), ...timePack(18, 30, 59)]);
    expect(readRecDate(buf, 2)).toEqual({ year: 2004, month: 12, day: 24 });
    expect(readRecTime(buf, 7)).toEqual({ hours: 18, minutes: 30, seconds: 59 });
  });

  it('takes no date from unset (0xFF) packs', () => {
    expect(readRecDate(bytes('62ffffffff'))).toBeUndefined();
    expect(readRecTime(bytes('63ffffffff'))).toBeUndefined();
    expect(readRecDate(bytes('ffffffffff'))).toBeUndefined();
  });

  it('takes no date from malformed ones', () => {
    expect(readRecDate(bytes('63ffc10794')), 'another pack').toBeUndefined();
    expect(readRecDate(bytes('62ffc11394')), 'month 13').toBeUndefined();
    expect(readRecDate(bytes('62ffc00794')), 'day 0').toBeUndefined();
    expect(readRecDate(bytes('62fff10494')), '31 April').toBeUndefined();
    expect(readRecDate(bytes('62ffc107a4')), 'a year digit over 9').toBeUndefined();
    expect(readRecDate(bytes('62ffc107')), 'cut short').toBeUndefined();
    expect(readRecTime(bytes('63ff8080e4')), 'hour 24').toBeUndefined();
    expect(readRecTime(bytes('63ffe08080')), 'second 60').toBeUndefined();
    expect(readRecTime(bytes('63ff8a8080')), 'a digit over 9').toBeUndefined();
  });
});

describe('DvFrameReader', () => {
  const dated = (s: number) => ({
    vaux: [datePack(1994, 7, 1), timePack(10, 0, s)],
  });

  it('reports each frame with its clock, in any split of the bytes', () => {
    const frames = [frame(dated(0)), frame(dated(0)), frame(), frame(dated(1))];
    const want = [
      [0, '1994-07-01T10:00:00.000Z'],
      [0.04, '1994-07-01T10:00:00.000Z'],
      [0.08, undefined],
      [0.12, '1994-07-01T10:00:01.000Z'],
    ];
    for (const chunk of [1, 79, 81, 7777, 144_000, 1_000_000]) {
      expect(read(frames, chunk), `chunks of ${chunk}`).toEqual(want);
    }
  });

  it('prefers the VAUX, falls back on the subcode, and needs both date and time', () => {
    const subcode = [datePack(2001, 1, 2), timePack(3, 4, 5)];
    const seen = read(
      [
        frame({ vaux: [datePack(1999, 5, 6), timePack(7, 8, 9)], subcode }),
        frame({ subcode }),
        frame({ vaux: [datePack(1999, 5, 6)] }),
      ],
      10_000,
    );
    expect(seen.map(([, c]) => c)).toEqual([
      '1999-05-06T07:08:09.000Z',
      '2001-01-02T03:04:05.000Z',
      undefined,
    ]);
  });

  it('times NTSC frames at 30000/1001', () => {
    const seen = read([frame({ ntsc: true }), frame({ ntsc: true })], 50_000);
    expect(seen[1]![0]).toBeCloseTo(1001 / 30000, 9);
  });
});

describe('RecordingTracker', () => {
  const base = Date.UTC(1994, 6, 1, 10, 0, 0) / 1000;
  /** `seconds` of frames at 25 a second from tape time `from`, the clock from `clock`. */
  function feed(t: RecordingTracker, from: number, seconds: number, clock: number | undefined) {
    for (let i = 0; i < seconds * 25; i++) {
      const at = from + i / 25;
      t.add(at, clock === undefined ? undefined : Math.floor(clock + i / 25));
    }
  }

  it('one steady clock is one recording', () => {
    const t = new RecordingTracker();
    feed(t, 0, 8, base);
    expect(t.recordings()).toEqual([{ at: 0, recorded: '1994-07-01T10:00:00' }]);
  });

  it('a clock that jumps forward or back starts a new recording', () => {
    const t = new RecordingTracker();
    feed(t, 0, 4, base);
    feed(t, 4, 4, base + 60); // stopped for 56 s
    feed(t, 8, 4, base - 3600); // the clock set back an hour and a minute and 8 s of tape
    const found = t.recordings();
    expect(found.map((r) => [r.at, r.recorded])).toEqual([
      [0, '1994-07-01T10:00:00'],
      [4, '1994-07-01T10:01:00'],
      [8, '1994-07-01T09:00:00'],
    ]);
    // The clock counts whole seconds: a jump is known to within one.
    expect(found[0]!.jumpSeconds).toBeUndefined();
    expect(Math.abs(found[1]!.jumpSeconds! - 56)).toBeLessThanOrEqual(1);
    expect(Math.abs(found[2]!.jumpSeconds! - -3664)).toBeLessThanOrEqual(1);
  });

  it('a frame or a few with a garbled date are not a recording', () => {
    const t = new RecordingTracker();
    feed(t, 0, 2, base);
    for (let i = 0; i < HOLD_FRAMES - 1; i++) t.add(2 + i / 25, base + 999_999);
    feed(t, 2 + (HOLD_FRAMES - 1) / 25, 2, base + 2);
    expect(t.recordings()).toHaveLength(1);
  });

  it('frames without a date neither start nor break a recording', () => {
    const t = new RecordingTracker();
    feed(t, 0, 2, undefined);
    feed(t, 2, 2, base);
    feed(t, 4, 2, undefined);
    feed(t, 6, 2, base + 4);
    expect(t.recordings()).toEqual([{ at: 2, recorded: '1994-07-01T10:00:00' }]);
  });
});

describe('DvDateMeter', () => {
  it('finds where the clock jumps in DV frames', () => {
    const meter = new DvDateMeter();
    for (let i = 0; i < 50; i++) {
      const [d, s] = i < 25 ? [datePack(1994, 7, 1), 0] : [datePack(1994, 12, 24), 0];
      meter.push(frame({ vaux: [d, timePack(i < 25 ? 10 : 18, 0, s)] }));
    }
    const found = meter.recordings();
    expect(found.map((r) => [r.at, r.recorded])).toEqual([
      [0, '1994-07-01T10:00:00'],
      [1, '1994-12-24T18:00:00'],
    ]);
    expect(found[1]!.jumpSeconds).toBeGreaterThan(86_400 * 170);
  });

  it('finds none in frames without dates', () => {
    const meter = new DvDateMeter();
    for (let i = 0; i < 10; i++) meter.push(frame());
    expect(meter.recordings()).toEqual([]);
  });
});
