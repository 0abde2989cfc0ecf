import { describe, expect, it } from 'vitest';
import {
  base32Id,
  hexId,
  newClientId,
  newHexId128,
  newJobId,
  newLibraryId,
  newSaveTaskId,
  newUploadId,
  tempSuffix,
} from './ids';

describe('ids', () => {
  it('keeps the stored formats', () => {
    expect(newJobId()).toMatch(/^j[a-z2-7]{12}$/);
    expect(newUploadId()).toMatch(/^u[a-z2-7]{20}$/);
    expect(newClientId()).toMatch(/^ks_[a-z2-7]{20}$/);
    expect(newLibraryId('f')).toMatch(/^f[a-z2-7]{12}$/);
    expect(newLibraryId('m')).toMatch(/^m[a-z2-7]{12}$/);
    expect(newHexId128()).toMatch(/^[0-9a-f]{32}$/);
    expect(newSaveTaskId()).toMatch(/^s[A-Za-z0-9_-]{12}$/);
    expect(tempSuffix()).toMatch(/^[0-9a-f]{12}$/);
    expect(hexId(4)).toMatch(/^[0-9a-f]{8}$/);
  });

  it('draws every base32 letter about equally often, and never repeats an id', () => {
    const counts = new Map<string, number>();
    const seen = new Set<string>();
    for (let i = 0; i < 2000; i += 1) {
      const id = base32Id('', 16);
      seen.add(id);
      for (const c of id) counts.set(c, (counts.get(c) ?? 0) + 1);
    }
    expect(seen.size).toBe(2000);
    expect(counts.size).toBe(32);
    // 32,000 letters over 32: 1000 each expected; a biased mapping would be far off.
    for (const n of counts.values()) expect(Math.abs(n - 1000)).toBeLessThan(200);
  });
});
