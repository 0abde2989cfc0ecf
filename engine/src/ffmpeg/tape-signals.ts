// Reads what the tape analysis's FFmpeg prints (tape-analysis.ts): the metadata filter's
// blocks, one per frame, each printer on a pipe of its own:
//
//   frame:12   pts:1080    pts_time:0.48
//   lavfi.scd.score=0.31
//   lavfi.black_start=8.01
//
// A printer writes through a buffer of its own (a write per few hundred blocks, not one
// per line), so it needs a pipe of its own: one collector reads each pipe, and they all
// add to one TapeSignals. Which printer wrote a block is told by its keys. The collectors
// keep running sums, not the blocks: a three-hour tape prints hundreds of thousands.

import type { Interval, SceneChange } from './tape-cuts';

export interface FieldCounts {
  tff: number;
  bff: number;
  progressive: number;
  undetermined: number;
}

export interface CropBox {
  width: number;
  height: number;
  x: number;
  y: number;
}

/** Everything measured, before it is judged (tape-analysis.ts). */
export interface TapeSignals {
  fields: FieldCounts;
  /** cropdetect's box on sampled frames. */
  crops: CropBox[];
  scenes: SceneChange[];
  black: Interval[];
  silence: Interval[];
  /** Times of the video frames seen (every frame), for stretches that did not decode. */
  frameTimes: number[];
  /** Sampled frames: time and share of temporal outlier pixels (dropouts). */
  pictures: { at: number; tout: number }[];
  /** One entry per second of sound: its peak (dBFS) and how many samples reached it. */
  sound: { at: number; peak: number; peakCount: number }[];
  /** Where the first frame of each kind was: times are made relative to it. */
  firstVideo?: number;
  firstAudio?: number;
}

const HEADER = /^frame:\s*\d+\s+pts:\s*\S+\s+pts_time:\s*(\S+)/;

export function emptySignals(): TapeSignals {
  return {
    fields: { tff: 0, bff: 0, progressive: 0, undetermined: 0 },
    crops: [],
    scenes: [],
    black: [],
    silence: [],
    frameTimes: [],
    pictures: [],
    sound: [],
  };
}

export class SignalCollector {
  /**
   * `signals` may be shared with the collectors of the other pipes. A `layout` collector
   * reads the scdet that compares block means (tape-analysis.ts): its blocks are scene
   * changes only, and the frames' times come from the other scdet's pipe.
   */
  constructor(
    readonly signals: TapeSignals = emptySignals(),
    readonly reads: 'frames' | 'layout' = 'frames',
  ) {}

  private pending = '';
  private time = Number.NaN;
  private block = new Map<string, string>();
  private blackStart: number | undefined;
  private silenceStart: number | undefined;

  /** Feeds a chunk of the printed text (any split). */
  push(chunk: Buffer | string): void {
    const text = this.pending + (typeof chunk === 'string' ? chunk : chunk.toString('latin1'));
    let from = 0;
    let newline: number;
    while ((newline = text.indexOf('\n', from)) >= 0) {
      this.line(text.slice(from, newline).trim());
      from = newline + 1;
    }
    this.pending = text.slice(from);
  }

  /** Ends the input: closes the last block, and any black or silence still open at the end. */
  end(durationSeconds: number): TapeSignals {
    if (this.pending.trim()) this.line(this.pending.trim());
    this.pending = '';
    this.flush();
    const s = this.signals;
    if (this.blackStart !== undefined)
      s.black.push({ start: this.blackStart, end: durationSeconds });
    if (this.silenceStart !== undefined) {
      s.silence.push({ start: this.silenceStart, end: durationSeconds });
    }
    this.blackStart = this.silenceStart = undefined;
    return s;
  }

  private line(line: string): void {
    const header = HEADER.exec(line);
    if (header) {
      this.flush();
      this.time = Number(header[1]);
      return;
    }
    const eq = line.indexOf('=');
    if (eq > 0 && line.startsWith('lavfi.')) this.block.set(line.slice(6, eq), line.slice(eq + 1));
  }

  private flush(): void {
    const b = this.block;
    if (b.size === 0 || !Number.isFinite(this.time)) {
      b.clear();
      return;
    }
    const s = this.signals;
    const num = (key: string) => Number(b.get(key) ?? 0);
    const t = this.time;
    if (b.has('idet.multiple.tff')) {
      // Running counts: the last block holds them all.
      s.fields = {
        tff: num('idet.multiple.tff'),
        bff: num('idet.multiple.bff'),
        progressive: num('idet.multiple.progressive'),
        undetermined: num('idet.multiple.undetermined'),
      };
    } else if (b.has('cropdetect.w')) {
      s.crops.push({
        width: num('cropdetect.w'),
        height: num('cropdetect.h'),
        x: num('cropdetect.x'),
        y: num('cropdetect.y'),
      });
    } else if (b.has('scd.score') && this.reads === 'layout') {
      s.scenes.push({ at: t, score: num('scd.score'), layout: true });
    } else if (b.has('scd.score')) {
      s.firstVideo ??= t;
      s.frameTimes.push(t);
      if (b.has('scd.time')) s.scenes.push({ at: t, score: num('scd.score') });
      if (b.has('black_start')) this.blackStart = num('black_start');
      if (b.has('black_end') && this.blackStart !== undefined) {
        s.black.push({ start: this.blackStart, end: num('black_end') });
        this.blackStart = undefined;
      }
    } else if (b.has('signalstats.TOUT')) {
      s.pictures.push({ at: t, tout: num('signalstats.TOUT') });
    } else if (b.has('astats.Overall.Peak_level')) {
      s.firstAudio ??= t;
      s.sound.push({
        at: t,
        peak: num('astats.Overall.Peak_level'),
        peakCount: num('astats.Overall.Peak_count'),
      });
    }
    // silencedetect marks the frames it prints on separately from astats.
    if (b.has('silence_start')) this.silenceStart = num('silence_start');
    if (b.has('silence_end')) {
      s.silence.push({ start: this.silenceStart ?? 0, end: num('silence_end') });
      this.silenceStart = undefined;
    }
    b.clear();
  }
}
