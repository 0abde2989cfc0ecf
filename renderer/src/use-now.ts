// The time, for what a screen says about it ("Starting…" for a job's first seconds): a
// render may not read the clock itself (it must give the same answer twice), so the clock
// is state, ticking while something on screen depends on it.
import { useEffect, useState } from 'react';

/** Date.now(), updated every `everyMs` while that is set; frozen while it is undefined. */
export function useNow(everyMs: number | undefined): number {
  const [now, setNow] = useState(() => Date.now());
  useEffect(() => {
    if (everyMs === undefined) return;
    const timer = setInterval(() => setNow(Date.now()), everyMs);
    return () => clearInterval(timer);
  }, [everyMs]);
  return now;
}
