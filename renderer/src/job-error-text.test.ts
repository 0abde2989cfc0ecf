import { describe, expect, it } from 'vitest';
import type { DesktopJob } from './engine-client';
import { describeFailure, quotedName } from './job-error-text';

const failed = (code: string, message: string, more: Partial<DesktopJob> = {}) =>
  ({
    state: 'failed',
    fileName: 'tapes/Christmas 1989.mpg',
    lastError: { code, message },
    ...more,
  }) as DesktopJob;

describe('describeFailure', () => {
  it.each([
    [
      'UNSUPPORTED_INPUT',
      'the input is not a video',
      '“Christmas 1989.mpg” is not a video Keepsake can read.',
    ],
    [
      'UNSUPPORTED_INPUT',
      'preset web-h264 takes a video, and this is an image',
      '“Christmas 1989.mpg” is not a video Keepsake can read.',
    ],
    [
      'UNSUPPORTED_INPUT',
      'preset photo-web takes a still image, and this is a mpeg file without video',
      '“Christmas 1989.mpg” is not a photo Keepsake can read.',
    ],
    [
      'UNSUPPORTED_INPUT',
      '"hls" inputs are refused: Keepsake reads only video and photo containers (MP4/MOV, …)',
      '“Christmas 1989.mpg” is not a video or photo Keepsake can read.',
    ],
    [
      'FFMPEG_FAILED',
      'FFmpeg exited with status 1: Invalid data found when processing input',
      'Keepsake could not make this from “Christmas 1989.mpg”. The file may be damaged.',
    ],
    [
      'PAYLOAD_CORRUPT',
      'chunk 12 failed authentication',
      'The protected copy of “Christmas 1989.mpg” is damaged, so nothing could be made from it.',
    ],
    [
      'DISK_FULL',
      'no space left on the device',
      'The disk is full. Free some space, then try again.',
    ],
    // A code without a sentence of its own: the engine's words, made a sentence.
    [
      'CLOCK_SKEW',
      "this computer's clock is 10 minutes off",
      "This computer's clock is 10 minutes off.",
    ],
  ])('%s: %s', (code, message, sentence) => {
    const text = describeFailure(failed(code, message))!;
    expect(text.sentence).toBe(sentence);
    // The code stays, apart, for support; the engine's words too.
    expect(text.code).toBe(code);
    expect(text.detail).toBe(message);
  });

  it('never shows a vault path or a code in the sentence', () => {
    const text = describeFailure(
      failed('UNSUPPORTED_INPUT', '/data/library/fi5n/mosv.ksv: the input is not a video'),
    )!;
    expect(text.sentence).not.toMatch(/\.ksv|library\/|UNSUPPORTED_INPUT/);
  });

  it('names the server a remote job could not reach', () => {
    const text = describeFailure(
      failed('SERVER_UNREACHABLE', 'lxc: ECONNREFUSED', { remote: 'lxc' }),
    );
    expect(text?.sentence).toBe('The server “lxc” could not be reached.');
  });

  it('says "this file" for a job whose file is gone from the library', () => {
    expect(quotedName({ fileName: undefined })).toBe('this file');
    const text = describeFailure(failed('FFMPEG_FAILED', 'x', { fileName: undefined }));
    expect(text?.sentence).toBe(
      'Keepsake could not make this from this file. The file may be damaged.',
    );
    expect(describeFailure({ state: 'failed' } as DesktopJob)).toBeUndefined();
  });
});
