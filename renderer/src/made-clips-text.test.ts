import { describe, expect, it } from 'vitest';
import { madeClipsText } from './made-clips-text';

const made = (started: number, kept = 0, running = 0, unlisted = 0) => ({
  version: 2,
  folder: 'Clips of Tape 3',
  started,
  kept,
  running,
  unlisted,
  jobIds: [],
});

describe('madeClipsText', () => {
  it.each([
    [made(3), 'Making 3 clips. They appear in your library under “Clips of Tape 3” when ready.'],
    [made(1), 'Making 1 clip. It appears in your library under “Clips of Tape 3” when ready.'],
    [made(0, 3), '3 clips already in your library: nothing new to make.'],
    [
      made(1, 2, 0, 1),
      'Making 1 clip. It appears in your library under “Clips of Tape 3” when ready. ' +
        '2 clips already in your library. ' +
        '1 clip made earlier is no longer in this list, and stays in your library.',
    ],
    [made(0, 0, 2), '2 clips already being made.'],
  ])('%j', (summary, text) => {
    expect(madeClipsText(summary)).toBe(text);
  });
});
