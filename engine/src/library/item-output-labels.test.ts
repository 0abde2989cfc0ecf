import { describe, expect, it } from 'vitest';
import type { ItemInfo } from './item-info';
import { itemOutputLabels } from './item-output-labels';

const info = (capturedFrom: ItemInfo['capturedFrom']): ItemInfo => ({
  capturedAt: '1991-07-14T10:00:00',
  capturedFrom,
  rotation: 0,
  hasAudio: true,
});

describe('itemOutputLabels', () => {
  it.each([
    ['exif', '1991-07-14T10:00:00'],
    ['quicktime', '1991-07-14T10:00:00'],
    ['recording', '1991-07-14T10:00:00'],
    ['filename', '1991-07-14T10:00:00'],
    ['mtime', undefined],
  ] as const)('a date read from %s is written: %s', (from, date) => {
    expect(itemOutputLabels({ info: info(from) })?.date).toBe(date);
  });

  it('the family’s title and date win, whatever the file says', () => {
    expect(
      itemOutputLabels({
        info: info('mtime'),
        labels: { title: 'Christmas 1989', date: '1989-12-24' },
      }),
    ).toEqual({ title: 'Christmas 1989', date: '1989-12-24' });
  });

  it('nothing to write: no labels at all', () => {
    expect(itemOutputLabels({ info: info('mtime') })).toBeUndefined();
    expect(itemOutputLabels({})).toBeUndefined();
  });
});
