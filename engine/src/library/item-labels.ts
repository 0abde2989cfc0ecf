// What the family says an item is: a title ("Christmas 1989") and the day it happened,
// typed by hand. Both win over what was read from the file (a tape's file date is the day
// it was digitised, not the birthday on it). They are as private as the item, so they are
// sealed like the facts read from it (info-seal.ts): engine.db holds ciphertext only.

import { KeepsakeError } from '../core/errors';
import { stmt, type Db } from '../jobs/db';
import type { Vault } from '../vault/keyring';
import { openRow, sealRow } from './info-seal';

export interface ItemLabels {
  title?: string;
  /**
   * `1989-12-24`, or with a time: `1989-12-24T18:30:00` (local, as the family remembers
   * it), or only a month (`1989-12`) or a year (`1989`).
   */
  date?: string;
}

/** A change: a value sets, null clears, absent keeps. */
export interface LabelChange {
  title?: string | null;
  date?: string | null;
}

const PURPOSE = 'keepsake library labels v1';
export const TITLE_MAX = 200;
/** Photography's first surviving picture; nothing in a family archive is older. */
const EARLIEST_YEAR = 1826;
const DATE = /^(\d{4})-(\d{2})-(\d{2})(?:[T ](\d{2}):(\d{2})(?::(\d{2}))?)?$/;
const YEAR_MONTH = /^(\d{4})(?:-(\d{2}))?$/;

/** A title as typed, trimmed; refused when empty, too long, or holding control characters. */
export function parseTitle(text: string): string {
  const title = text.normalize('NFC').trim();
  if (title.length === 0) throw new KeepsakeError('USAGE', 'a title cannot be empty');
  if (title.length > TITLE_MAX) {
    throw new KeepsakeError('USAGE', `a title can be at most ${TITLE_MAX} characters`);
  }
  // eslint-disable-next-line no-control-regex
  if (/[\u0000-\u001f\u007f]/.test(title)) {
    throw new KeepsakeError('USAGE', 'a title cannot hold line breaks or control characters');
  }
  return title;
}

/**
 * A date as typed, checked and normalised: a day (`1989-12-24`, optionally `18:30` after
 * it), or only a month (`1989-12`) or a year (`1989`) when that is all the family knows
 * (a tape labelled "Summer 1989"). A month or a year is kept as given, never made a day.
 */
export function parseLabelDate(text: string, now = Date.now()): string {
  const usage = () =>
    new KeepsakeError(
      'USAGE',
      `"${text}" is not a date: write it year-month-day, like 1989-12-24, optionally with a time (1989-12-24 18:30), or just the month (1989-12) or the year (1989)`,
    );
  const part = YEAR_MONTH.exec(text.trim());
  if (part) {
    const [y, mo] = [Number(part[1]), part[2] === undefined ? undefined : Number(part[2])];
    if (mo !== undefined && (mo < 1 || mo > 12)) throw usage();
    checkPeriod(text, y, Date.UTC(y, (mo ?? 1) - 1, 1), now);
    return part[0];
  }
  const m = DATE.exec(text.trim());
  if (!m) throw usage();
  const [y, mo, d, h = 0, mi = 0, s = 0] = m.slice(1).map((v) => (v === undefined ? 0 : +v));
  const at = new Date(Date.UTC(y!, mo! - 1, d!, h, mi, s));
  const real =
    at.getUTCFullYear() === y &&
    at.getUTCMonth() === mo! - 1 &&
    at.getUTCDate() === d &&
    h < 24 &&
    mi < 60 &&
    s < 60;
  if (!real) throw usage();
  checkPeriod(text, y!, at.getTime(), now);
  const day = `${m[1]}-${m[2]}-${m[3]}`;
  return m[4] === undefined ? day : `${day}T${m[4]}:${m[5]}:${m[6] ?? '00'}`;
}

/** Refuses a date (its start, `startMs`) before photography or not yet begun. */
function checkPeriod(text: string, year: number, startMs: number, now: number): void {
  if (year < EARLIEST_YEAR) {
    throw new KeepsakeError('USAGE', `a date before ${EARLIEST_YEAR} cannot be a photo or video`);
  }
  // A day ahead of UTC covers every time zone; anything later has not happened yet.
  if (startMs > now + 24 * 3600 * 1000) {
    throw new KeepsakeError('USAGE', `${text.trim()} is in the future`);
  }
}

/**
 * The item's date as a capture date: a day alone is read as the start of that day; a
 * month or a year stays as given (`1989-12`, `1989`: ISO 8601 for "some time then"),
 * which the timeline shows under its first month.
 */
export function labelCapturedAt(date: string): string {
  return date.length === 10 ? `${date}T00:00:00` : date;
}

/** The labels sealed for `fileId`, or undefined when they do not open with this vault. */
export function openLabels(vault: Vault, fileId: string, sealed: Buffer): ItemLabels | undefined {
  return openRow<ItemLabels>(vault, PURPOSE, fileId, sealed);
}

export class ItemLabelStore {
  constructor(private readonly db: Db) {}

  /** Applies `change` to the item's labels and returns what it now has. */
  set(vault: Vault, fileId: string, change: LabelChange): ItemLabels {
    const exists = stmt(this.db, 'SELECT 1 FROM library_files WHERE id = ?').pluck().get(fileId);
    if (exists === undefined) throw new KeepsakeError('NOT_FOUND', `no library file "${fileId}"`);
    const next: ItemLabels = { ...this.get([fileId], vault).get(fileId) };
    if (change.title !== undefined) {
      if (change.title === null) delete next.title;
      else next.title = parseTitle(change.title);
    }
    if (change.date !== undefined) {
      if (change.date === null) delete next.date;
      else next.date = parseLabelDate(change.date);
    }
    if (next.title === undefined && next.date === undefined) {
      stmt(this.db, 'DELETE FROM library_labels WHERE file_id = ?').run(fileId);
    } else {
      stmt(
        this.db,
        'INSERT OR REPLACE INTO library_labels (file_id, sealed, set_at) VALUES (?, ?, ?)',
      ).run(fileId, sealRow(vault, PURPOSE, fileId, next), Date.now());
    }
    return next;
  }

  /** The labels of those items that have any (and open with this vault). */
  get(fileIds: readonly string[], vault: Vault): Map<string, ItemLabels> {
    const found = new Map<string, ItemLabels>();
    const select = stmt(this.db, 'SELECT sealed FROM library_labels WHERE file_id = ?').pluck();
    for (const id of fileIds) {
      const sealed = select.get(id) as Buffer | undefined;
      const labels = sealed && openLabels(vault, id, sealed);
      if (labels) found.set(id, labels);
    }
    return found;
  }

  /** Whether any of these items has labels (so a listing knows to open the vault). */
  anySet(fileIds: readonly string[]): boolean {
    const select = stmt(this.db, 'SELECT 1 FROM library_labels WHERE file_id = ?').pluck();
    return fileIds.some((id) => select.get(id) !== undefined);
  }
}
