import { describe, expect, it } from 'vitest';
import { playability, type PlayableInput } from './item-playable';

const h264 = {
  videoCodec: 'h264',
  audioCodec: 'aac',
  hasAudio: true,
  height: 1080,
  durationSeconds: 30,
};

describe('playability', () => {
  const cases: [string, PlayableInput, { browserPlayable: boolean; tape: boolean }][] = [
    [
      'an H.264/AAC MP4',
      { kind: 'video', rel: 'a/clip.mp4', encrypted: true, info: h264 },
      { browserPlayable: true, tape: false },
    ],
    [
      'the same, not in the vault yet',
      { kind: 'video', rel: 'clip.mp4', encrypted: false, info: h264 },
      { browserPlayable: false, tape: false },
    ],
    [
      'a QuickTime file from a phone',
      { kind: 'video', rel: 'IMG_0001.MOV', encrypted: true, info: h264 },
      { browserPlayable: true, tape: false },
    ],
    [
      'VP9/Opus WebM',
      {
        kind: 'video',
        rel: 'x.webm',
        encrypted: true,
        info: { ...h264, videoCodec: 'vp9', audioCodec: 'opus' },
      },
      { browserPlayable: true, tape: false },
    ],
    [
      'AV1 without sound',
      {
        kind: 'video',
        rel: 'x.mp4',
        encrypted: true,
        info: { videoCodec: 'av1', hasAudio: false },
      },
      { browserPlayable: true, tape: false },
    ],
    [
      'HEVC',
      { kind: 'video', rel: 'x.mp4', encrypted: true, info: { ...h264, videoCodec: 'hevc' } },
      { browserPlayable: false, tape: false },
    ],
    [
      'H.264 with AC-3 sound',
      { kind: 'video', rel: 'x.mp4', encrypted: true, info: { ...h264, audioCodec: 'ac3' } },
      { browserPlayable: false, tape: false },
    ],
    [
      'H.264 in Matroska',
      { kind: 'video', rel: 'x.mkv', encrypted: true, info: h264 },
      { browserPlayable: false, tape: false },
    ],
    [
      'a video not read yet',
      { kind: 'video', rel: 'x.mp4', encrypted: true },
      { browserPlayable: false, tape: false },
    ],
    [
      'a damaged MP4',
      { kind: 'video', rel: 'x.mp4', encrypted: true, info: { ...h264, attention: 'damaged' } },
      { browserPlayable: false, tape: false },
    ],
    [
      'a PAL DV tape of an hour',
      {
        kind: 'video',
        rel: 'tape.dv',
        encrypted: true,
        info: {
          videoCodec: 'dvvideo',
          audioCodec: 'pcm_s16le',
          hasAudio: true,
          height: 576,
          durationSeconds: 3600,
        },
      },
      { browserPlayable: false, tape: true },
    ],
    [
      'an NTSC tape digitised to MP4, exactly 10 minutes',
      {
        kind: 'video',
        rel: 'tape.mp4',
        encrypted: true,
        info: { ...h264, height: 480, durationSeconds: 600 },
      },
      { browserPlayable: true, tape: true },
    ],
    [
      'a short SD clip',
      {
        kind: 'video',
        rel: 'old.avi',
        encrypted: true,
        info: { videoCodec: 'mpeg4', hasAudio: false, height: 480, durationSeconds: 599 },
      },
      { browserPlayable: false, tape: false },
    ],
    [
      'a long HD video',
      {
        kind: 'video',
        rel: 'x.mp4',
        encrypted: true,
        info: { ...h264, height: 720, durationSeconds: 7200 },
      },
      { browserPlayable: true, tape: false },
    ],
    [
      'a JPEG',
      { kind: 'photo', rel: 'p.JPG', encrypted: true },
      { browserPlayable: true, tape: false },
    ],
    [
      'a PNG, read',
      { kind: 'photo', rel: 'p.png', encrypted: true, info: { hasAudio: false } },
      { browserPlayable: true, tape: false },
    ],
    [
      'a HEIC',
      { kind: 'photo', rel: 'p.heic', encrypted: true },
      { browserPlayable: false, tape: false },
    ],
    [
      'a JPEG that will not decode',
      {
        kind: 'photo',
        rel: 'p.jpg',
        encrypted: true,
        info: { hasAudio: false, attention: 'damaged' },
      },
      { browserPlayable: false, tape: false },
    ],
    [
      'a song',
      { kind: 'audio', rel: 's.mp3', encrypted: true, info: { audioCodec: 'mp3', hasAudio: true } },
      { browserPlayable: false, tape: false },
    ],
  ];
  it.each(cases)('%s', (_name, input, expected) => {
    expect(playability(input)).toEqual(expected);
  });
});
