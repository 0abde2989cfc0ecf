import { describe, expect, it } from 'vitest';
import type { GoalEstimate, GoalInfo, StartedGoal } from './engine-client';
import {
  durationWords,
  estimateBasis,
  estimateText,
  itemsWords,
  roomWarning,
  startedText,
} from './goal-text';

const estimate = (e: Partial<GoalEstimate>): GoalEstimate => ({
  seconds: 7800,
  bytes: 3.4e9,
  freeBytes: 120e9,
  enough: true,
  unknownItems: 0,
  measured: true,
  ...e,
});

describe('goal wording', () => {
  it('says durations as a person would', () => {
    expect(durationWords(20)).toBe('under a minute');
    expect(durationWords(60 * 40 + 10)).toBe('about 40 min');
    expect(durationWords(7800)).toBe('about 2 h 10 min');
    expect(durationWords(7200 + 61)).toBe('about 2 h');
    expect(durationWords(Number.NaN)).toBe('an unknown time');
  });

  it('gives the estimate in one line, with what it leaves out', () => {
    expect(estimateText(estimate({}))).toBe('about 2 h 10 min, about 3.4 GB; 120 GB free');
    expect(estimateText(estimate({ seconds: 30, bytes: 2e6, unknownItems: 2 }))).toBe(
      'under a minute, about 2.0 MB; 120 GB free (not counting 2 items still being looked at)',
    );
  });

  it('says when nothing is known yet rather than "0 B"', () => {
    expect(estimateText(estimate({ seconds: 0, bytes: 0, unknownItems: 1 }))).toBe(
      'not known yet, still looking at the item; 120 GB free',
    );
  });

  it('warns when the room is short, and only then', () => {
    expect(roomWarning(estimate({}))).toBeUndefined();
    expect(roomWarning(estimate({ enough: false, freeBytes: 1.2e9 }))).toBe(
      'Not enough room on this computer: this needs about 3.4 GB and 1.2 GB is free. Make some room first, or choose fewer items.',
    );
  });

  it('says when the speed is a first guess', () => {
    expect(estimateBasis(estimate({}))).toBeUndefined();
    expect(estimateBasis(estimate({ measured: false }))).toMatch(/first guess/);
  });

  it('counts items and says what was started', () => {
    expect(itemsWords(1, ['video'])).toBe('1 video');
    expect(itemsWords(3, ['photo'])).toBe('3 photos');
    const goal = { name: 'Preserve this tape', poster: true } as GoalInfo;
    const started = (coming: number): StartedGoal => ({
      jobs: [{}, {}, {}] as StartedGoal['jobs'],
      posters: { ready: 1 - coming, coming },
    });
    expect(startedText(goal, started(0))).toBe(
      'Preserve this tape: started 3 jobs. The picture for the library is already there. You can follow them on the Jobs screen.',
    );
    expect(startedText(goal, started(1))).toMatch(/being made/);
  });
});
