// A cut list as CSV (start, end, title, date), for people who keep their tape notes in a
// spreadsheet. Parsing and quoting are csv-parse's and csv-stringify's: titles hold
// commas, quotes and accents. The imported list meets the same checks as an edit in the
// viewer (cut-list.ts), and a bad row is named by its number in the file.

import { parse } from 'csv-parse/sync';
import { stringify } from 'csv-stringify/sync';
import { KeepsakeError } from '../core/errors';
import { checkCutList, snap, type Clip, type CutList } from './cut-list';

/** Far more than any cut list needs; a bigger file is not one. */
export const CSV_MAX_BYTES = 1024 * 1024;

const COLUMNS = ['start', 'end', 'title', 'date'] as const;
// A spreadsheet runs a cell starting with one of these as a formula: a title such as
// "=HYPERLINK(…)" is written with a leading apostrophe, which spreadsheets hide, and the
// apostrophe is taken off again on import.
const FORMULA_START = /^[=+\-@\t\r]/;

/** 4275.5 → "1:11:15.500": hours always shown, so spreadsheets read every row alike. */
function csvTime(seconds: number): string {
  const ms = Math.round(seconds * 1000);
  const h = Math.floor(ms / 3_600_000);
  const m = Math.floor((ms % 3_600_000) / 60_000);
  const s = (ms % 60_000) / 1000;
  return `${h}:${String(m).padStart(2, '0')}:${s.toFixed(3).padStart(6, '0')}`;
}

/** "75.5", "1:15.5" or "0:01:15.5" → 75.5; undefined when it is none of those. */
function readTime(text: string): number | undefined {
  const m = /^(?:(?:(\d+):)?([0-5]?\d):)?(\d+(?:\.\d+)?)$/.exec(text.trim());
  if (!m) return undefined;
  const [h, min, s] = [m[1], m[2], m[3]].map((v) => (v === undefined ? 0 : Number(v)));
  // With minutes given, the seconds field is below 60: "1:75" is a typo, not 2:15.
  if (m[2] !== undefined && s! >= 60) return undefined;
  return h! * 3600 + min! * 60 + s!;
}

function safeCell(text: string | undefined): string {
  if (!text) return '';
  return FORMULA_START.test(text) ? `'${text}` : text;
}

function unsafeCell(text: string): string {
  return text.startsWith("'") && FORMULA_START.test(text.slice(1)) ? text.slice(1) : text;
}

export function cutListToCsv(list: CutList): string {
  return stringify(
    list.clips.map((c) => [csvTime(c.start), csvTime(c.end), safeCell(c.title), c.date ?? '']),
    { header: true, columns: [...COLUMNS], record_delimiter: 'windows' },
  );
}

/**
 * The cut list a CSV file describes, for a tape of `duration` seconds (at `fps`). The
 * first row names the columns (start and end at least, in any order); times are seconds
 * or h:mm:ss. Every problem names its row as a spreadsheet numbers it.
 */
export function cutListFromCsv(
  text: string | Buffer,
  tape: { duration: number; fps?: number },
  now = Date.now(),
): CutList {
  const bad = (message: string) => new KeepsakeError('CUT_LIST_INVALID', message);
  if (Buffer.byteLength(text) > CSV_MAX_BYTES) {
    throw bad('that file is too big to be a cut list (at most 1 MB)');
  }
  let rows: string[][];
  try {
    rows = parse(text, {
      // Files edited on several systems mix line ends.
      record_delimiter: ['\r\n', '\n', '\r'],
      bom: true,
      skip_empty_lines: true,
      relax_column_count: true,
      trim: true,
    });
  } catch (err) {
    throw bad(`that file is not readable as CSV: ${(err as Error).message}`);
  }
  const header = (rows[0] ?? []).map((h) => h.toLowerCase());
  const col = Object.fromEntries(COLUMNS.map((c) => [c, header.indexOf(c)])) as Record<
    (typeof COLUMNS)[number],
    number
  >;
  if (col.start < 0 || col.end < 0) {
    throw bad('the first row must name the columns: start, end, title, date');
  }
  const clips = rows.slice(1).map((row, i): Clip => {
    const line = i + 2;
    const cell = (c: (typeof COLUMNS)[number]) => (col[c] >= 0 ? (row[col[c]] ?? '') : '');
    const start = readTime(cell('start'));
    const end = readTime(cell('end'));
    if (start === undefined || end === undefined) {
      throw bad(`row ${line}: "${cell(start === undefined ? 'start' : 'end')}" is not a time`);
    }
    const clip: Clip = { start: snap(start, tape.fps), end: snap(end, tape.fps) };
    const title = unsafeCell(cell('title'));
    if (title) clip.title = title;
    if (cell('date')) clip.date = cell('date');
    return clip;
  });
  if (!clips.length) throw bad('that file has no clips in it');
  try {
    return checkCutList(
      { duration: tape.duration, ...(tape.fps ? { fps: tape.fps } : {}), clips },
      now,
    );
  } catch (err) {
    // "clip 3" is the file's row 4: the header is row 1.
    const message = (err as Error).message.replace(
      /\bclips? (\d+)/g,
      (_, n: string) => `row ${+n + 1}`,
    );
    throw bad(message);
  }
}
