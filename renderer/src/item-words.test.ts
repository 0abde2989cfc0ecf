import { describe, expect, it } from 'vitest';
import { capturedWords, dayWords, durationWords, waitWords } from './item-words';

describe('dates known only by their year or month', () => {
  it.each([
    ['1989', '1989'],
    ['1989-12', 'December 1989'],
    ['1989-12-24', '24 December 1989'],
    ['1989-13', undefined],
    ['1989-1', undefined],
    ['198', undefined],
  ])('%j reads %j', (iso, words) => {
    expect(dayWords(iso)).toBe(words);
  });
  it('says who set it', () => {
    expect(capturedWords('1989', 'user')).toBe('1989 · set by you');
    expect(capturedWords('1989-12', 'user')).toBe('December 1989 · set by you');
  });
});

describe('capturedWords', () => {
  it('says the day and how it is known', () => {
    expect(capturedWords('1989-12-24T18:30:00', 'exif')).toBe(
      "24 December 1989 · from the camera's clock",
    );
    expect(capturedWords('2019-08-12T00:00:00', 'filename')).toBe(
      '12 August 2019 · from the file name',
    );
    expect(capturedWords('1989-12-24T00:00:00', 'user')).toBe('24 December 1989 · set by you');
    expect(capturedWords('2001-01-05T10:00:00Z', 'mtime')).toBe(
      "5 January 2001 · from the file's date on the computer",
    );
  });

  it('keeps the day as written whatever the time zone', () => {
    expect(dayWords('1989-12-24T23:59:59-08:00')).toBe('24 December 1989');
  });

  it('says nothing for an unknown or unreadable date', () => {
    expect(capturedWords(undefined, 'exif')).toBeUndefined();
    expect(capturedWords('not a date', 'exif')).toBeUndefined();
    expect(dayWords('1989-13-01')).toBeUndefined();
    expect(capturedWords('1989-12-24', undefined)).toBe('24 December 1989');
  });
});

describe('durationWords', () => {
  it.each([
    [0, '0 s'],
    [12.4, '12 s'],
    [60, '1 min'],
    [247, '4 min 7 s'],
    [3600, '1 h'],
    [3909, '1 h 5 min'],
  ])('%d s → %s', (seconds, text) => {
    expect(durationWords(seconds)).toBe(text);
  });

  it('says nothing for nonsense', () => {
    expect(durationWords(undefined)).toBeUndefined();
    expect(durationWords(Number.NaN)).toBeUndefined();
  });
});

describe('waitWords', () => {
  it.each([
    [0.2, 'about 1 s'],
    [40, 'about 40 s'],
    [200, 'about 3 min'],
    [7800, 'about 2 h 10 min'],
  ])('%d s → %s', (seconds, text) => {
    expect(waitWords(seconds)).toBe(text);
  });
});
