// Which frame of a video's sprite strip to show for where the pointer is on its tile, and
// the CSS that shows just that frame, scaled to cover the tile the way the poster does
// (`object-fit: cover`): a 4:3 or 16:9 frame keeps its shape and is cropped at the sides,
// never squeezed. Percentages only, so the same values hold at any tile size.

interface SpriteView {
  /** The frame shown, 0 = the start of the video. */
  frame: number;
  /** CSS `background-size`. */
  size: string;
  /** CSS `background-position`. */
  position: string;
}

/** The frame for a pointer at `fraction` (0 = left edge, 1 = right edge) of the tile. */
export function frameAt(fraction: number, frames: number): number {
  const n = Math.max(1, Math.floor(frames));
  const f = Number.isFinite(fraction) ? Math.min(1, Math.max(0, fraction)) : 0;
  return Math.min(n - 1, Math.floor(f * n));
}

const pct = (n: number) => `${Number(n.toFixed(4))}%`;

/**
 * The background for frame `frame` of a strip `stripWidth` × `stripHeight` px holding
 * `frames` frames side by side, in a box of aspect `boxAspect` (width / height).
 */
export function spriteView(
  frame: number,
  strip: { width: number; height: number; frames: number },
  boxAspect = 1,
): SpriteView {
  const n = Math.max(1, Math.floor(strip.frames));
  const i = Math.min(n - 1, Math.max(0, Math.floor(frame)));
  const frameAspect = strip.width / n / Math.max(1, strip.height);
  // One frame's width in box widths: wider than the box when the frame is wider in shape
  // (its height then fills the box), else exactly the box (its width fills it).
  const fw = Math.max(1, frameAspect / boxAspect);
  const stripInBoxes = n * fw;
  // A background-position of p% puts the image's p% point on the box's p% point, so the
  // image's left edge sits at p × (box − image). Solved for frame i's centre at the
  // box's centre: p = (i·fw + (fw − 1)/2) / (n·fw − 1).
  const spare = stripInBoxes - 1;
  const x = spare > 0 ? ((i * fw + (fw - 1) / 2) / spare) * 100 : 0;
  return { frame: i, size: `${pct(stripInBoxes * 100)} auto`, position: `${pct(x)} 50%` };
}
