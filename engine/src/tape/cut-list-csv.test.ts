import { describe, expect, it } from 'vitest';
import { cutListFromCsv, cutListToCsv, CSV_MAX_BYTES } from './cut-list-csv';
import { fromCuts, label } from './cut-list';

const TAPE = { duration: 7260, fps: 25 };

describe('cut list CSV', () => {
  it('writes one row per clip with hours always shown', () => {
    const list = label(fromCuts(7260, [75.6, 3600], 25), 0, {
      title: 'Christmas, "the big one"',
      date: '1989-12-24',
    });
    expect(cutListToCsv(list)).toBe(
      'start,end,title,date\r\n' +
        '0:00:00.000,0:01:15.600,"Christmas, ""the big one""",1989-12-24\r\n' +
        '0:01:15.600,1:00:00.000,,\r\n' +
        '1:00:00.000,2:01:00.000,,\r\n',
    );
  });

  it('reads back what it wrote, accents and quotes included', () => {
    let list = fromCuts(7260, [75.6, 3600, 5000], 25);
    list = label(list, 1, { title: 'Noël chez Mamie, 1990', date: '1990-12-25' });
    list = label(list, 3, { title: '=HYPERLINK("http://x")' });
    const csv = cutListToCsv(list);
    // A title a spreadsheet would run as a formula is written inert.
    expect(csv).toContain(`"'=HYPERLINK(""http://x"")"`);
    expect(cutListFromCsv(csv, TAPE)).toEqual(list);
  });

  it('takes seconds, m:ss and h:mm:ss, columns in any order, and a BOM', () => {
    const csv = '\ufeffTitle,End,Start\r\nA,1:15.5,0\r\nB,0:02:00,75.5\n\nC,7260,120\n';
    const list = cutListFromCsv(csv, TAPE);
    expect(list.clips).toEqual([
      { start: 0, end: 75.52, title: 'A' }, // 75.5 s snapped to a 25 fps frame
      { start: 75.52, end: 120, title: 'B' },
      { start: 120, end: 7260, title: 'C' },
    ]);
  });

  it.each([
    ['no header', '0,10\n', /first row must name the columns/],
    ['not a time', 'start,end\n0,ten\n', /row 2: "ten" is not a time/],
    ['minutes typo', 'start,end\n0,1:75\n', /row 2: "1:75" is not a time/],
    [
      'past the end',
      'start,end\n0,10\n10,7300\n',
      /row 3 ends at 2:01:40, after the tape ends \(2:01:00\)/,
    ],
    ['overlap', 'start,end\n0,100\n50,200\n', /row 3 starts at 0:50, inside row 2/],
    ['bad date', 'start,end,date\n0,10,24/12/1989\n', /row 2: "24\/12\/1989" is not a date/],
    ['empty', 'start,end\n', /no clips/],
    ['broken quoting', 'start,end,title\n0,10,"open\n', /not readable as CSV/],
  ])('refuses %s, naming the row', (_, csv, message) => {
    expect(() => cutListFromCsv(csv, TAPE)).toThrow(message);
  });

  it('refuses a file too big to be a cut list before parsing it', () => {
    const big = 'start,end\n' + '0,1\n'.repeat(CSV_MAX_BYTES / 4 + 1);
    expect(() => cutListFromCsv(big, TAPE)).toThrow(/too big/);
  });
});
