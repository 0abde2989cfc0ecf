import { describe, expect, it } from 'vitest';
import { lengthWords, sureWords } from './clip-strip-words';

describe('the strip of proposed clips in words', () => {
  it('says how long a clip is as a person would', () => {
    expect(lengthWords(0.4)).toBe('1 second');
    expect(lengthWords(9.5)).toBe('10 seconds');
    expect(lengthWords(60)).toBe('1 minute');
    expect(lengthWords(65)).toBe('1 minute 5 seconds');
    expect(lengthWords(2 * 3600 + 120)).toBe('2 hours 2 minutes');
    expect(lengthWords(3600)).toBe('1 hour');
  });

  it('says how sure, and why, without a tool name', () => {
    expect(sureWords({})).toBe('Start of the tape');
    expect(sureWords({ confidence: 0.95, reasons: ['black', 'silence'] })).toBe(
      'Clear break: the picture goes dark and the sound stops',
    );
    expect(sureWords({ confidence: 0.6, reasons: ['scene'] })).toBe(
      'Likely break: the picture changes',
    );
    expect(sureWords({ confidence: 0.3, reasons: [] })).toBe('Possible break, worth a look');
    expect(sureWords({ confidence: 0.9, reasons: ['black', 'silence', 'scene'] })).toBe(
      'Clear break: the picture goes dark, the sound stops and the picture changes',
    );
  });
});
