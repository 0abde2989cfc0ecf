// When each recording on a DV tape was made, from the camcorder's own clock. FFmpeg does
// not pass a DV frame's recording date on (it reads only the timecode), but every frame
// carries it, so the tape analysis has FFmpeg copy the DV frames out unchanged on a pipe
// of its own (tape-analysis.ts) and this reads them: where the clock jumps, the camcorder
// was stopped and started again, which is where one recording ends and the next begins.
//
// The layout (IEC 61834-2, SMPTE 314M). A DV frame is a run of 80-byte DIF blocks, in DIF
// sequences of 150 blocks (10 sequences a frame for 525/60, 12 for 625/50; twice that for
// DV50's two channels). A block's first byte holds its section type in its top three
// bits: 0 header, 1 subcode, 2 VAUX, 3 audio, 4 video. The header block of sequence 0,
// channel 0 starts a frame, and its fourth byte's top bit (DSF) says 625/50 (25 frames a
// second) or 525/60 (30000/1001).
//
// Metadata is in 5-byte packs: an id byte and four payload bytes, in binary-coded decimal
// (a nibble per digit) with flag bits above the digits. VAUX blocks hold 15 packs each,
// from byte 3; subcode blocks hold 6 sync blocks of 8 bytes (2 id bytes, 1 reserved, then
// the pack). Two packs matter here:
//
//   0x62 rec date   [tz, day (2 bits tens, 4 units), month (1+4; the bits above are the
//                    day of the week), year (4+4, two digits)]
//   0x63 rec time   [frames, seconds (3+4), minutes (3+4), hours (2+4)]
//
// A camcorder writes them in the VAUX (and often in the subcode too); a capture that did
// not come from a camcorder leaves them out, or writes the pack with 0xFF in every digit.
// A digit over 9, a month 13 or a 31st of April is read as no date, never guessed.

/** Frames per second of a DV frame, by its header's DSF bit. */
const PAL_FPS = 25;
const NTSC_FPS = 30000 / 1001;

const BLOCK = 80;
const SECTION_HEADER = 0;
const SECTION_SUBCODE = 1;
const SECTION_VAUX = 2;
const REC_DATE = 0x62;
const REC_TIME = 0x63;

/** A 4-bit BCD digit, or NaN when it is not one (0xF is what an unset pack holds). */
const digit = (nibble: number) => (nibble <= 9 ? nibble : Number.NaN);
/** Tens (masked to `tensBits`) and units of a BCD byte; NaN when either is not a digit. */
function bcd(byte: number, tensBits: number): number {
  return digit((byte >> 4) & ((1 << tensBits) - 1)) * 10 + digit(byte & 0x0f);
}

export interface RecDate {
  year: number;
  month: number;
  day: number;
}
export interface RecTime {
  hours: number;
  minutes: number;
  seconds: number;
}

/**
 * The 0x62 pack at `at`, or undefined when it is not one or holds no real date. Two-digit
 * years from 70 are the 1900s (DV came in 1995; 70 is what a camcorder reset to the epoch
 * writes), the rest the 2000s.
 */
export function readRecDate(pack: Uint8Array, at = 0): RecDate | undefined {
  if (pack.length < at + 5 || pack[at] !== REC_DATE) return undefined;
  const day = bcd(pack[at + 2]!, 2);
  const month = bcd(pack[at + 3]!, 1);
  const yy = bcd(pack[at + 4]!, 4);
  if (!(month >= 1 && month <= 12 && day >= 1 && yy >= 0)) return undefined;
  const year = yy >= 70 ? 1900 + yy : 2000 + yy;
  // A day the month does not have (31 April) comes back as another month.
  if (new Date(Date.UTC(year, month - 1, day)).getUTCMonth() !== month - 1) return undefined;
  return { year, month, day };
}

/** The 0x63 pack at `at`, or undefined when it is not one or holds no real time. */
export function readRecTime(pack: Uint8Array, at = 0): RecTime | undefined {
  if (pack.length < at + 5 || pack[at] !== REC_TIME) return undefined;
  const seconds = bcd(pack[at + 2]!, 3);
  const minutes = bcd(pack[at + 3]!, 3);
  const hours = bcd(pack[at + 4]!, 2);
  if (!(seconds < 60 && minutes < 60 && hours < 24)) return undefined; // NaN fails too
  return { hours, minutes, seconds };
}

/** The camera's clock (it knows no time zone) as seconds, read as if it were UTC. */
function clockSeconds(d: RecDate, t: RecTime): number {
  return Date.UTC(d.year, d.month - 1, d.day, t.hours, t.minutes, t.seconds) / 1000;
}

/** `1994-07-01T10:00:00`: the camera's clock, as library labels take a date. */
export function clockText(seconds: number): string {
  return new Date(seconds * 1000).toISOString().slice(0, 19);
}

/** What one frame said: both packs are needed for a moment; the VAUX's are preferred. */
class FrameDate {
  vaux: { date?: RecDate; time?: RecTime } = {};
  subcode: { date?: RecDate; time?: RecTime } = {};

  take(into: { date?: RecDate; time?: RecTime }, block: Buffer, at: number): void {
    into.date ??= readRecDate(block, at);
    into.time ??= readRecTime(block, at);
  }

  seconds(): number | undefined {
    for (const { date, time } of [this.vaux, this.subcode]) {
      if (date && time) return clockSeconds(date, time);
    }
    return undefined;
  }
}

/**
 * Reads DV frames as FFmpeg copies them out (any split into chunks), and calls `onFrame`
 * with each frame's place on the tape (seconds from its first frame) and the camera's
 * clock then (seconds, or undefined when the frame carries no date).
 */
export class DvFrameReader {
  private carry = Buffer.alloc(0);
  private frames = 0;
  private fps = PAL_FPS;
  private frame: FrameDate | undefined;

  constructor(private readonly onFrame: (at: number, clock: number | undefined) => void) {}

  push(chunk: Buffer): void {
    let from = 0;
    if (this.carry.length > 0) {
      const need = BLOCK - this.carry.length;
      if (chunk.length < need) {
        this.carry = Buffer.concat([this.carry, chunk]);
        return;
      }
      this.block(Buffer.concat([this.carry, chunk.subarray(0, need)]), 0);
      from = need;
    }
    for (; from + BLOCK <= chunk.length; from += BLOCK) this.block(chunk, from);
    // A copy: the tail is kept past this call, and the chunk is not ours to hold.
    this.carry = Buffer.from(chunk.subarray(from));
  }

  /** Reports the last frame. */
  end(): void {
    this.flush();
  }

  private block(b: Buffer, at: number): void {
    const section = b[at]! >> 5;
    if (section === SECTION_HEADER) {
      const sequence = b[at + 1]! >> 4;
      const channel = (b[at + 1]! >> 3) & 1;
      if (sequence !== 0 || channel !== 0) return;
      this.flush();
      this.fps = b[at + 3]! & 0x80 ? PAL_FPS : NTSC_FPS;
      this.frame = new FrameDate();
    } else if (section === SECTION_VAUX && this.frame) {
      for (let p = at + 3; p + 5 <= at + BLOCK; p += 5) this.frame.take(this.frame.vaux, b, p);
    } else if (section === SECTION_SUBCODE && this.frame) {
      for (let s = 0; s < 6; s++) this.frame.take(this.frame.subcode, b, at + 3 + s * 8 + 3);
    }
  }

  private flush(): void {
    if (!this.frame) return;
    this.onFrame(this.frames / this.fps, this.frame.seconds());
    this.frames++;
    this.frame = undefined;
  }
}

/** One recording: where on the tape it starts and the camera's clock then. */
export interface Recording {
  /** Seconds from the tape's first frame. */
  at: number;
  /** The camera's clock at `at`, as `1994-07-01T10:00:00` (no time zone: cameras keep none). */
  recorded: string;
  /**
   * Seconds the clock moved beyond the tape's own time since the recording before (the
   * camcorder was stopped that long); negative when it went back. Absent for the first.
   */
  jumpSeconds?: number;
}

/**
 * A change in the clock beyond the tape's own time larger than this is a new recording.
 * The clock counts whole seconds (the frames digit is rarely set), so between two frames
 * it may move by up to a second more than they are apart.
 */
export const JUMP_SECONDS = 1.5;
/** Frames a new clock must hold for: one frame with a garbled date is not a recording. */
export const HOLD_FRAMES = 5;

interface Run {
  at: number;
  clock: number;
  /** The clock less the tape's time, at the run's latest frame. */
  offset: number;
  frames: number;
}

/**
 * Groups frames into recordings. Within one, the camera's clock and the tape's time move
 * together (their difference is steady to within a second; compared frame to frame, so
 * NTSC's 0.1% drift over an hour does not add up); a frame where the difference changes
 * by more than JUMP_SECONDS starts a new recording once HOLD_FRAMES frames agree with it.
 */
export class RecordingTracker {
  private readonly found: Recording[] = [];
  private current: Run | undefined;
  private candidate: Run | undefined;

  add(at: number, clock: number | undefined): void {
    if (clock === undefined) return;
    const offset = clock - at;
    const agrees = (run: Run) => Math.abs(offset - run.offset) <= JUMP_SECONDS;
    if (!this.current) {
      this.current = { at, clock, offset, frames: 1 };
      this.found.push({ at: round(at), recorded: clockText(clock) });
    } else if (this.candidate && agrees(this.candidate)) {
      this.candidate.offset = offset;
      if (++this.candidate.frames >= HOLD_FRAMES) this.commit(this.candidate);
    } else if (agrees(this.current)) {
      this.current.offset = offset; // a glitch, if there was a candidate, is forgotten
      this.candidate = undefined;
    } else {
      this.candidate = { at, clock, offset, frames: 1 };
    }
  }

  private commit(run: Run): void {
    // Measured at the run's first frame: the clock then, less where the last one had it.
    const jump = run.clock - run.at - this.current!.offset;
    this.found.push({
      at: round(run.at),
      recorded: clockText(run.clock),
      jumpSeconds: Math.round(jump),
    });
    this.current = run;
    this.candidate = undefined;
  }

  recordings(): Recording[] {
    return this.found.map((r) => ({ ...r }));
  }
}

const round = (t: number) => Math.round(t * 1000) / 1000;

/** Reads DV frames off FFmpeg's pipe and says where each recording starts. */
export class DvDateMeter {
  private readonly tracker = new RecordingTracker();
  private readonly reader = new DvFrameReader((at, clock) => this.tracker.add(at, clock));

  push(chunk: Buffer): void {
    this.reader.push(chunk);
  }

  /** The recordings found (none when the frames carry no date); call once FFmpeg is done. */
  recordings(): Recording[] {
    this.reader.end();
    return this.tracker.recordings();
  }
}
