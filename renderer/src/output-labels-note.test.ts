import { describe, expect, it } from 'vitest';
import { missingLabelsNote } from './output-labels-note';

const out = (labels?: ('title' | 'date')[]) => ({ name: 'web.mp4', size: 1, labels });
const titled = {
  title: 'Christmas 1989',
  capturedAt: '1989-12-24',
  capturedFrom: 'user' as const,
};

describe('missingLabelsNote', () => {
  it.each([
    ['carries both', titled, [out(['title', 'date'])], undefined],
    [
      'HLS: none of its files',
      titled,
      [out([]), out([])],
      "This copy doesn't carry the title and date.",
    ],
    [
      'made before the title was set',
      titled,
      [out(['date'])],
      "This copy doesn't carry the title.",
    ],
    ['one file of several carries them', titled, [out([]), out(['title', 'date'])], undefined],
    [
      'a date only, not carried',
      { capturedAt: '2003-05-17T09:15:00', capturedFrom: 'exif' as const },
      [out([])],
      "This copy doesn't carry the date.",
    ],
    [
      'a date from the disk is never written',
      { capturedAt: '2020-01-01T00:00:00', capturedFrom: 'mtime' as const },
      [out([])],
      undefined,
    ],
    ['nothing to carry', {}, [out([])], undefined],
    ['a job from before this was recorded', titled, [out(undefined)], undefined],
  ])('%s', (_, item, outputs, note) => {
    expect(missingLabelsNote(item, { state: 'succeeded', outputs })).toBe(note);
  });

  it('says nothing of a copy not yet made', () => {
    expect(missingLabelsNote(titled, { state: 'running', outputs: [] })).toBeUndefined();
    expect(missingLabelsNote(titled, undefined)).toBeUndefined();
  });
});
