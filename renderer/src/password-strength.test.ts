import { describe, expect, it } from 'vitest';
import { estimateStrength, MIN_LENGTH } from './password-strength';

describe('estimateStrength', () => {
  it('calls anything shorter than the minimum too short, whatever its mix', () => {
    const s = estimateStrength('aB3$xY9');
    expect(s.level).toBe(0);
    expect(s.label).toBe('Too short');
    expect(s.hints[0]).toContain(String(MIN_LENGTH));
  });

  it('gives an empty password nothing and no hints', () => {
    expect(estimateStrength('')).toEqual({ level: 0, label: 'Too short', bits: 0, hints: [] });
  });

  it.each(['password', 'Password', 'p@ssw0rd', 'qwertyuiop', 'iloveyou'])(
    'knows %s is common',
    (pw) => {
      const s = estimateStrength(pw);
      expect(s.level).toBe(1);
      expect(s.hints.join(' ')).toMatch(/common/);
    },
  );

  it('sees through repeats and sequences', () => {
    expect(estimateStrength('aaaaaaaaaaaa').level).toBe(1);
    expect(estimateStrength('abcdefgh1234').level).toBeLessThanOrEqual(1);
    expect(estimateStrength('abcdefgh1234').hints.join(' ')).toMatch(/sequences/);
  });

  it('rates a long random mix and a four-word passphrase strong', () => {
    expect(estimateStrength('T7#qL!v2@pZ9$wK4').level).toBe(4);
    expect(estimateStrength('correct horse battery staple').level).toBe(4);
  });

  it('orders passwords sensibly', () => {
    const weak = estimateStrength('sunshine1').bits;
    const fair = estimateStrength('Gardenia7x').bits;
    const strong = estimateStrength('gardenia kettle 7 rivers').bits;
    expect(weak).toBeLessThan(fair);
    expect(fair).toBeLessThan(strong);
  });

  it('penalises words the user typed elsewhere and a trailing year', () => {
    const plain = estimateStrength('margaretxq7z');
    const named = estimateStrength('margaretxq7z', ['Margaret']);
    expect(named.bits).toBeLessThan(plain.bits);
    expect(named.hints.join(' ')).toMatch(/names/);
    expect(estimateStrength('holidays1987').hints.join(' ')).toMatch(/year/);
  });
});
