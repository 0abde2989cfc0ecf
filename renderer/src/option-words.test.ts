import { describe, expect, it } from 'vitest';
import { optionWords } from './option-words';

describe('optionWords', () => {
  it("says the photo formats in words, and AVIF, which the engine refuses, can't be picked", () => {
    expect(optionWords('photo-web', 'format', 'jpeg')).toEqual({
      label: 'JPEG — opens everywhere',
      disabled: false,
    });
    expect(optionWords('photo-web', 'format', 'webp').label).toMatch(/^WebP — /);
    expect(optionWords('photo-web', 'format', 'avif')).toEqual({
      label: 'AVIF — cannot be made yet',
      disabled: true,
    });
  });

  it('shows any other value as it is', () => {
    expect(optionWords('photo-web', 'format', 'png')).toEqual({ label: 'png', disabled: false });
    expect(optionWords('web-h264', 'maxHeight', '360')).toEqual({ label: '360', disabled: false });
  });
});
