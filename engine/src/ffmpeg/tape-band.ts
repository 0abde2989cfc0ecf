// The head-switching band: the few lines at the bottom of a VHS picture where the player
// switches heads, torn sideways and full of noise. cropdetect cannot see it (it looks for
// black, and the band is anything but), so the analysis sends the bottom rows of a frame a
// second as a small grey strip on a pipe, and this measures each row: how rough it is
// from one pixel to the next. Picture rows are smooth next to noise; the band is the rows
// at the bottom that are much rougher than the picture above them.

/** Rows of the strip at the bottom of each sampled frame. */
export const STRIP_ROWS = 32;
/** The rows at the top of the strip taken as "picture" to compare against. */
const REFERENCE_ROWS = 12;
/** A row this many times rougher than the picture above it (and not merely a little) is band. */
const ROUGHER = 1.5;
const MIN_ROUGHNESS = 6;

export class BandMeter {
  private readonly frameBytes: number;
  private readonly sums: Float64Array;
  private frames = 0;
  private pending: Buffer = Buffer.alloc(0);

  constructor(private readonly width: number) {
    this.frameBytes = width * STRIP_ROWS;
    this.sums = new Float64Array(STRIP_ROWS);
  }

  push(chunk: Buffer): void {
    this.pending = this.pending.length ? Buffer.concat([this.pending, chunk]) : chunk;
    while (this.pending.length >= this.frameBytes) {
      this.frame(this.pending.subarray(0, this.frameBytes));
      this.pending = this.pending.subarray(this.frameBytes);
    }
  }

  private frame(pixels: Buffer): void {
    const w = this.width;
    for (let row = 0; row < STRIP_ROWS; row++) {
      let sum = 0;
      const at = row * w;
      for (let x = 1; x < w; x++) sum += Math.abs(pixels[at + x]! - pixels[at + x - 1]!);
      this.sums[row]! += sum / (w - 1);
    }
    this.frames++;
  }

  /** Mean roughness of each row, top of the strip first. */
  roughness(): number[] {
    return [...this.sums].map((s) => (this.frames ? s / this.frames : 0));
  }

  /** How many rows at the very bottom are band (0 when none, or nothing was measured). */
  bandRows(): number {
    if (this.frames === 0) return 0;
    const rows = this.roughness();
    const reference = [...rows.slice(0, REFERENCE_ROWS)].sort((a, b) => a - b)[
      Math.floor(REFERENCE_ROWS / 2)
    ]!;
    const limit = Math.max(reference * ROUGHER, reference + MIN_ROUGHNESS);
    let band = 0;
    for (let row = STRIP_ROWS - 1; row >= REFERENCE_ROWS; row--) {
      if (rows[row]! <= limit) break;
      band++;
    }
    return band;
  }
}
