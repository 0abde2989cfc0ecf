// The family's sentence and the tool's words, kept apart: as stored now (one column, the
// words on a line of their own) and as older versions stored them (in brackets).

import { describe, expect, it } from 'vitest';
import { damagedWords, packDetail, splitStored, unpackDetail } from './attention-words';

describe('attention words', () => {
  it('says what is wrong, and that the original is kept', () => {
    expect(damagedWords('video', 'read its start')).toBe(
      "This video is damaged or incomplete: Keepsake can't read its start. The original is kept as it is.",
    );
  });

  it('keeps the sentence and the technical words apart in one text', () => {
    const sentence = damagedWords('photo', 'open it');
    expect(unpackDetail(packDetail(sentence, 'VipsJpeg: Premature end of input file'))).toEqual({
      sentence,
      technical: 'VipsJpeg: Premature end of input file',
    });
    expect(unpackDetail(packDetail(sentence, undefined))).toEqual({ sentence });
  });

  it('splits texts stored by older versions, and leaves brackets that are not the tool’s', () => {
    expect(
      splitStored(
        'This file cannot be read: it may be damaged or only partly copied (moov atom not found).',
      ),
    ).toEqual({
      sentence: 'This file cannot be read: it may be damaged or only partly copied.',
      technical: 'moov atom not found',
    });
    expect(
      splitStored(
        'Keepsake cannot read this kind of file yet (mp3 inputs are refused). It is kept safe in the vault as it is.',
      ),
    ).toEqual({
      sentence:
        'Keepsake cannot read this kind of file yet. It is kept safe in the vault as it is.',
      technical: 'mp3 inputs are refused',
    });
    const heic =
      'This is an HEIC photo (from an iPhone), which this version of Keepsake cannot show yet. It is kept safe in the vault as it is.';
    expect(splitStored(heic)).toEqual({ sentence: heic });
    expect(unpackDetail('This video has sound but no picture.')).toEqual({
      sentence: 'This video has sound but no picture.',
    });
  });
});
