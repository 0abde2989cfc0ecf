import { describe, expect, it } from 'vitest';
import { downloadPercent, remotePhase, uploadPercent, workPercent } from './remote-progress';

describe('remote progress', () => {
  it.each([
    // bar %, step, how far that step is
    [0, 'uploading', 0],
    [4, 'uploading', 40],
    [9.99, 'uploading', 99.9],
    [10, 'working', 0],
    [52.5, 'working', 50],
    [94.15, 'working', 99],
    [95, 'downloading', 0],
    [97.5, 'downloading', 50],
    [100, 'downloading', 100],
  ] as const)('bar at %s %%: %s, that step at %s %%', (bar, phase, percent) => {
    const got = remotePhase(bar);
    expect(got.phase).toBe(phase);
    expect(got.percent).toBeCloseTo(percent, 5);
  });

  it('reads back each step the bar was written with', () => {
    expect(remotePhase(uploadPercent(400, 1000))).toEqual({ phase: 'uploading', percent: 40 });
    expect(remotePhase(workPercent(30)).phase).toBe('working');
    expect(remotePhase(workPercent(30)).percent).toBeCloseTo(30, 5);
    expect(remotePhase(downloadPercent(1, 2))).toEqual({ phase: 'downloading', percent: 50 });
    // A finished upload is the server's work at 0 %, not an upload at 100 %.
    expect(remotePhase(uploadPercent(1000, 1000))).toEqual({ phase: 'working', percent: 0 });
  });

  it('never goes past its step, whatever it is told', () => {
    expect(uploadPercent(2000, 1000)).toBe(10);
    expect(uploadPercent(5, 0)).toBe(0);
    expect(workPercent(140)).toBe(95);
    expect(workPercent(-3)).toBe(10);
  });
});
