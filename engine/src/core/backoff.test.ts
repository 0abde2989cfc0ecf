import { describe, expect, it } from 'vitest';
import { backoff } from './backoff';

describe('backoff', () => {
  it('doubles from the base per attempt up to the cap', () => {
    const o = { baseMs: 500, maxMs: 10_000 };
    expect([1, 2, 3, 4, 5, 6, 7].map((n) => backoff(n, o))).toEqual([
      500, 1000, 2000, 4000, 8000, 10_000, 10_000,
    ]);
  });

  it('waits the base for attempt 0 or less, and stays capped however many attempts failed', () => {
    const o = { baseMs: 2000, maxMs: 60_000 };
    expect(backoff(0, o)).toBe(2000);
    expect(backoff(-3, o)).toBe(2000);
    expect(backoff(5000, o)).toBe(60_000);
  });

  it('with full jitter, waits a random share of the capped wait', () => {
    const o = { baseMs: 100, maxMs: 2000, jitter: 'full' as const };
    expect(backoff(3, o, () => 0)).toBe(0);
    expect(backoff(3, o, () => 0.5)).toBe(200);
    expect(backoff(10, o, () => 0.999)).toBeCloseTo(1998);
    for (let i = 0; i < 200; i += 1) {
      const ms = backoff(4, o);
      expect(ms).toBeGreaterThanOrEqual(0);
      expect(ms).toBeLessThan(800);
    }
  });
});
