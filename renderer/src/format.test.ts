import { describe, expect, it } from 'vitest';
import {
  formatBytes,
  formatClock,
  formatEta,
  formatFps,
  formatPercent,
  formatSpeed,
  overallEta,
} from './format';

describe('formatBytes', () => {
  it.each([
    [0, '0 B'],
    [999, '999 B'],
    [1000, '1.0 KB'],
    [1536, '1.5 KB'],
    [999_499, '999 KB'],
    [999_500, '1.0 MB'],
    [9_960, '10 KB'],
    [12_345_678, '12 MB'],
    [4.2e9, '4.2 GB'],
    [3e15, '3.0 PB'],
  ])('%d → %s', (bytes, text) => {
    expect(formatBytes(bytes)).toBe(text);
  });

  it('refuses nonsense', () => {
    expect(formatBytes(-1)).toBe('—');
    expect(formatBytes(Number.NaN)).toBe('—');
  });
});

describe('durations', () => {
  it.each([
    [0, '0:00'],
    [9, '0:09'],
    [247, '4:07'],
    [3909, '1:05:09'],
    [59.6, '1:00'],
  ])('formatClock(%d) = %s', (s, text) => {
    expect(formatClock(s)).toBe(text);
  });

  it.each([
    [undefined, 'estimating…'],
    [-3, 'estimating…'],
    [12, '12 s left'],
    [150, 'about 3 min left'],
    [3600, 'about 1 h left'],
    [7500, 'about 2 h 5 min left'],
  ])('formatEta(%s) = %s', (s, text) => {
    expect(formatEta(s)).toBe(text);
  });
});

describe('rates', () => {
  it('prints speed, fps and percent compactly', () => {
    expect(formatSpeed(1.234)).toBe('1.23×');
    expect(formatSpeed(14.6)).toBe('15×');
    expect(formatSpeed(undefined)).toBe('—');
    expect(formatFps(24.97)).toBe('25 fps');
    expect(formatFps(3.21)).toBe('3.2 fps');
    expect(formatPercent(99.9)).toBe('99%');
    expect(formatPercent(140)).toBe('100%');
    expect(formatPercent(-2)).toBe('0%');
  });
});

describe('overallEta', () => {
  it('takes the longest running ETA and counts what waits', () => {
    const result = overallEta([
      { state: 'running', progress: { etaSeconds: 30 } },
      { state: 'running', progress: { etaSeconds: 90 } },
      { state: 'running' },
      { state: 'queued' },
      { state: 'queued' },
      { state: 'succeeded', progress: { etaSeconds: 500 } },
    ]);
    expect(result).toEqual({ seconds: 90, running: 3, queued: 2 });
  });

  it('has no ETA when nothing reports one', () => {
    expect(overallEta([{ state: 'queued' }]).seconds).toBeUndefined();
  });
});
