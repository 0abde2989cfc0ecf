// The gate's verdict and notes from the scores alone: VMAF under its floor fails with the
// score in the message; VMAF not measured neither passes nor fails the copy, and says so.

import { describe, expect, it } from 'vitest';
import { isKeepsakeError } from '../core/errors';
import type { QualityCheck } from '../presets/preset';
import { checkScores, scoresNote, storedScores } from './verify-quality';

const check: QualityCheck = {
  kind: 'quality',
  output: 'archive.mkv',
  reference: [],
  minSsim: 0.45,
  minPsnr: 26,
  minVmaf: 40,
  vmaf: true,
};

function verdict(scores: Parameters<typeof checkScores>[1]): string | undefined {
  try {
    checkScores(check, scores);
    return undefined;
  } catch (err) {
    expect(isKeepsakeError(err, 'OUTPUT_CHECK_FAILED')).toBe(true);
    return (err as Error).message;
  }
}

describe('the quality gate verdict', () => {
  it('fails a copy whose VMAF is under the floor, with the score', () => {
    expect(verdict({ ssim: 0.9, psnr: 30, vmaf: 31.26 })).toBe(
      'archive.mkv: the picture came out too far from the original to keep (likeness 0.900, ' +
        'needs 0.45; clarity 30.0 dB, needs 26 dB; VMAF 31.3, needs 40); try a better quality setting',
    );
    expect(verdict({ ssim: 0.9, psnr: 30, vmaf: 40 })).toBeUndefined();
  });

  it('lets SSIM and PSNR decide when VMAF was not measured, and says it was not', () => {
    const unmeasured = { ssim: 0.9, psnr: 30, vmaf: null, vmafMissing: 'this FFmpeg has no VMAF' };
    expect(verdict(unmeasured)).toBeUndefined();
    expect(verdict({ ...unmeasured, psnr: 22.4 })).toMatch(/clarity 22\.4 dB, needs 26 dB\); try/);
    expect(scoresNote('archive.mkv', unmeasured)).toBe(
      'archive.mkv: picture checked against the original: SSIM 0.9000, PSNR 30.00 dB; VMAF not measured (this FFmpeg has no VMAF)',
    );
    expect(scoresNote('archive.mkv', { ssim: 0.99, psnr: 44, vmaf: 95.5 })).toBe(
      'archive.mkv: picture checked against the original: SSIM 0.9900, PSNR 44.00 dB, VMAF 95.50',
    );
    // Kept with the output: not measured stays null (not a pass, not a zero); the why is
    // in the notes only.
    expect(storedScores(unmeasured)).toEqual({ ssim: 0.9, psnr: 30, vmaf: null });
    expect(storedScores({ ssim: 0.9, psnr: 30 })).toEqual({ ssim: 0.9, psnr: 30 });
  });
});
