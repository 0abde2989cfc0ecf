import { describe, expect, it } from 'vitest';
import { isSafeName, joinPath, siblingPath } from './paths';

describe('paths', () => {
  it.each(['', '.', '..', 'a/b', 'nul\0byte'])('refuses %j as a stored name', (name) => {
    expect(isSafeName(name, 'linux')).toBe(false);
  });

  it('accepts ordinary and odd-but-legal POSIX names, but not Windows separators on Windows', () => {
    expect(isSafeName('Grandma 1987.mov', 'linux')).toBe(true);
    expect(isSafeName('caf\xe9', 'linux')).toBe(true);
    expect(isSafeName('a\\b', 'linux')).toBe(true);
    expect(isSafeName('a\\b', 'win32')).toBe(false);
    expect(isSafeName('C:evil', 'win32')).toBe(false);
  });

  it('joins and finds siblings for string and byte paths alike', () => {
    const latin1 = Buffer.from('caf\xe9', 'latin1');
    expect(joinPath('/a', 'b')).toBe('/a/b');
    expect(joinPath(Buffer.from('/a'), latin1)).toEqual(
      Buffer.concat([Buffer.from('/a/'), latin1]),
    );
    expect(siblingPath('/a/b.ksv', 'tmp')).toBe('/a/tmp');
    expect(siblingPath('/b.ksv', 'tmp')).toBe('/tmp');
    expect(siblingPath('b.ksv', 'tmp')).toBe('./tmp');
  });
});
