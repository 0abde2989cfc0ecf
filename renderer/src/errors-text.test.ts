import { describe, expect, it } from 'vitest';
import { EngineError } from './engine-error';
import { asSentence, errorParts, errorText } from './errors-text';

describe('errorParts', () => {
  it('keeps the code apart from the sentence', () => {
    const err = new EngineError('WRONG_PASSWORD', 'the password is not right', 401);
    expect(errorParts(err)).toEqual({ text: 'The password is not right.', code: 'WRONG_PASSWORD' });
    expect(errorText(err)).toBe('The password is not right.');
  });

  it('says plainly that the engine is gone', () => {
    const err = new EngineError('ENGINE_UNREACHABLE', 'fetch failed', 0);
    expect(errorParts(err).text).toBe('The Keepsake engine cannot be reached.');
  });

  it('has no code for a failure that is not the engine’s', () => {
    expect(errorParts(new Error('the picker closed'))).toEqual({ text: 'The picker closed.' });
    expect(errorParts('odd')).toEqual({ text: 'Odd.' });
  });
});

describe('asSentence', () => {
  it.each([
    ['the disk is full', 'The disk is full.'],
    ['Already a sentence.', 'Already a sentence.'],
    ['is it?', 'Is it?'],
    ['  spaced  ', 'Spaced.'],
    ['', ''],
  ])('%j → %j', (given, sentence) => {
    expect(asSentence(given)).toBe(sentence);
  });
});
