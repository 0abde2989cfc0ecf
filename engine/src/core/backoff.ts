// The one exponential backoff: the wait before try `attempt` (1 for the first retry) is
// `baseMs` doubled per attempt, capped at `maxMs`. Full jitter spreads many clients that
// failed at once (the proxy's retries of one upstream) over the whole window, so they do
// not come back in step; a single waiter (the worker, a remote job's polls) needs none.

export interface BackoffOptions {
  /** The wait before the first retry. */
  baseMs: number;
  /** The longest wait, however many attempts failed. */
  maxMs: number;
  /** 'full': a random wait in [0, the capped wait). Default: none. */
  jitter?: 'full';
}

/** Milliseconds to wait before try `attempt` (≤ 1 waits `baseMs`). */
export function backoff(
  attempt: number,
  { baseMs, maxMs, jitter }: BackoffOptions,
  random: () => number = Math.random,
): number {
  // 2 ** a large count is Infinity, which Math.min caps like any other number.
  const cap = Math.min(maxMs, baseMs * 2 ** Math.max(0, attempt - 1));
  return jitter === 'full' ? random() * cap : cap;
}
