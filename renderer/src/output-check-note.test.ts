import { describe, expect, it } from 'vitest';
import { checkedNote } from './output-check-note';

describe('checkedNote', () => {
  const output = { name: 'restored.mkv', size: 1 };
  const scored = (
    preset: string,
    quality: { ssim: number; psnr: number; vmaf?: number | null },
  ) => ({
    state: 'succeeded' as const,
    preset,
    outputs: [{ ...output, quality }],
  });

  it('says an exact master was compared picture by picture', () => {
    expect(checkedNote({ state: 'succeeded', preset: 'exact-master', outputs: [output] })).toEqual({
      sentence: 'Checked picture by picture: an exact copy of the original.',
    });
  });

  it('says in words how a scored copy looks, the scores only under Details', () => {
    expect(checkedNote(scored('vhs-restore', { ssim: 0.98765, psnr: 41.234 }))).toEqual({
      sentence: 'Checked against the original: it looks the same.',
      details: 'Likeness (SSIM) 0.988 · clarity (PSNR) 41.2 dB',
    });
    expect(checkedNote(scored('archive-hevc', { ssim: 0.996, psnr: 45.7, vmaf: 96.04 }))).toEqual({
      sentence: 'Checked against the original: it looks the same.',
      details: 'Likeness (SSIM) 0.996 · clarity (PSNR) 45.7 dB · VMAF 96.0',
    });
    // A noisy tape whose grain the encoder smoothed: close, not the same.
    const noisy = checkedNote(scored('archive-hevc', { ssim: 0.795, psnr: 33, vmaf: null }));
    expect(noisy).toEqual({
      sentence: 'Checked against the original: it looks close to it.',
      details:
        'Likeness (SSIM) 0.795 · clarity (PSNR) 33.0 dB · VMAF not measured (this FFmpeg cannot)',
    });
    expect(noisy!.sentence).not.toMatch(/SSIM|PSNR|VMAF|dB/);
    // VMAF, where measured, must agree.
    expect(checkedNote(scored('archive-av1', { ssim: 0.99, psnr: 44, vmaf: 70 }))!.sentence).toBe(
      'Checked against the original: it looks close to it.',
    );
  });

  it('claims nothing for a copy not checked so, or not finished', () => {
    expect(checkedNote({ state: 'succeeded', preset: 'web-h264', outputs: [output] })).toBe(
      undefined,
    );
    expect(checkedNote({ state: 'running', preset: 'exact-master', outputs: [] })).toBe(undefined);
    expect(checkedNote(undefined)).toBe(undefined);
  });
});
