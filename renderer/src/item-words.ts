// A library item's facts in the family's words: when it happened and how Keepsake knows
// ("24 December 1989 · from the camera's clock"), and how long it runs ("1 h 5 min").

export type CapturedFrom = 'exif' | 'quicktime' | 'recording' | 'filename' | 'mtime' | 'user';

const SOURCES: Record<CapturedFrom, string> = {
  exif: "from the camera's clock",
  quicktime: "from the camera's clock",
  recording: "from the camcorder's recording date",
  filename: 'from the file name',
  mtime: "from the file's date on the computer",
  user: 'set by you',
};

export const MONTHS = [
  'January',
  'February',
  'March',
  'April',
  'May',
  'June',
  'July',
  'August',
  'September',
  'October',
  'November',
  'December',
];

/**
 * `1989-12-24T18:30:00` (or with a zone) → "24 December 1989": the day as written, not
 * moved by this computer's time zone (a birthday stays on its day). A date the family
 * knows only by its month or year (`1989-12`, `1989`) reads "December 1989", "1989".
 */
export function dayWords(iso: string): string | undefined {
  if (/^\d{4}$/.test(iso)) return iso;
  const m = /^(\d{4})-(\d{2})(?:-(\d{2}))?/.exec(iso);
  if (!m) return undefined;
  const month = MONTHS[Number(m[2]) - 1];
  if (!month) return undefined;
  if (m[3] === undefined) return iso.length === 7 ? `${month} ${m[1]}` : undefined;
  return `${Number(m[3])} ${month} ${m[1]}`;
}

/** "24 December 1989 · from the camera's clock", or undefined when the date is not known. */
export function capturedWords(
  capturedAt: string | undefined,
  capturedFrom: CapturedFrom | undefined,
): string | undefined {
  const day = capturedAt === undefined ? undefined : dayWords(capturedAt);
  if (!day) return undefined;
  const source = capturedFrom ? SOURCES[capturedFrom] : undefined;
  return source ? `${day} · ${source}` : day;
}

/** "12 s", "4 min 7 s", "1 h 5 min": how long a video runs. */
export function durationWords(seconds: number | undefined): string | undefined {
  if (seconds === undefined || !Number.isFinite(seconds) || seconds < 0) return undefined;
  const s = Math.round(seconds);
  if (s < 60) return `${s} s`;
  const h = Math.floor(s / 3600);
  const min = Math.floor((s % 3600) / 60);
  if (h > 0) return min === 0 ? `${h} h` : `${h} h ${min} min`;
  const rest = s % 60;
  return rest === 0 ? `${min} min` : `${min} min ${rest} s`;
}

/** "about 40 s", "about 3 min": how long a copy still takes to make. */
export function waitWords(seconds: number | undefined): string | undefined {
  if (seconds === undefined || !Number.isFinite(seconds) || seconds < 0) return undefined;
  const s = Math.max(1, Math.round(seconds));
  if (s < 90) return `about ${s} s`;
  const min = Math.round(s / 60);
  if (min < 90) return `about ${min} min`;
  const h = Math.floor(min / 60);
  const rest = min % 60;
  return rest === 0 ? `about ${h} h` : `about ${h} h ${rest} min`;
}
