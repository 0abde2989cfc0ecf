// Reads what the tape analysis's FFmpeg prints (tape-analysis.ts): the metadata filter's
// blocks, one per frame and printer, on a pipe:
//
//   frame:12   pts:1080    pts_time:0.48
//   lavfi.scd.score=0.31
//   lavfi.black_start=8.01
//
// Each printer writes a block in one go (the filter graph runs one filter at a time), so
// blocks never interleave; which printer wrote one is told by its keys. The collector
// keeps running sums, not the blocks: a three-hour tape prints hundreds of thousands.

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
  /** Sampled frames: time, share of temporal outlier pixels (dropouts), mean brightness. */
  pictures: { at: number; tout: number; yavg: number }[];
  /** One entry per second of sound: its peak (dBFS) and how many samples reached it. */
  sound: { at: number; peak: number; peakCount: number }[];
  /** Where the first frame of each kind was: times are made relative to it. */
  firstVideo?: number;
  firstAudio?: number;
}

const HEADER = /^frame:\s*\d+\s+pts:\s*\S+\s+pts_time:\s*(\S+)/;

export class SignalCollector {
  readonly signals: TapeSignals = {
    fields: { tff: 0, bff: 0, progressive: 0, undetermined: 0 },
    crops: [],
    scenes: [],
    black: [],
    silence: [],
    frameTimes: [],
    pictures: [],
    sound: [],
  };
  private pending = '';
  private time = Number.NaN;
  private block = new Map<string, string>();
  private blackStart: number | undefined;
  private silenceStart: number | undefined;

  /** Feeds a chunk of the printed text (any split). */
  push(chunk: Buffer | string): void {
    this.pending += typeof chunk === 'string' ? chunk : chunk.toString('latin1');
    let newline: number;
    while ((newline = this.pending.indexOf('\n')) >= 0) {
      this.line(this.pending.slice(0, newline).trim());
      this.pending = this.pending.slice(newline + 1);
    }
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
    } else if (b.has('scd.score')) {
      s.firstVideo ??= t;
      s.frameTimes.push(t);
      if (b.has('scd.time')) s.scenes.push({ at: t, score: num('scd.score') });
      if (b.has('black_start')) this.blackStart = num('black_start');
      if (b.has('black_end') && this.blackStart !== undefined) {
        s.black.push({ start: this.blackStart, end: num('black_end') });
        this.blackStart = undefined;
      }
    } else if (b.has('signalstats.YAVG')) {
      s.pictures.push({ at: t, tout: num('signalstats.TOUT'), yavg: num('signalstats.YAVG') });
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
