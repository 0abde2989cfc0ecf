import { describe, expect, it } from 'vitest';
import { EngineError } from './engine-client';
import { describeFfmpeg, describeLoadError } from './status-text';

describe('describeFfmpeg', () => {
  it('names the version and where the binary came from', () => {
    expect(describeFfmpeg({ source: 'npm-package', version: '6.1.1' })).toEqual({
      ok: true,
      text: '6.1.1 · bundled npm package',
    });
    expect(describeFfmpeg({ source: 'env', version: 'n7.0' }).text).toBe('n7.0 · from FFMPEG_PATH');
  });

  it('passes the engine message through when FFmpeg is missing', () => {
    const result = describeFfmpeg({
      error: { code: 'FFMPEG_NOT_FOUND', message: 'no usable ffmpeg found' },
    });
    expect(result).toEqual({ ok: false, text: 'Not available: no usable ffmpeg found' });
  });
});

describe('describeLoadError', () => {
  it('explains a missing token and an unreachable engine in plain words', () => {
    expect(describeLoadError(new EngineError('UNAUTHORIZED', 'x', 401))).toMatch(/access token/);
    expect(describeLoadError(new EngineError('ENGINE_UNREACHABLE', 'x', 0))).toMatch(/not running/);
    expect(describeLoadError(new EngineError('INTERNAL', 'Something broke.', 500))).toBe(
      'Something broke.',
    );
  });
});
