// The poster's choice among sampled frames, on frames made here: black, a flat blue
// screen, a white-out and pictures; and FFmpeg's PPM stream cut into frames however its
// bytes arrive.

import { describe, expect, it } from 'vitest';
import { choosePoster, lumaStats, showsSomething } from './preview-luma';
import { PpmReader, samplePoints } from './preview-video';

const W = 64;
const H = 48;

function frame(pixel: (x: number, y: number) => [number, number, number]): Buffer {
  const rgb = Buffer.alloc(W * H * 3);
  for (let y = 0; y < H; y++) {
    for (let x = 0; x < W; x++) rgb.set(pixel(x, y), (y * W + x) * 3);
  }
  return rgb;
}

const black = frame(() => [4, 4, 4]);
const blueScreen = frame(() => [20, 40, 200]);
const whiteOut = frame(() => [252, 252, 252]);
/** A scene: a gradient with stripes. */
const scene = (shift: number) =>
  frame((x, y) => {
    const v = (x * 3 + y * 2 + shift) % 256;
    return [v, (v + 60) % 256, x % 8 < 4 ? 30 : 220];
  });

describe('poster choice', () => {
  it('tells black, flat and white frames from pictures', () => {
    expect(showsSomething(lumaStats(black, W, H))).toBe(false);
    expect(showsSomething(lumaStats(blueScreen, W, H))).toBe(false);
    expect(showsSomething(lumaStats(whiteOut, W, H))).toBe(false);
    expect(showsSomething(lumaStats(scene(0), W, H))).toBe(true);
    expect(lumaStats(black, W, H).mean).toBeCloseTo(4, 0);
  });

  it('passes over black openings and blank tape, and takes the most typical picture', () => {
    const frames = [black, black, blueScreen, scene(0), scene(5), whiteOut, scene(10)];
    const chosen = choosePoster(frames.map((f) => lumaStats(f, W, H)));
    expect([3, 4, 6]).toContain(chosen);
    // An odd one out (a bright flash among darker scenes) is not the poster.
    const dark = (shift: number) =>
      frame((x, y) => {
        const v = 30 + ((x + y + shift) % 60);
        return [v, v, v];
      });
    const flash = frame((x) => [150 + (x % 80), 150 + (x % 80), 150 + (x % 80)]);
    const mixed = [dark(0), flash, dark(3), dark(6)];
    expect(choosePoster(mixed.map((f) => lumaStats(f, W, H)))).not.toBe(1);
  });

  it('falls back to the frame with the most detail when none shows anything', () => {
    const dim = frame((x) => [x % 4 < 2 ? 0 : 60, 0, 0]);
    expect(choosePoster([black, dim, black].map((f) => lumaStats(f, W, H)))).toBe(1);
  });

  it('samples the middle of equal parts, or the start when the length is unknown', () => {
    expect(samplePoints(10, 5)).toEqual([1, 3, 5, 7, 9]);
    expect(samplePoints(0)).toEqual([0]);
    expect(samplePoints(Number.NaN)).toEqual([0]);
  });
});

describe('PpmReader', () => {
  const ppm = (w: number, h: number, fill: number) =>
    Buffer.concat([Buffer.from(`P6\n${w} ${h}\n255\n`), Buffer.alloc(w * h * 3, fill)]);

  it('cuts frames out of a stream however it is split', () => {
    const stream = Buffer.concat([ppm(4, 2, 1), ppm(4, 2, 2), ppm(4, 2, 3)]);
    for (const size of [1, 7, 25, stream.length]) {
      const reader = new PpmReader(3);
      for (let at = 0; at < stream.length; at += size) {
        expect(reader.push(stream.subarray(at, at + size))).toBe(true);
      }
      expect(reader.frames.map((f) => [f.width, f.height, f.rgb[0], f.rgb.length])).toEqual([
        [4, 2, 1, 24],
        [4, 2, 2, 24],
        [4, 2, 3, 24],
      ]);
    }
  });

  it('refuses more frames than asked for, and bytes that are no PPM', () => {
    const reader = new PpmReader(1);
    expect(reader.push(Buffer.concat([ppm(2, 2, 0), ppm(2, 2, 0)]))).toBe(false);
    expect(new PpmReader(2).push(Buffer.from('GIF89a and more bytes than a header holds...'))).toBe(
      false,
    );
  });
});
