// What an analysis settles for the restored copy: a crop only when something is cut, the
// field order only when the pictures showed one, no deinterlacing for a progressive tape.

import { describe, expect, it } from 'vitest';
import type { TapeAnalysis } from '../ffmpeg/tape-analysis';
import { restoreLook } from './restore-look';

const analysis = (over: Partial<TapeAnalysis>): TapeAnalysis => ({
  version: 1,
  durationSeconds: 60,
  width: 720,
  height: 576,
  interlaced: true,
  fieldOrder: 'tff',
  fields: { tff: 100, bff: 0, progressive: 0, undetermined: 0 },
  crop: { x: 0, y: 0, width: 720, height: 576 },
  headSwitchingRows: 0,
  cuts: [],
  qc: { hasAudio: true, dropouts: [], clippedAudio: [], blank: [] },
  undecodable: [],
  ...over,
});

describe('restoreLook', () => {
  it('crops to the box found and keeps the field order', () => {
    expect(
      restoreLook(analysis({ crop: { x: 8, y: 2, width: 704, height: 564 }, fieldOrder: 'bff' })),
    ).toEqual({ crop: '704:564:8:2', fieldOrder: 'bff' });
  });

  it('leaves a whole picture uncropped and an unknown field order to the file', () => {
    expect(restoreLook(analysis({ fieldOrder: 'unknown' }))).toEqual({});
  });

  it('does not deinterlace a progressive tape', () => {
    expect(restoreLook(analysis({ interlaced: false, fieldOrder: 'progressive' }))).toEqual({
      deinterlace: 'none',
    });
  });
});
