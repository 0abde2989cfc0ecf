// The goal estimate's arithmetic: defaults when nothing was measured, this machine's own
// speed and output size once jobs have run, and the margin asked of the free room.

import { describe, expect, it } from 'vitest';
import { DEFAULT_RATES, enoughRoom, estimateSteps, ratesFrom } from './goal-estimate';
import { getGoal } from './goals';

const tape = { kind: 'video', durationSeconds: 3600, width: 720, height: 576 };

describe('goal estimate', () => {
  it('uses the conservative defaults when nothing was measured', () => {
    const e = estimateSteps(getGoal('watch-copy').steps, [tape], new Map());
    // web-h264's default: real time on an SD picture, 2 Mbit/s.
    expect(e).toEqual({ seconds: 3600, bytes: 900_000_000, unknownItems: 0, measured: false });
  });

  it("scales this machine's measured speed and size by picture size and length", () => {
    // A 10 s HD clip encoded at 2× real time into 5 MB.
    const runs = [
      {
        preset: 'web-h264',
        speed: 2,
        outputBytes: 5_000_000,
        item: { kind: 'video', durationSeconds: 10, width: 1280, height: 720 },
      },
    ];
    const e = estimateSteps(getGoal('watch-copy').steps, [tape], ratesFrom(runs));
    expect(e.measured).toBe(true);
    // Per pixel-second the SD hour is 0.45× the clip's 2× speed: 3600 / (2 × 921600 / 414720).
    expect(e.seconds).toBe(810);
    expect(e.bytes).toBe(Math.round((5_000_000 / (10 * 1280 * 720)) * 3600 * 720 * 576));
  });

  it('counts items with no known length apart, and photos per photo', () => {
    const e = estimateSteps(
      getGoal('share-photos').steps,
      [{ kind: 'photo' }, { kind: 'photo' }],
      new Map(),
    );
    expect(e.seconds).toBe(2 * DEFAULT_RATES['photo-web']!.secondsPerItem);
    const unknown = estimateSteps(getGoal('master').steps, [{ kind: 'video' }], new Map());
    expect(unknown).toMatchObject({ seconds: 0, bytes: 0, unknownItems: 1 });
  });

  it('runs the jobs as the queue does: in order, as many at once as it runs', () => {
    const steps = getGoal('preserve-tape').steps;
    // Defaults on an SD hour: restore 7,200 s, exact master 2,400 s, watchable copy 3,600 s.
    const alone = estimateSteps(steps, [tape], new Map());
    expect(alone.seconds).toBe(13_200);
    expect(estimateSteps(steps, [tape], new Map(), 1).seconds).toBe(13_200);
    // Two at once: the master and then the copy run beside the restore.
    expect(estimateSteps(steps, [tape], new Map(), 2)).toEqual({ ...alone, seconds: 7_200 });
    // Two tapes, two places: the second tape's jobs take whichever place frees up first.
    expect(estimateSteps(steps, [tape, tape], new Map(), 2).seconds).toBe(13_200);
    // More places than jobs: the longest job is the time.
    expect(estimateSteps(steps, [tape], new Map(), 8).seconds).toBe(7_200);
    const photos = Array.from({ length: 10 }, () => ({ kind: 'photo' }));
    const shared = estimateSteps(getGoal('share-photos').steps, photos, new Map(), 2);
    expect(shared.seconds).toBe(5 * DEFAULT_RATES['photo-web']!.secondsPerItem);
    // Room does not depend on how the jobs run.
    expect(shared.bytes).toBe(10 * DEFAULT_RATES['photo-web']!.bytesPerItem);
  });

  it('asks for a quarter more room than the estimate', () => {
    expect(enoughRoom(100, 125)).toBe(true);
    expect(enoughRoom(100, 124)).toBe(false);
  });
});
