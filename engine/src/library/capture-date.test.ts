import { describe, expect, it } from 'vitest';
import { captureDate, dateFromFileName, localTime, sortKey } from './capture-date';

const NOW = Date.UTC(2026, 11, 3, 12, 0, 0);
const MTIME = Date.UTC(2024, 5, 1, 9, 0, 0);
const base = { fileName: 'clip.mp4', mtimeMs: MTIME };

describe('dateFromFileName', () => {
  it.each([
    ['IMG_20190812_143000.jpg', '2019-08-12T14:30:00'],
    ['VID_20190812_143000.mp4', '2019-08-12T14:30:00'],
    ['PXL_20210101_123456789.jpg', '2021-01-01T12:34:56'],
    ['20190812_143000.jpg', '2019-08-12T14:30:00'],
    ['20190812143000.jpg', '2019-08-12T14:30:00'],
    ['IMG-20190812-WA0001.jpg', '2019-08-12'],
    ['VID-20190812-WA0001.mp4', '2019-08-12'],
    ['1989-12-24 Christmas.mp4', '1989-12-24'],
    ['1989-12-24 18.30.00 Christmas.mp4', '1989-12-24T18:30:00'],
    ['Screenshot 2020-01-01 at 10.00.00.png', '2020-01-01T10:00:00'],
    ['Screenshot_20200101-101010.png', '2020-01-01T10:10:10'],
    ['signal-2020-01-01-101010.jpg', '2020-01-01T10:10:10'],
    ['tapes/1994.07.04 picnic.avi', '1994-07-04'],
    ['holiday_2019-08-12.mov', '2019-08-12'],
  ])('%s → %s', (name, expected) => {
    expect(dateFromFileName(name)).toBe(expected);
  });

  it.each([
    ['DSC_0001.JPG'],
    ['2019-02-30 party.jpg'], // no 30 February
    ['2019-13-01.jpg'], // no 13th month
    ['1700-01-01 old.jpg'], // before photography
    ['120190812999.jpg'], // a long number, not a date
    ['2019-08.12.jpg'], // mixed separators
    ['IMG_1234.JPG'],
    ['tape 07.mp4'],
  ])('%s has no date', (name) => {
    expect(dateFromFileName(name)).toBeUndefined();
  });

  it('reads the date part when the time after it is not a time', () => {
    expect(dateFromFileName('20190812_996000.jpg')).toBe('2019-08-12');
  });

  it('looks at the name only, not the folders above it', () => {
    expect(dateFromFileName('2001-01-01 trip/IMG_0001.JPG')).toBeUndefined();
  });
});

describe('captureDate', () => {
  it('prefers EXIF, with its offset when written', () => {
    expect(
      captureDate(
        {
          ...base,
          exifDateTime: '2019:08:12 14:30:00',
          exifOffset: '+02:00',
          creationTime: '2020-01-01T00:00:00Z',
          fileName: 'IMG_20180101_000000.jpg',
        },
        NOW,
      ),
    ).toEqual({ capturedAt: '2019-08-12T14:30:00+02:00', capturedFrom: 'exif' });
    expect(captureDate({ ...base, exifDateTime: '2019:08:12 14:30:00' }, NOW)).toEqual({
      capturedAt: '2019-08-12T14:30:00',
      capturedFrom: 'exif',
    });
  });

  it("takes an Apple device's local creation date over the container's UTC one", () => {
    expect(
      captureDate(
        {
          ...base,
          quicktimeDate: '2019-08-12T14:30:00+0200',
          creationTime: '2019-08-12T12:30:00.000000Z',
        },
        NOW,
      ),
    ).toEqual({ capturedAt: '2019-08-12T14:30:00+02:00', capturedFrom: 'quicktime' });
  });

  it("takes a DV camcorder's clock over the day a capture program wrote the file", () => {
    const captured = { ...base, creationTime: '2024-03-01T12:00:00.000000Z' };
    expect(captureDate({ ...captured, camcorderClock: '1994-07-01T10:00:00' }, NOW)).toEqual({
      capturedAt: '1994-07-01T10:00:00',
      capturedFrom: 'recording',
    });
    // A clock in the future is passed over like any other date.
    expect(captureDate({ ...captured, camcorderClock: '2094-07-01T10:00:00' }, NOW)).toEqual({
      capturedAt: '2024-03-01T12:00:00Z',
      capturedFrom: 'recording',
    });
  });

  it("uses the container's creation_time, then the file name, then the file time", () => {
    expect(captureDate({ ...base, creationTime: '2015-06-01T10:00:00.000000Z' }, NOW)).toEqual({
      capturedAt: '2015-06-01T10:00:00Z',
      capturedFrom: 'recording',
    });
    expect(captureDate({ ...base, fileName: '1989-12-24 Christmas.mp4' }, NOW)).toEqual({
      capturedAt: '1989-12-24',
      capturedFrom: 'filename',
    });
    expect(captureDate(base, NOW)).toEqual({ capturedAt: localTime(MTIME), capturedFrom: 'mtime' });
  });

  it('passes over dates in the future, before 1826, or from an unset camera clock', () => {
    const fallback = { ...base, fileName: 'IMG_20190812_143000.jpg' };
    const named = { capturedAt: '2019-08-12T14:30:00', capturedFrom: 'filename' };
    expect(captureDate({ ...fallback, exifDateTime: '2031:01:01 00:00:00' }, NOW)).toEqual(named);
    expect(captureDate({ ...fallback, exifDateTime: '1800:01:01 00:00:00' }, NOW)).toEqual(named);
    expect(captureDate({ ...fallback, exifDateTime: '0000:00:00 00:00:00' }, NOW)).toEqual(named);
    expect(captureDate({ ...fallback, exifDateTime: '2019:02:30 10:00:00' }, NOW)).toEqual(named);
    expect(captureDate({ ...fallback, creationTime: '1904-01-01T00:00:00.000000Z' }, NOW)).toEqual(
      named,
    );
    expect(captureDate({ ...fallback, creationTime: '1970-01-01T00:00:00.000000Z' }, NOW)).toEqual(
      named,
    );
    expect(captureDate({ ...fallback, quicktimeDate: 'yesterday' }, NOW)).toEqual(named);
  });

  it('accepts a date up to a day ahead (time zones, a clock a little fast)', () => {
    expect(captureDate({ ...base, exifDateTime: '2026:12:04 08:00:00' }, NOW).capturedFrom).toBe(
      'exif',
    );
  });
});

describe('localTime', () => {
  it("writes a file time in this computer's time zone, so it groups under the local day", () => {
    const tz = process.env.TZ;
    try {
      process.env.TZ = 'America/New_York';
      // 02:30 UTC on New Year's Day is still New Year's Eve in New York.
      const ms = Date.UTC(2000, 0, 1, 2, 30, 0);
      expect(localTime(ms)).toBe('1999-12-31T21:30:00-05:00');
      expect(new Date(sortKey(localTime(ms))).getUTCFullYear()).toBe(1999);
      process.env.TZ = 'Asia/Kolkata';
      expect(localTime(ms)).toBe('2000-01-01T08:00:00+05:30');
    } finally {
      if (tz === undefined) delete process.env.TZ;
      else process.env.TZ = tz;
    }
  });
});

describe('sortKey', () => {
  it('orders by the written local time, whatever the offset', () => {
    expect(sortKey('2019-08-12T14:30:00+02:00')).toBe(Date.UTC(2019, 7, 12, 14, 30));
    expect(sortKey('2019-08-12T14:30:00')).toBe(Date.UTC(2019, 7, 12, 14, 30));
    expect(sortKey('2019-08-12')).toBe(Date.UTC(2019, 7, 12));
    expect(sortKey('2024-06-01T09:00:00.250Z')).toBe(Date.UTC(2024, 5, 1, 9, 0, 0, 250));
    expect(sortKey('not a date')).toBeNaN();
    expect(sortKey('2019-02-30')).toBeNaN();
  });
});
