// A retry budget: retries may add at most a fraction of the request load, plus a small
// floor that refills with time. Per-request retry limits alone let an outage multiply
// the load on a struggling upstream; a shared budget caps the whole process.

export interface RetryBudgetOptions {
  /** Retry tokens earned per first attempt (default 0.2: retries ≤ 20 % of requests). */
  ratio?: number;
  /** Tokens refilled per second regardless of traffic, so a quiet proxy can still retry (default 1). */
  minPerSecond?: number;
  /** Most tokens that can be saved up, and the starting balance (default 10). */
  capacity?: number;
}

export class RetryBudget {
  private readonly ratio: number;
  private readonly minPerSecond: number;
  private readonly capacity: number;
  private tokens: number;
  private refilledAt: number;

  constructor(
    options: RetryBudgetOptions = {},
    private readonly now: () => number = Date.now,
  ) {
    this.ratio = options.ratio ?? 0.2;
    this.minPerSecond = options.minPerSecond ?? 1;
    this.capacity = options.capacity ?? 10;
    this.tokens = this.capacity;
    this.refilledAt = now();
  }

  /** A first attempt was made: it earns a fraction of a retry. */
  deposit(): void {
    this.refill();
    this.tokens = Math.min(this.capacity, this.tokens + this.ratio);
  }

  /** Takes one retry from the budget; false when it is spent. */
  tryWithdraw(): boolean {
    this.refill();
    if (this.tokens < 1) return false;
    this.tokens -= 1;
    return true;
  }

  private refill(): void {
    const now = this.now();
    const seconds = Math.max(0, now - this.refilledAt) / 1000;
    this.refilledAt = now;
    this.tokens = Math.min(this.capacity, this.tokens + seconds * this.minPerSecond);
  }
}
