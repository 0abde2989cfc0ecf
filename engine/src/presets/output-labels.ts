// What a family calls an item ("Christmas 1989") and when it happened go into every
// output made from it. FFmpeg gets them as an FFmetadata document it reads as a second
// input over the engine's loopback source, never as `-metadata title=…` on its command
// line: a command line is world-readable (/proc/<pid>/cmdline, `ps`), and a title is as
// private as the picture.

export interface OutputLabels {
  /** The title the family gave the item. */
  title?: string;
  /**
   * When it happened, as the library keeps it: a day (`1989-12-24`), or ISO 8601 with a
   * time, and an offset (`2019-08-12T14:30:00+02:00`), `Z`, or none ("floating": the local
   * time where it was taken).
   */
  date?: string;
  /**
   * A tape's clips, as chapters of outputs made of the whole tape (tape/cut-list.ts), so
   * a player lists "Birthday candles", "Garden"… and skips from one to the next.
   */
  chapters?: LabelChapter[];
}

export interface LabelChapter {
  /** Seconds from the start. */
  start: number;
  end: number;
  title: string;
}

/** What an output can carry of them, as recorded per output (JobOutput.labels). */
export type LabelKind = 'title' | 'date';

/** The document kinds the loopback serves: each container carries dates its own way. */
export type LabelFlavour = 'mp4' | 'matroska';
export const LABEL_FLAVOURS: readonly LabelFlavour[] = ['mp4', 'matroska'];

const DAY = /^(\d{4})-(\d{2})-(\d{2})$/;
const DATE_TIME =
  /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})(?:\.\d+)?(Z|[+-]\d{2}:?\d{2})?$/;

/**
 * The date as one instant in UTC, as MP4's `creation_time` and Matroska's DateUTC hold
 * it. A day or a floating time is taken as UTC: its players show the written day and
 * hour then, wherever they are, rather than the day before west of Greenwich.
 */
export function utcInstant(date: string): string | undefined {
  const day = DAY.exec(date);
  if (day) return `${day[1]}-${day[2]}-${day[3]}T00:00:00.000000Z`;
  const m = DATE_TIME.exec(date);
  if (!m) return undefined;
  const zone = m[7] ?? 'Z';
  const offset = zone === 'Z' ? 'Z' : `${zone.slice(0, 3)}:${zone.slice(-2)}`;
  const ms = Date.parse(`${m[1]}-${m[2]}-${m[3]}T${m[4]}:${m[5]}:${m[6]}${offset}`);
  if (!Number.isFinite(ms)) return undefined;
  return new Date(ms).toISOString().replace(/\.(\d{3})Z$/, '.$1000Z');
}

/** The date as written, with a space for the `T` (Matroska's DATE_RECORDED form). */
function matroskaDate(date: string): string {
  return date.replace('T', ' ');
}

/**
 * A value as FFmetadata wants it: `=`, `;`, `#` and `\` are escaped with a backslash, and
 * a line break too (the backslash ends the line, and the value goes on on the next).
 */
export function escapeFfmetadata(text: string): string {
  return text.replace(/[=;#\\\n]/g, (c) => `\\${c}`);
}

/** The FFmetadata document for one kind of output, or undefined when there is nothing to say. */
export function ffmetadataDocument(
  labels: OutputLabels,
  flavour: LabelFlavour,
): string | undefined {
  const entries: [string, string][] = [];
  if (labels.title) entries.push(['title', labels.title]);
  if (labels.date) {
    const instant = utcInstant(labels.date);
    if (flavour === 'mp4') entries.push(['date', labels.date]);
    else entries.push(['DATE_RECORDED', matroskaDate(labels.date)]);
    if (instant) entries.push(['creation_time', instant]);
  }
  const chapters = labels.chapters ?? [];
  if (entries.length === 0 && chapters.length === 0) return undefined;
  const lines = entries.map(([key, value]) => `${key}=${escapeFfmetadata(value)}`);
  for (const c of chapters) {
    lines.push(
      '[CHAPTER]',
      'TIMEBASE=1/1000',
      `START=${Math.round(c.start * 1000)}`,
      `END=${Math.round(c.end * 1000)}`,
      `title=${escapeFfmetadata(c.title)}`,
    );
  }
  return `;FFMETADATA1\n${lines.join('\n')}\n`;
}

/**
 * Which of `labels` an output's container tags (as FFprobe reads them back) carry: the
 * title as given, and the date as either container writes it. Read back rather than
 * assumed, so a preset that drops them (HLS, thumbnails) is recorded as carrying none.
 */
export function carriedLabels(
  labels: OutputLabels | undefined,
  tags: Record<string, string> | undefined,
): LabelKind[] {
  if (!labels || !tags) return [];
  const byKey = new Map(Object.entries(tags).map(([k, v]) => [k.toLowerCase(), v]));
  const carried: LabelKind[] = [];
  if (labels.title && byKey.get('title') === labels.title) carried.push('title');
  if (labels.date) {
    const forms = [labels.date, matroskaDate(labels.date)];
    const written = [byKey.get('date'), byKey.get('date_recorded')];
    if (written.some((w) => w !== undefined && forms.includes(w))) carried.push('date');
  }
  return carried;
}
