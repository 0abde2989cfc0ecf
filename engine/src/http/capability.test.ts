import { describe, expect, it } from 'vitest';
import { capabilityMatches } from './capability';

describe('capabilityMatches', () => {
  const real = 'f5PuUXSr4Jw1LW03jk2rScGW6HeV8MRG';
  it('accepts only the capability itself', () => {
    expect(capabilityMatches(real, real)).toBe(true);
    expect(capabilityMatches(`${real.slice(0, 31)}x`, real)).toBe(false);
    expect(capabilityMatches(real.slice(1), real)).toBe(false);
  });
  it('refuses, without throwing, a link as long in characters but longer in bytes', () => {
    const accented = `é${real.slice(1)}`;
    expect(accented.length).toBe(real.length);
    expect(capabilityMatches(accented, real)).toBe(false);
  });
  it('fails closed when there is nothing to compare against (an id of the wrong form)', () => {
    expect(capabilityMatches('', '')).toBe(false);
  });
});
