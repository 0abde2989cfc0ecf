// The Library timeline's arithmetic, kept apart from React so it can be tested alone:
// which items pass the filters, how they fall into year and month sections, how those
// sections become fixed-height rows for a given column count, and which rows are in view.
// The grid renders only those rows, so 10,000 items cost what one screen of them costs.

import { MONTHS } from './item-words';

/** What the timeline needs of a library item (the engine's LibraryItem has all of it). */
export interface TimelineItem {
  id: string;
  folderId: string;
  name: string;
  kind: 'video' | 'photo' | 'audio' | 'other';
  tape: boolean;
  inVaultOnly: boolean;
  title?: string;
  capturedAt?: string;
  attention?: string;
}

export type KindFilter = 'all' | 'photo' | 'video' | 'tape';

export interface TimelineFilters {
  kind: KindFilter;
  /** A folder id, or '' for every folder. */
  folderId: string;
  attention: boolean;
  vaultOnly: boolean;
  search: string;
}

export const NO_FILTERS: TimelineFilters = {
  kind: 'all',
  folderId: '',
  attention: false,
  vaultOnly: false,
  search: '',
};

/**
 * The year and month an item was taken, as written where it was taken: "1989-12-24T23:30
 * -05:00" is December 1989 for the family that filmed it, whatever this computer's zone.
 * A year alone ("1989", a tape the family dated only so) goes under its January.
 */
export function takenMonth(
  capturedAt: string | undefined,
): { year: number; month: number } | undefined {
  const m = /^(\d{4})(?:-(\d{2}))?/.exec(capturedAt ?? '');
  if (!m) return undefined;
  if (m[2] === undefined && capturedAt!.length !== 4) return undefined;
  const year = Number(m[1]);
  const month = m[2] === undefined ? 1 : Number(m[2]);
  if (month < 1 || month > 12) return undefined;
  return { year, month };
}

function monthName(month: number): string {
  return MONTHS[month - 1] ?? '';
}

/**
 * Every word of the search must be found in the item's name, its title, the year it was
 * taken or that month's name ("christmas 1989", "june", "IMG_2019").
 */
function matchesSearch(item: TimelineItem, words: readonly string[]): boolean {
  if (words.length === 0) return true;
  const taken = takenMonth(item.capturedAt);
  const hay = [
    item.name,
    item.title ?? '',
    taken ? String(taken.year) : '',
    taken ? monthName(taken.month) : '',
  ]
    .join('\n')
    .toLocaleLowerCase();
  return words.every((w) => hay.includes(w));
}

function searchWords(search: string): string[] {
  return search.toLocaleLowerCase().split(/\s+/).filter(Boolean);
}

export function filterItems<T extends TimelineItem>(
  items: readonly T[],
  filters: TimelineFilters,
): T[] {
  const words = searchWords(filters.search);
  return items.filter(
    (item) =>
      (filters.kind === 'all' ||
        (filters.kind === 'tape' ? item.tape : item.kind === filters.kind)) &&
      (filters.folderId === '' || item.folderId === filters.folderId) &&
      (!filters.attention || item.attention !== undefined) &&
      (!filters.vaultOnly || item.inVaultOnly) &&
      matchesSearch(item, words),
  );
}

export interface Section<T> {
  /** `1989-12`, or `unknown` for the items whose date is not known yet. */
  key: string;
  /** Undefined for the undated section. */
  year: number | undefined;
  month: number | undefined;
  label: string;
  items: T[];
}

export const UNDATED_LABEL = 'Date not known yet';

/**
 * Month sections, newest first, each keeping the items' own order (the engine's: newest
 * capture first); the undated items come last. Items need not arrive sorted.
 */
export function groupByMonth<T extends TimelineItem>(items: readonly T[]): Section<T>[] {
  const byKey = new Map<string, Section<T>>();
  for (const item of items) {
    const taken = takenMonth(item.capturedAt);
    const key = taken ? `${taken.year}-${String(taken.month).padStart(2, '0')}` : 'unknown';
    let section = byKey.get(key);
    if (!section) {
      section = taken
        ? {
            key,
            year: taken.year,
            month: taken.month,
            label: `${monthName(taken.month)} ${taken.year}`,
            items: [],
          }
        : { key, year: undefined, month: undefined, label: UNDATED_LABEL, items: [] };
      byKey.set(key, section);
    }
    section.items.push(item);
  }
  // `YYYY-MM` sorts as text; "unknown" is put last by hand.
  return [...byKey.values()].sort((a, b) =>
    a.key === 'unknown' ? 1 : b.key === 'unknown' ? -1 : a.key < b.key ? 1 : a.key > b.key ? -1 : 0,
  );
}

export interface RowSizes {
  /** A year's heading ("1989"), shown above its newest month. */
  yearHeading: number;
  /** A month's heading ("December 1989"). */
  monthHeading: number;
  /** One row of tiles, gap below included. */
  tiles: number;
}

export type Row<T> =
  | {
      type: 'year';
      key: string;
      top: number;
      height: number;
      year: number | undefined;
      label: string;
    }
  | { type: 'month'; key: string; top: number; height: number; label: string; count: number }
  | {
      type: 'tiles';
      key: string;
      top: number;
      height: number;
      items: T[];
      /** The position of the row's first item in `order` (the whole timeline, flat). */
      first: number;
    };

export interface Layout<T> {
  rows: Row<T>[];
  total: number;
  /** Items in timeline order, for ranges (shift-click) and arrow keys. */
  order: T[];
  /** The indices in `rows` of the tile rows, in order. */
  tileRows: number[];
  /** Each year's first row, for the scrubber. */
  years: { year: number | undefined; label: string; top: number }[];
  columns: number;
}

/**
 * Rows of fixed heights: a year heading when the year changes, a month heading, then the
 * month's items `columns` to a row. The undated section gets one heading of its own.
 */
export function layoutRows<T extends TimelineItem>(
  sections: readonly Section<T>[],
  columns: number,
  sizes: RowSizes,
): Layout<T> {
  const cols = Math.max(1, Math.floor(columns));
  const rows: Row<T>[] = [];
  const order: T[] = [];
  const years: Layout<T>['years'] = [];
  const tileRows: number[] = [];
  let top = 0;
  let lastYear: number | 'none' | undefined = 'none';
  for (const section of sections) {
    if (section.year !== lastYear) {
      lastYear = section.year;
      const label = section.year === undefined ? UNDATED_LABEL : String(section.year);
      years.push({ year: section.year, label, top });
      rows.push({
        type: 'year',
        key: `y${section.year ?? 'unknown'}`,
        top,
        height: sizes.yearHeading,
        year: section.year,
        label,
      });
      top += sizes.yearHeading;
    }
    if (section.year !== undefined) {
      rows.push({
        type: 'month',
        key: `m${section.key}`,
        top,
        height: sizes.monthHeading,
        label: section.label,
        count: section.items.length,
      });
      top += sizes.monthHeading;
    }
    for (let i = 0; i < section.items.length; i += cols) {
      tileRows.push(rows.length);
      rows.push({
        type: 'tiles',
        key: `t${section.key}-${i / cols}`,
        top,
        height: sizes.tiles,
        items: section.items.slice(i, i + cols),
        first: order.length + i,
      });
      top += sizes.tiles;
    }
    order.push(...section.items);
  }
  return { rows, total: top, order, tileRows, years, columns: cols };
}

/** How many tiles of at least `minTile` px fit across `width` px with `gap` px between. */
export function columnsFor(width: number, minTile: number, gap: number): number {
  if (!(width > 0)) return 1;
  return Math.max(1, Math.floor((width + gap) / (minTile + gap)));
}

/** The first row whose bottom is below `y` (rows are sorted by top and touch end to end). */
export function rowAt(rows: readonly { top: number; height: number }[], y: number): number {
  let lo = 0;
  let hi = rows.length - 1;
  if (hi < 0) return 0;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    const row = rows[mid]!;
    if (row.top + row.height <= y) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/**
 * The rows to render, [start, end), for a viewport at `scrollTop` of `height` px, with
 * `overscan` px more above and below so a quick scroll does not show blank space.
 */
export function visibleRows(
  rows: readonly { top: number; height: number }[],
  scrollTop: number,
  height: number,
  overscan = 0,
): [number, number] {
  if (rows.length === 0) return [0, 0];
  const start = rowAt(rows, Math.max(0, scrollTop - overscan));
  const end = rowAt(rows, scrollTop + height + overscan) + 1;
  return [start, Math.min(rows.length, end)];
}

/** The row holding item `index` of `order`, for scrolling a focused tile into view; -1 if none. */
export function rowOfItem<T>(layout: Layout<T>, index: number): number {
  const { rows, tileRows } = layout;
  let lo = 0;
  let hi = tileRows.length - 1;
  while (lo <= hi) {
    const mid = (lo + hi) >> 1;
    const row = rows[tileRows[mid]!];
    if (!row || row.type !== 'tiles') return -1;
    if (index < row.first) hi = mid - 1;
    else if (index >= row.first + row.items.length) lo = mid + 1;
    else return tileRows[mid]!;
  }
  return -1;
}

/**
 * Where an arrow key takes the focus, as an index into `order`: left and right step
 * through the timeline; up and down go to the same column of the tile row above or below
 * (or that row's last tile when it is shorter), skipping headings.
 */
export function moveFocus<T>(
  layout: Layout<T>,
  index: number,
  key: 'ArrowLeft' | 'ArrowRight' | 'ArrowUp' | 'ArrowDown' | 'Home' | 'End',
): number {
  const last = layout.order.length - 1;
  if (last < 0) return -1;
  const at = Math.min(Math.max(index, 0), last);
  switch (key) {
    case 'ArrowLeft':
      return Math.max(0, at - 1);
    case 'ArrowRight':
      return Math.min(last, at + 1);
    case 'Home':
      return 0;
    case 'End':
      return last;
  }
  const rowIndex = rowOfItem(layout, at);
  const row = layout.rows[rowIndex];
  if (!row || row.type !== 'tiles') return at;
  const column = at - row.first;
  const step = key === 'ArrowUp' ? -1 : 1;
  for (let r = rowIndex + step; r >= 0 && r < layout.rows.length; r += step) {
    const next = layout.rows[r]!;
    if (next.type === 'tiles') return next.first + Math.min(column, next.items.length - 1);
  }
  return at;
}

/** The ids from `from` to `to` of `order`, both included, in either direction. */
export function rangeIds<T extends { id: string }>(
  order: readonly T[],
  from: number,
  to: number,
): string[] {
  const a = Math.max(0, Math.min(from, to));
  const b = Math.min(order.length - 1, Math.max(from, to));
  return order.slice(a, b + 1).map((item) => item.id);
}
