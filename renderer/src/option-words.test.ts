import { describe, expect, it } from 'vitest';
import { optionWords } from './option-words';

describe('optionWords', () => {
  it('says the photo formats in words', () => {
    expect(optionWords('photo-web', 'format', 'jpeg')).toBe('JPEG — opens everywhere');
    expect(optionWords('photo-web', 'format', 'webp')).toMatch(/^WebP — /);
    expect(optionWords('photo-web', 'format', 'avif')).toMatch(/^AVIF — /);
  });

  it('shows any other value as it is', () => {
    expect(optionWords('photo-web', 'format', 'png')).toBe('png');
    expect(optionWords('web-h264', 'maxHeight', '360')).toBe('360');
  });
});
