import { describe, expect, it } from 'vitest';
import {
  NO_FILTERS,
  UNDATED_LABEL,
  columnsFor,
  filterItems,
  groupByMonth,
  layoutRows,
  moveFocus,
  rangeIds,
  rowAt,
  rowOfItem,
  takenMonth,
  visibleRows,
} from './timeline-layout';
import type { TimelineItem } from './timeline-layout';

const item = (id: string, o: Partial<TimelineItem> = {}): TimelineItem => ({
  id,
  folderId: 'f1',
  name: `${id}.jpg`,
  kind: 'photo',
  tape: false,
  inVaultOnly: false,
  ...o,
});

const SIZES = { yearHeading: 50, monthHeading: 30, tiles: 100 };

describe('takenMonth', () => {
  it('reads the year and month as written, not moved to this time zone', () => {
    expect(takenMonth('1989-12-31T23:30:00-05:00')).toEqual({ year: 1989, month: 12 });
    expect(takenMonth('2019-08-12T00:10:00Z')).toEqual({ year: 2019, month: 8 });
  });
  it.each([
    ['1989', { year: 1989, month: 1 }],
    ['1989-12', { year: 1989, month: 12 }],
    ['19891', undefined],
    ['1989-1', undefined],
  ])('a date known only by its year or month: %j', (at, taken) => {
    expect(takenMonth(at)).toEqual(taken);
  });
  it('puts a year-only item under January of its year, a month-only one under its month', () => {
    const sections = groupByMonth([
      item('day', { capturedAt: '1989-12-24T00:00:00' }),
      item('month', { capturedAt: '1989-12' }),
      item('year', { capturedAt: '1989' }),
    ]);
    expect(sections.map((s) => [s.label, s.items.map((i) => i.id)])).toEqual([
      ['December 1989', ['day', 'month']],
      ['January 1989', ['year']],
    ]);
  });
  it('has nothing for a missing or malformed date', () => {
    expect(takenMonth(undefined)).toBeUndefined();
    expect(takenMonth('')).toBeUndefined();
    expect(takenMonth('1989-13-01')).toBeUndefined();
    expect(takenMonth('Christmas')).toBeUndefined();
  });
});

describe('groupByMonth', () => {
  it('makes month sections newest first, keeps order inside, puts the undated last', () => {
    const items = [
      item('a', { capturedAt: '1998-06-20T15:45:00' }),
      item('u1'),
      item('b', { capturedAt: '2019-08-12T10:00:00Z' }),
      item('c', { capturedAt: '1998-06-02T09:00:00' }),
      item('d', { capturedAt: '1998-01-01T00:00:00' }),
      item('u2', { capturedAt: 'not a date' }),
    ];
    const sections = groupByMonth(items);
    expect(sections.map((s) => [s.label, s.items.map((i) => i.id)])).toEqual([
      ['August 2019', ['b']],
      ['June 1998', ['a', 'c']],
      ['January 1998', ['d']],
      [UNDATED_LABEL, ['u1', 'u2']],
    ]);
    expect(sections[1]).toMatchObject({ key: '1998-06', year: 1998, month: 6 });
  });
  it('has no sections for no items', () => {
    expect(groupByMonth([])).toEqual([]);
  });
});

describe('filterItems', () => {
  const items = [
    item('photo', { capturedAt: '1989-12-24T10:00:00', title: 'Christmas at Gran’s' }),
    item('clip', { kind: 'video', name: 'VID_20190812.mp4', capturedAt: '2019-08-12T10:00:00' }),
    item('tape', { kind: 'video', tape: true, folderId: 'f2', attention: 'damaged' }),
    item('gone', { inVaultOnly: true, capturedAt: '2001-06-01T00:00:00' }),
  ];
  const ids = (f: Partial<typeof NO_FILTERS>) =>
    filterItems(items, { ...NO_FILTERS, ...f }).map((i) => i.id);

  it('keeps everything with no filter', () => {
    expect(ids({})).toEqual(['photo', 'clip', 'tape', 'gone']);
  });
  it('filters by kind, with tapes a kind of their own', () => {
    expect(ids({ kind: 'photo' })).toEqual(['photo', 'gone']);
    expect(ids({ kind: 'video' })).toEqual(['clip', 'tape']);
    expect(ids({ kind: 'tape' })).toEqual(['tape']);
  });
  it('filters by folder, attention and vault-only', () => {
    expect(ids({ folderId: 'f2' })).toEqual(['tape']);
    expect(ids({ attention: true })).toEqual(['tape']);
    expect(ids({ vaultOnly: true })).toEqual(['gone']);
  });
  it('searches names, titles, years and month names, every word', () => {
    expect(ids({ search: '1989' })).toEqual(['photo']);
    expect(ids({ search: 'christmas' })).toEqual(['photo']);
    expect(ids({ search: 'CHRISTMAS 1989' })).toEqual(['photo']);
    expect(ids({ search: 'christmas 2019' })).toEqual([]);
    expect(ids({ search: 'vid_2019' })).toEqual(['clip']);
    expect(ids({ search: 'june' })).toEqual(['gone']);
    expect(ids({ search: '  ' })).toEqual(['photo', 'clip', 'tape', 'gone']);
    expect(ids({ search: '2019', kind: 'photo' })).toEqual([]);
  });
});

describe('layoutRows', () => {
  const items = [
    ...['a', 'b', 'c', 'd', 'e'].map((id) => item(id, { capturedAt: '2019-08-01' })),
    item('f', { capturedAt: '2019-02-01' }),
    item('g', { capturedAt: '1998-06-01' }),
    item('u'),
  ];
  const layout = layoutRows(groupByMonth(items), 2, SIZES);

  it('puts a year heading at each new year, a month heading per month, tiles in rows', () => {
    expect(
      layout.rows.map((r) => (r.type === 'tiles' ? r.items.map((i) => i.id).join('') : r.label)),
    ).toEqual([
      '2019',
      'August 2019',
      'ab',
      'cd',
      'e',
      'February 2019',
      'f',
      '1998',
      'June 1998',
      'g',
      UNDATED_LABEL,
      'u',
    ]);
  });
  it('stacks rows end to end and says where each year starts', () => {
    const tops = layout.rows.map((r) => r.top);
    expect(tops.slice(0, 4)).toEqual([0, 50, 80, 180]);
    for (let i = 1; i < layout.rows.length; i++) {
      expect(layout.rows[i]!.top).toBe(layout.rows[i - 1]!.top + layout.rows[i - 1]!.height);
    }
    const last = layout.rows.at(-1)!;
    expect(layout.total).toBe(last.top + last.height);
    expect(layout.years).toEqual([
      { year: 2019, label: '2019', top: 0 },
      { year: 1998, label: '1998', top: 50 + 30 + 300 + 30 + 100 },
      { year: undefined, label: UNDATED_LABEL, top: 50 + 30 + 300 + 30 + 100 + 50 + 30 + 100 },
    ]);
  });
  it('numbers items in timeline order', () => {
    expect(layout.order.map((i) => i.id).join('')).toBe('abcdefgu');
    const tiles = layout.rows.filter((r) => r.type === 'tiles');
    expect(tiles.map((r) => r.first)).toEqual([0, 2, 4, 5, 6, 7]);
    expect(layout.tileRows).toEqual([2, 3, 4, 6, 9, 11]);
  });
  it('takes at least one column', () => {
    expect(layoutRows(groupByMonth(items), 0, SIZES).columns).toBe(1);
  });
  it('lays out 10,000 items quickly enough to redo on a resize', () => {
    const many = Array.from({ length: 10_000 }, (_, i) =>
      item(`i${i}`, {
        capturedAt: `${2020 - (i % 40)}-${String((Math.floor(i / 40) % 12) + 1).padStart(2, '0')}-01`,
      }),
    );
    const big = layoutRows(groupByMonth(many), 6, SIZES);
    expect(big.order).toHaveLength(10_000);
    expect(big.years).toHaveLength(40);
    expect(big.rows.filter((r) => r.type === 'month')).toHaveLength(40 * 12);
  });
});

describe('columnsFor', () => {
  it('fits as many tiles of the least width as the width holds', () => {
    expect(columnsFor(1000, 160, 8)).toBe(6);
    expect(columnsFor(999, 160, 8)).toBe(5);
    expect(columnsFor(160, 160, 8)).toBe(1);
    expect(columnsFor(328, 160, 8)).toBe(2);
    expect(columnsFor(327, 160, 8)).toBe(1);
    expect(columnsFor(0, 160, 8)).toBe(1);
    expect(columnsFor(Number.NaN, 160, 8)).toBe(1);
  });
});

describe('visibleRows', () => {
  const rows = Array.from({ length: 100 }, (_, i) => ({ top: i * 100, height: 100 }));
  it('finds the rows a viewport crosses', () => {
    expect(visibleRows(rows, 0, 250)).toEqual([0, 3]);
    expect(visibleRows(rows, 150, 100)).toEqual([1, 3]);
    expect(visibleRows(rows, 9_900, 500)).toEqual([99, 100]);
  });
  it('adds the overscan on both sides, within bounds', () => {
    expect(visibleRows(rows, 1_000, 300, 200)).toEqual([8, 16]);
    expect(visibleRows(rows, 0, 300, 200)).toEqual([0, 6]);
  });
  it('has nothing for no rows', () => {
    expect(visibleRows([], 0, 500)).toEqual([0, 0]);
  });
  it('finds the row at a point, headings of other heights included', () => {
    const mixed = [
      { top: 0, height: 50 },
      { top: 50, height: 30 },
      { top: 80, height: 100 },
    ];
    expect(rowAt(mixed, 0)).toBe(0);
    expect(rowAt(mixed, 49)).toBe(0);
    expect(rowAt(mixed, 50)).toBe(1);
    expect(rowAt(mixed, 179)).toBe(2);
    expect(rowAt(mixed, 5_000)).toBe(2);
  });
});

describe('moveFocus and rangeIds', () => {
  // August: a b | c d | e ; February: f ; June 1998: g ; undated: u
  const items = [
    ...['a', 'b', 'c', 'd', 'e'].map((id) => item(id, { capturedAt: '2019-08-01' })),
    item('f', { capturedAt: '2019-02-01' }),
    item('g', { capturedAt: '1998-06-01' }),
    item('u'),
  ];
  const layout = layoutRows(groupByMonth(items), 2, SIZES);
  const id = (i: number) => layout.order[i]?.id;

  it('steps left and right through the whole timeline', () => {
    expect(id(moveFocus(layout, 1, 'ArrowRight'))).toBe('c');
    expect(id(moveFocus(layout, 4, 'ArrowRight'))).toBe('f');
    expect(id(moveFocus(layout, 7, 'ArrowRight'))).toBe('u');
    expect(id(moveFocus(layout, 0, 'ArrowLeft'))).toBe('a');
    expect(id(moveFocus(layout, 3, 'Home'))).toBe('a');
    expect(id(moveFocus(layout, 3, 'End'))).toBe('u');
  });
  it('goes up and down by tile rows, over headings, keeping the column when it can', () => {
    expect(id(moveFocus(layout, 1, 'ArrowDown'))).toBe('d');
    expect(id(moveFocus(layout, 3, 'ArrowDown'))).toBe('e');
    expect(id(moveFocus(layout, 4, 'ArrowDown'))).toBe('f');
    expect(id(moveFocus(layout, 5, 'ArrowDown'))).toBe('g');
    expect(id(moveFocus(layout, 7, 'ArrowDown'))).toBe('u');
    expect(id(moveFocus(layout, 5, 'ArrowUp'))).toBe('e');
    expect(id(moveFocus(layout, 3, 'ArrowUp'))).toBe('b');
    expect(id(moveFocus(layout, 0, 'ArrowUp'))).toBe('a');
  });
  it('finds the row of an item', () => {
    expect(rowOfItem(layout, 0)).toBe(2);
    expect(rowOfItem(layout, 3)).toBe(3);
    expect(rowOfItem(layout, 7)).toBe(11);
    expect(rowOfItem(layout, 8)).toBe(-1);
  });
  it('has nowhere to go in an empty timeline', () => {
    expect(moveFocus(layoutRows([], 3, SIZES), 0, 'ArrowRight')).toBe(-1);
  });
  it('gives the ids of a range in either direction', () => {
    expect(rangeIds(layout.order, 1, 3)).toEqual(['b', 'c', 'd']);
    expect(rangeIds(layout.order, 3, 1)).toEqual(['b', 'c', 'd']);
    expect(rangeIds(layout.order, 6, 20)).toEqual(['g', 'u']);
  });
});
