// When a photo or video was taken: the date the library groups it under. Cameras,
// phones and file names each say it differently, and often wrongly (a camera whose
// clock was never set says 1904 or 1970; a file copied last week has last week's file
// time), so every source is read, each date is checked, and the best one that passes
// wins, in this order:
//
//   exif       the photo's own EXIF DateTimeOriginal (with its offset when written)
//   quicktime  an Apple device's com.apple.quicktime.creationdate (local time + offset)
//   recording  a DV camcorder's clock, in every frame of the tape (local time; the day it
//              was filmed, where a capture program's creation_time says the day the tape
//              was copied to the computer), else a container's creation_time (MP4, MOV,
//              MKV; UTC)
//   filename   a date in the file's name: IMG_20190812_143000, 1989-12-24 Christmas,
//              VID-20190812-WA0001, Screenshot 2020-01-01 at 10.00.00
//   mtime      the file's own modification time (always there, least trusted), written
//              in this computer's local time with its offset
//
// Dates are kept as the source wrote them, in ISO 8601: `2019-08-12T14:30:00+02:00`
// with an offset when the source gives one, `2019-08-12T14:30:00` ("floating": the
// local time where it was taken) when it does not, `…Z` for UTC. A family remembers
// local time: a photo taken at 23:30 on New Year's Eve belongs to December wherever the
// computer that shows it sits, so the library groups by the written date, not by UTC.

export type CaptureSource = 'exif' | 'quicktime' | 'recording' | 'filename' | 'mtime';

export interface CaptureDate {
  /** ISO 8601, as described above. */
  capturedAt: string;
  capturedFrom: CaptureSource;
}

export interface CaptureCandidates {
  /** EXIF DateTimeOriginal as written: `2019:08:12 14:30:00`. */
  exifDateTime?: string | undefined;
  /** EXIF OffsetTimeOriginal: `+02:00`. */
  exifOffset?: string | undefined;
  /** com.apple.quicktime.creationdate: `2019-08-12T14:30:00+0200`. */
  quicktimeDate?: string | undefined;
  /** A DV camcorder's clock at the tape's first frames: `1994-07-01T10:00:00` (dv-dates.ts). */
  camcorderClock?: string | undefined;
  /** A container's creation_time tag: `2019-08-12T12:30:00.000000Z`. */
  creationTime?: string | undefined;
  fileName: string;
  mtimeMs: number;
}

/** Nothing was photographed before 1826 (the oldest surviving photograph). */
const EARLIEST = Date.UTC(1826, 0, 1);
/** A day of slack for time zones and a camera clock a little ahead. */
const SLACK_MS = 24 * 3600 * 1000;

/** The best plausible capture date of a file; `now` is for tests. */
export function captureDate(c: CaptureCandidates, now = Date.now()): CaptureDate {
  const plausible = (iso: string | undefined): iso is string => {
    if (iso === undefined) return false;
    const ms = sortKey(iso);
    return Number.isFinite(ms) && ms >= EARLIEST && ms <= now + SLACK_MS;
  };
  const exif = exifDate(c.exifDateTime, c.exifOffset);
  if (plausible(exif)) return { capturedAt: exif, capturedFrom: 'exif' };
  const quicktime = isoDate(c.quicktimeDate);
  if (plausible(quicktime)) return { capturedAt: quicktime, capturedFrom: 'quicktime' };
  if (plausible(c.camcorderClock))
    return { capturedAt: c.camcorderClock, capturedFrom: 'recording' };
  const recording = isoDate(c.creationTime);
  // 1904-01-01 (QuickTime's epoch) and 1970-01-01 (Unix's) are what a camera writes when
  // its clock was never set.
  if (
    plausible(recording) &&
    !/^(1904|1970)-01-01T00:00:00(\.0+)?(Z|[+-]00:?00)?$/.test(recording)
  ) {
    return { capturedAt: recording, capturedFrom: 'recording' };
  }
  const named = dateFromFileName(c.fileName);
  if (plausible(named)) return { capturedAt: named, capturedFrom: 'filename' };
  return { capturedAt: localTime(c.mtimeMs), capturedFrom: 'mtime' };
}

/**
 * An instant as this computer's local time with its offset (`2020-02-02T03:02:02+01:00`):
 * a file time is an instant, and the family's day is the local one, like the other
 * sources' (sortKey groups by the written time).
 */
export function localTime(ms: number): string {
  const d = new Date(ms);
  const offset = -d.getTimezoneOffset();
  const sign = offset < 0 ? '-' : '+';
  const abs = Math.abs(offset);
  return (
    isoOf(d.getFullYear(), d.getMonth() + 1, d.getDate(), [
      d.getHours(),
      d.getMinutes(),
      d.getSeconds(),
    ]) + `${sign}${pad(Math.floor(abs / 60))}:${pad(abs % 60)}`
  );
}

/**
 * Milliseconds for sorting and for the year and month groups: the written local time
 * read as if it were UTC (an offset or `Z` is dropped, see the top of this file).
 * NaN when the text is not a date.
 */
export function sortKey(iso: string): number {
  const m = /^(\d{4})-(\d{2})-(\d{2})(?:T(\d{2}):(\d{2})(?::(\d{2})(?:\.(\d{1,9}))?)?)?/.exec(iso);
  if (!m) return NaN;
  const [, y, mo, d, h = '0', mi = '0', s = '0', frac = '0'] = m;
  return validDate(+y!, +mo!, +d!, +h, +mi, +s)
    ? Date.UTC(+y!, +mo! - 1, +d!, +h, +mi, +s, Math.floor(Number(`0.${frac}`) * 1000))
    : NaN;
}

/** A real calendar date and time (no 30 February, no 25 o'clock). */
function validDate(y: number, mo: number, d: number, h = 0, mi = 0, s = 0): boolean {
  if (mo < 1 || mo > 12 || d < 1 || h > 23 || mi > 59 || s > 60) return false;
  return d <= new Date(Date.UTC(y, mo, 0)).getUTCDate();
}

const pad = (n: number | string, width = 2) => String(n).padStart(width, '0');

function isoOf(y: number, mo: number, d: number, time?: [number, number, number]): string {
  const day = `${pad(y, 4)}-${pad(mo)}-${pad(d)}`;
  return time ? `${day}T${pad(time[0])}:${pad(time[1])}:${pad(time[2])}` : day;
}

/** `+0200`, `+02:00`, `+02`, `Z` → `+02:00` / `Z`; undefined when it is not an offset. */
function offsetOf(text: string | undefined): string | undefined {
  if (text === undefined || text === '') return undefined;
  if (text === 'Z') return 'Z';
  const m = /^([+-])(\d{2}):?(\d{2})?$/.exec(text.trim());
  if (!m || +m[2]! > 14 || +(m[3] ?? 0) > 59) return undefined;
  return `${m[1]}${m[2]}:${m[3] ?? '00'}`;
}

/** Year to second from a match's groups 1-6, as ISO 8601 without offset, if it is a real time. */
function dateTime(m: RegExpExecArray): string | undefined {
  const [y, mo, d, h, mi, s] = m.slice(1, 7).map(Number) as Six;
  return validDate(y, mo, d, h, mi, s) ? isoOf(y, mo, d, [h, mi, s]) : undefined;
}
type Six = [number, number, number, number, number, number];

/** EXIF's `YYYY:MM:DD HH:MM:SS` (with an optional offset) as ISO 8601. */
function exifDate(text: string | undefined, offset: string | undefined): string | undefined {
  const m = /^\s*(\d{4})[:-](\d{2})[:-](\d{2})[ T](\d{2}):(\d{2}):(\d{2})/.exec(text ?? '');
  const local = m ? dateTime(m) : undefined;
  return local === undefined ? undefined : local + (offsetOf(offset) ?? '');
}

/** An ISO 8601 date-time as FFprobe prints container tags, normalised; undefined if none. */
function isoDate(text: string | undefined): string | undefined {
  const m =
    /^\s*(\d{4})-(\d{2})-(\d{2})[T ](\d{2}):(\d{2}):(\d{2})(?:\.\d+)?\s*(Z|[+-]\d{2}:?\d{2})?\s*$/.exec(
      text ?? '',
    );
  const local = m ? dateTime(m) : undefined;
  const offset = m?.[7] === undefined ? '' : offsetOf(m[7]);
  return local === undefined || offset === undefined ? undefined : local + offset;
}

// A date in a name: year (1826-2099), month, day, with the same separator (or none)
// between them, not glued to other digits; then, optionally, a time (which digits may
// follow: PXL_20210101_123456789 ends in milliseconds). Covers what
// phones, cameras, messengers and people write: IMG_20190812_143000, PXL_20210101_
// 123456789, VID-20190812-WA0001, 2019-08-12 14.30.00, Screenshot 2020-01-01 at
// 10.00.00, 1989-12-24 Christmas, signal-2020-01-01-101010.
const NAME_DATE =
  /(?<!\d)(18[2-9]\d|19\d{2}|20\d{2})([-_.]?)(0[1-9]|1[0-2])\2(0[1-9]|[12]\d|3[01])(?:(?:[ _T-]|\s+at\s+)?([01]\d|2[0-3])([-_.:h]?)([0-5]\d)\6([0-5]\d)|(?!\d))/;

/** The date written in a file name, or undefined (a name like 2019-02-30 has none). */
export function dateFromFileName(name: string): string | undefined {
  const base = name.slice(name.lastIndexOf('/') + 1);
  const m = NAME_DATE.exec(base);
  if (!m) return undefined;
  const [y, mo, d] = [+m[1]!, +m[3]!, +m[4]!];
  if (m[5] !== undefined) {
    const time: [number, number, number] = [+m[5], +m[7]!, +m[8]!];
    if (validDate(y, mo, d, ...time)) return isoOf(y, mo, d, time);
  }
  return validDate(y, mo, d) ? isoOf(y, mo, d) : undefined;
}
