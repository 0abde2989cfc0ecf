import { describe, expect, it } from 'vitest';
import { RetryBudget } from './retry-budget';

describe('RetryBudget', () => {
  it('allows retries up to the ratio of requests plus what time refills', () => {
    let now = 0;
    const budget = new RetryBudget({ ratio: 0.2, minPerSecond: 1, capacity: 2 }, () => now);
    expect(budget.tryWithdraw()).toBe(true);
    expect(budget.tryWithdraw()).toBe(true);
    expect(budget.tryWithdraw()).toBe(false);
    for (let i = 0; i < 4; i += 1) budget.deposit();
    expect(budget.tryWithdraw()).toBe(false); // 0.8 tokens
    budget.deposit();
    expect(budget.tryWithdraw()).toBe(true); // 1.0
    expect(budget.tryWithdraw()).toBe(false);
    now += 1500;
    expect(budget.tryWithdraw()).toBe(true);
    expect(budget.tryWithdraw()).toBe(false);
  });

  it('never saves up more than its capacity', () => {
    let now = 0;
    const budget = new RetryBudget({ ratio: 1, minPerSecond: 1, capacity: 3 }, () => now);
    for (let i = 0; i < 100; i += 1) budget.deposit();
    now += 60_000;
    const granted = Array.from({ length: 10 }, () => budget.tryWithdraw()).filter(Boolean);
    expect(granted).toHaveLength(3);
  });
});
