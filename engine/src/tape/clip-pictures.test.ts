// The clips an analysis proposes and their pictures: clips as the viewer's "Use the
// suggested clips" makes them, the tape's display shape kept (4:3 at tape sizes, however
// the pixels are stored), and on a real generated tape, pictures of the first clips only,
// three a clip, all from one FFmpeg run over the encrypted copy.

import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import sharp from 'sharp';
import { describe, expect, it } from 'vitest';
import { locateFfmpeg } from '../ffmpeg/locate';
import type { TapeAnalysis } from '../ffmpeg/tape-analysis';
import { makeTape } from '../testing/tape-media';
import { TEST_SCRYPT, freshDir } from '../testing/tmp';
import { encryptFile } from '../vault/file-ops';
import { createVault } from '../vault/keyring';
import { VaultFile } from '../vault/vault-file';
import {
  CLIP_PICTURE_WIDTH,
  FRAMES_PER_CLIP,
  MAX_CLIPS_WITH_PICTURES,
  clipPoints,
  displayAspect,
  makeClipPictures,
  proposedClips,
} from './clip-pictures';

const analysis = (cuts: TapeAnalysis['cuts'], durationSeconds = 33): TapeAnalysis =>
  ({
    version: 1,
    durationSeconds,
    width: 720,
    height: 576,
    crop: { x: 0, y: 0, width: 720, height: 568 },
    cuts,
  }) as unknown as TapeAnalysis;

describe('the clips an analysis proposes', () => {
  it('runs from cut to cut, ending where a blank stretch begins, with how sure each cut is', () => {
    const clips = proposedClips(
      analysis([
        { at: 9.5, confidence: 0.95, reasons: ['black', 'silence'], gap: { start: 8, end: 9.5 } },
        { at: 25, confidence: 0.4, reasons: ['scene'] },
      ]),
    );
    expect(clips).toEqual([
      { start: 0, end: 8 },
      { start: 9.5, end: 25, confidence: 0.95, reasons: ['black', 'silence'] },
      { start: 25, end: 33, confidence: 0.4, reasons: ['scene'] },
    ]);
    expect(proposedClips(analysis([]))).toEqual([{ start: 0, end: 33 }]);
    expect(proposedClips(analysis([], 0))).toEqual([]);
  });

  it('takes pictures a little inside each clip, never on its boundary', () => {
    expect(clipPoints({ start: 10, end: 30 }, 60)).toEqual([11, 20, 29]);
    expect(clipPoints({ start: 0, end: 2 }, 60)).toEqual([0.2, 1, 1.8]);
    expect(clipPoints({ start: 28, end: 30 }, 30)).toEqual([28.2, 29, 29.5]);
  });

  it('keeps a tape 4:3, and any other picture as it is shown', () => {
    const pal = { width: 720, height: 576 };
    expect(displayAspect({}, pal)).toBeCloseTo(4 / 3);
    expect(displayAspect({ displayAspect: '5:4' }, pal)).toBeCloseTo(4 / 3);
    expect(displayAspect({ displayAspect: '16:9' }, pal)).toBeCloseTo(16 / 9);
    expect(displayAspect({ displayAspect: '4:3' }, { width: 720, height: 480 })).toBeCloseTo(4 / 3);
    expect(displayAspect({}, { width: 1920, height: 1080 })).toBeCloseTo(16 / 9);
  });
});

describe('pictures of the proposed clips', () => {
  it('pictures the first clips of a long list only, three each, in one run', async () => {
    const dir = await freshDir();
    await mkdir(join(dir, 'in'));
    const tape = await makeTape(join(dir, 'in'), 'tape.ts');
    const { vault } = await createVault(join(dir, 'vault'), 'pw', { scrypt: TEST_SCRYPT });
    const sealed = join(dir, 'tape.ksv');
    await encryptFile(tape, sealed, vault);
    // A cut every half second: more clips than are pictured.
    const cuts = Array.from({ length: 64 }, (_, i) => ({
      at: 0.5 * (i + 1),
      confidence: 0.5,
      reasons: ['scene' as const],
    }));
    const a = analysis(cuts);
    const clips = proposedClips(a);
    expect(clips.length).toBeGreaterThan(MAX_CLIPS_WITH_PICTURES);
    const file = await VaultFile.open(sealed, { vault });
    try {
      const made = await makeClipPictures(file, await locateFfmpeg(), a, clips);
      if (!Array.isArray(made)) throw new Error(`no pictures: ${made.detail}`);
      expect(made).toHaveLength(MAX_CLIPS_WITH_PICTURES);
      expect(made.every((p) => p.length === FRAMES_PER_CLIP)).toBe(true);
      const meta = await sharp(made[0]![0]!).metadata();
      expect(meta).toMatchObject({ format: 'jpeg', width: CLIP_PICTURE_WIDTH, height: 120 });
    } finally {
      await file.close();
    }
  }, 120_000);
});
