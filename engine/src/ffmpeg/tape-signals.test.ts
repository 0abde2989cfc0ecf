import { describe, expect, it } from 'vitest';
import { SignalCollector } from './tape-signals';

const PRINTED = `frame:0    pts:902     pts_time:1.4
timecode=00:00:00:00
lavfi.scd.mafd=0.000
lavfi.scd.score=0.000
frame:0    pts:902     pts_time:1.4
lavfi.idet.multiple.tff=1.00
lavfi.idet.multiple.bff=0.00
lavfi.idet.multiple.progressive=0.00
lavfi.idet.multiple.undetermined=0.00
frame:0    pts:902     pts_time:1.4
lavfi.cropdetect.x1=4
lavfi.cropdetect.w=712
lavfi.cropdetect.h=568
lavfi.cropdetect.x=4
lavfi.cropdetect.y=0
frame:200  pts:720902  pts_time:9.4
lavfi.scd.mafd=40.1
lavfi.scd.score=33.5
lavfi.scd.time=9.4
lavfi.black_start=9.4
frame:0    pts:0       pts_time:0
lavfi.silence_start=8
frame:1    pts:48000   pts_time:1
lavfi.astats.Overall.Peak_level=-0.000000
lavfi.astats.Overall.Peak_count=12.000000
frame:250  pts:900902  pts_time:11.4
lavfi.scd.score=0.1
lavfi.black_end=11.4
frame:10   pts:0       pts_time:10
lavfi.silence_end=10
lavfi.silence_duration=2
frame:12   pts:0       pts_time:12
lavfi.signalstats.YAVG=16.2
lavfi.signalstats.TOUT=0.02
`;

describe('SignalCollector', () => {
  it('reads every printer, whatever the chunks', () => {
    for (const size of [1, 7, 64, PRINTED.length]) {
      const c = new SignalCollector();
      for (let i = 0; i < PRINTED.length; i += size) c.push(PRINTED.slice(i, i + size));
      const s = c.end(30);
      expect(s.fields).toEqual({ tff: 1, bff: 0, progressive: 0, undetermined: 0 });
      expect(s.crops).toEqual([{ width: 712, height: 568, x: 4, y: 0 }]);
      expect(s.scenes).toEqual([{ at: 9.4, score: 33.5 }]);
      expect(s.black).toEqual([{ start: 9.4, end: 11.4 }]);
      expect(s.silence).toEqual([{ start: 8, end: 10 }]);
      expect(s.frameTimes).toEqual([1.4, 9.4, 11.4]);
      expect(s.sound).toEqual([{ at: 1, peak: -0, peakCount: 12 }]);
      expect(s.pictures).toEqual([{ at: 12, tout: 0.02 }]);
      expect(s).toMatchObject({ firstVideo: 1.4, firstAudio: 1 });
    }
  });

  it('reads the layout scdet as scene changes only, not as frames', () => {
    const signals = new SignalCollector().end(30);
    const layout = new SignalCollector(signals, 'layout');
    layout.push('frame:200 pts:720902 pts_time:9.4\nlavfi.scd.mafd=60\nlavfi.scd.score=46.2\n');
    layout.push('lavfi.scd.time=9.4\n');
    expect(layout.end(30)).toMatchObject({
      scenes: [{ at: 9.4, score: 46.2, layout: true }],
      frameTimes: [],
    });
    expect(signals.firstVideo).toBeUndefined();
  });

  it('closes a black or silent stretch still open at the end', () => {
    const c = new SignalCollector();
    c.push('frame:0 pts:0 pts_time:5\nlavfi.scd.score=1\nlavfi.black_start=5\n');
    c.push('frame:0 pts:0 pts_time:6\nlavfi.silence_start=6\n');
    expect(c.end(20)).toMatchObject({
      black: [{ start: 5, end: 20 }],
      silence: [{ start: 6, end: 20 }],
    });
  });
});
