// A video's poster and sprite are drawn as the picture is shown, not as it is stored: a
// PAL tape's 720×576 frame with 16:15 pixels is a 4:3 picture, a 64:45 one is 16:9.

import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { plainByteSource, serveLoopback } from '../ffmpeg/input-source';
import { locateFfmpeg } from '../ffmpeg/locate';
import { makeClip } from '../testing/media';
import { TEST_SCRYPT, freshDir } from '../testing/tmp';
import { encryptFile } from '../vault/file-ops';
import { createVault } from '../vault/keyring';
import { VaultFile } from '../vault/vault-file';
import {
  SLICE_BYTES,
  frameArgs,
  makeVideoPictures,
  sampleFrames,
  samplePoints,
  type Frame,
} from './preview-video';
import { isFailure } from './preview-types';

describe('video pictures keep the shape the video is shown at', () => {
  for (const [sar, poster, frame] of [
    ['16/15', [768, 576], [160, 120]],
    ['64/45', [1024, 576], [160, 90]],
  ] as const) {
    it(`720×576 with ${sar} pixels: poster ${poster.join('×')}, sprite frames ${frame.join('×')}`, async () => {
      const dir = await freshDir();
      const { vault } = await createVault(join(dir, 'vault'), 'pw', {
        scrypt: TEST_SCRYPT,
        recovery: false,
      });
      const clip = await makeClip(dir, 'tape.mp4', {
        size: '720x576',
        outputArgs: ['-vf', `setsar=${sar}`],
      });
      const sealed = join(dir, 'tape.mp4.ksv');
      await encryptFile(clip, sealed, vault);
      const file = await VaultFile.open(sealed, { vault });
      try {
        const made = await makeVideoPictures(file, await locateFfmpeg(), 'tape.mp4');
        if (isFailure(made)) throw new Error(made.detail);
        const byKind = new Map(made.map((p) => [p.kind, p]));
        expect([byKind.get('poster')!.width, byKind.get('poster')!.height]).toEqual(poster);
        const sprite = byKind.get('sprite')!;
        expect([sprite.width / sprite.frames!, sprite.height]).toEqual(frame);
      } finally {
        await file.close();
      }
    });
  }
});

// An MP4 or QuickTime header describes its streams, so FFmpeg is not asked to look at the
// first pictures too: each of the ten inputs then opens one connection fewer (and costs
// one check of the socket table fewer), and takes the same frames.
describe('the frames of an MP4 or QuickTime video, read without a look at its start', () => {
  for (const [name, videoCodec] of [
    ['clip.mp4', 'libx264'],
    ['camera.mov', 'mjpeg'],
  ] as const) {
    it(`${name} (${videoCodec}): the same frames, a connection fewer per input`, async () => {
      const dir = await freshDir();
      const clip = await makeClip(dir, name, {
        seconds: 12,
        size: '1280x720',
        videoCodec,
        outputArgs: videoCodec === 'mjpeg' ? ['-pix_fmt', 'yuvj420p'] : ['-g', '50'],
      });
      const tools = await locateFfmpeg();
      const take = async (demuxer: string | undefined) => {
        const source = await plainByteSource(clip);
        const ranges: (string | undefined)[] = [];
        const served = await serveLoopback(source, {
          sliceBytes: SLICE_BYTES,
          onRequest: (r) => ranges.push(r),
        });
        try {
          const frames = await sampleFrames(tools, served, demuxer, samplePoints(12));
          if (!Array.isArray(frames)) throw new Error(frames.detail);
          return { frames, requests: ranges.length };
        } finally {
          await served.close();
          await source.close();
        }
      };
      const looked = await take(undefined);
      const told = await take('mov');
      const same = (a: Frame[], b: Frame[]) =>
        a.length === b.length && a.every((f, i) => f.rgb.equals(b[i]!.rgb));
      expect(told.frames).toHaveLength(10);
      expect(same(told.frames, looked.frames)).toBe(true);
      // Per input: the 407, its start, its index at the end, and its seek. With the look,
      // one more each, but the first input then finds its first point in what it read.
      expect(told.requests).toBeLessThanOrEqual(40);
      expect(
        looked.requests - told.requests,
        `${looked.requests} vs ${told.requests}`,
      ).toBeGreaterThanOrEqual(9);
    }, 60_000);
  }
});

describe('frameArgs', () => {
  it('gives each of the ten inputs one decoding thread, and only an MP4 no look at its start', () => {
    const input = { url: 'http://keepsake.invalid/media', env: {} };
    const points = samplePoints(60);
    const count = (args: string[], flag: string, value?: string) =>
      args.filter((a, i) => a === flag && (value === undefined || args[i + 1] === value)).length;
    const mov = frameArgs(input, 'mov', points);
    expect(count(mov, '-i')).toBe(10);
    expect(count(mov, '-threads', '1')).toBe(10);
    expect(count(mov, '-nofind_stream_info')).toBe(10);
    const ts = frameArgs(input, 'mpegts', points);
    expect(count(ts, '-threads', '1')).toBe(10);
    expect(count(ts, '-nofind_stream_info')).toBe(0);
  });
});
