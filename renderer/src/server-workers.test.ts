import { describe, expect, it } from 'vitest';
import { helpersSentence, type HelperView } from './server-workers';

const helper = (name: string, running: number, silentSeconds = 2): HelperView => ({
  name,
  running,
  silentSeconds,
  slots: 1,
  chip: false,
});

describe('helpersSentence', () => {
  it('says nothing for a server without helpers', () => {
    expect(helpersSentence(undefined)).toBeUndefined();
    expect(helpersSentence([])).toBeUndefined();
  });

  it('names each helper and what it is doing, in plain words', () => {
    expect(helpersSentence([helper('kitchen-pc', 1), helper('nas', 0)])).toBe(
      '2 helpers: kitchen-pc is making 1 copy; nas is idle',
    );
    expect(helpersSentence([helper('attic', 2)])).toBe('1 helper: attic is making 2 copies');
  });

  it('says when a helper stopped answering', () => {
    expect(helpersSentence([helper('nas', 0, 5 * 60)])).toBe(
      '1 helper: nas has not answered for 5 minutes',
    );
    expect(helpersSentence([helper('nas', 1, 40)])).toBe(
      '1 helper: nas has not answered for a minute',
    );
  });
});
