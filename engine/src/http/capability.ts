// The check behind the capability links (`/play`, `/pic`, `/media`): the link's secret part
// against the one this engine would make, in constant time and failing closed. Compared as
// bytes: a link with a non-ASCII character has as many characters as the real one but more
// bytes, which `timingSafeEqual` would throw on (a 500) rather than refuse.

import { timingSafeEqual } from 'node:crypto';

/** Whether `given` is `expected`; false whenever `expected` is empty (no valid id). */
export function capabilityMatches(given: string, expected: string): boolean {
  if (expected === '') return false;
  const a = Buffer.from(given, 'utf8');
  const b = Buffer.from(expected, 'utf8');
  return a.length === b.length && timingSafeEqual(a, b);
}
