import { describe, expect, it } from 'vitest';
import { checkedNote } from './output-check-note';

describe('checkedNote', () => {
  const output = { name: 'restored.mkv', size: 1 };

  it('says an exact master was compared picture by picture', () => {
    expect(checkedNote({ state: 'succeeded', preset: 'exact-master', outputs: [output] })).toBe(
      'Checked picture by picture: an exact copy of the original.',
    );
  });

  it('gives a restored copy its scores', () => {
    const job = {
      state: 'succeeded' as const,
      preset: 'vhs-restore',
      outputs: [{ ...output, quality: { ssim: 0.98765, psnr: 41.234 } }],
    };
    expect(checkedNote(job)).toBe(
      'Checked against the original: the picture came out right (SSIM 0.988, PSNR 41.2 dB).',
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
