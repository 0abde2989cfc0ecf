import { describe, expect, it } from 'vitest';
import { frameAt, spriteView } from './sprite-scrub';

/**
 * Where CSS would draw the strip in a box `box` px wide and `boxH` px high: the strip's
 * left edge and size, from `background-size: W% auto; background-position: X% 50%`.
 * The percentages are rounded, so the checks hold to two places of a pixel.
 */
function place(
  view: { size: string; position: string },
  box: number,
  boxH: number,
  strip: {
    width: number;
    height: number;
  },
) {
  const width = (parseFloat(view.size) / 100) * box;
  const height = (width * strip.height) / strip.width;
  const p = parseFloat(view.position) / 100;
  const left = p * (box - width);
  const top = 0.5 * (boxH - height);
  return { left, top, width, height };
}

describe('frameAt', () => {
  it('splits the tile into one band per frame, ends included', () => {
    expect(frameAt(0, 10)).toBe(0);
    expect(frameAt(0.1, 10)).toBe(1);
    expect(frameAt(0.09, 10)).toBe(0);
    expect(frameAt(0.9, 10)).toBe(9);
    expect(frameAt(1, 10)).toBe(9);
    expect(frameAt(-3, 10)).toBe(0);
    expect(frameAt(7, 10)).toBe(9);
    expect(frameAt(Number.NaN, 10)).toBe(0);
    expect(frameAt(0.5, 0)).toBe(0);
  });
});

describe('spriteView', () => {
  // Ten 160 × 90 frames (16:9), ten 160 × 120 (4:3), ten 90 × 160 (portrait).
  const wide = { width: 1600, height: 90, frames: 10 };
  const fourThree = { width: 1600, height: 120, frames: 10 };
  const tall = { width: 900, height: 160, frames: 10 };

  it.each([
    ['16:9', wide, 16 / 9],
    ['4:3', fourThree, 4 / 3],
  ])('a %s frame fills a square tile by height, centred, unsqueezed', (_, strip, aspect) => {
    for (const frame of [0, 3, 9]) {
      const view = spriteView(frame, strip);
      const at = place(view, 200, 200, strip);
      // Filled by height: the frame is 200 px high and keeps its shape.
      expect(at.height).toBeCloseTo(200, 2);
      const frameWidth = at.width / strip.frames;
      expect(frameWidth / at.height).toBeCloseTo(aspect, 2);
      // Frame `frame` is centred in the box.
      const centre = at.left + (frame + 0.5) * frameWidth;
      expect(centre).toBeCloseTo(100, 2);
    }
  });

  it('a portrait frame fills a square tile by width, centred vertically', () => {
    const view = spriteView(4, tall);
    const at = place(view, 150, 150, tall);
    const frameWidth = at.width / tall.frames;
    expect(frameWidth).toBeCloseTo(150, 2);
    expect(at.left).toBeCloseTo(-4 * 150, 2);
    expect(at.top + at.height / 2).toBeCloseTo(75, 2);
    expect(frameWidth / at.height).toBeCloseTo(90 / 160, 2);
  });

  it('gives different positions for the start and the end, and clamps the frame', () => {
    expect(spriteView(1, wide).position).not.toBe(spriteView(9, wide).position);
    expect(spriteView(99, wide)).toEqual(spriteView(9, wide));
    expect(spriteView(-1, wide).frame).toBe(0);
  });

  it('a one-frame strip of the box shape sits still', () => {
    expect(spriteView(0, { width: 100, height: 100, frames: 1 })).toEqual({
      frame: 0,
      size: '100% auto',
      position: '0% 50%',
    });
  });
});
