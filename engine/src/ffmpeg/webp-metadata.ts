// FFmpeg's WebP muxer writes the picture and nothing else: no EXIF, no XMP, whatever
// `-map_metadata` says (checked with FFmpeg 5.1), so a photo's date was lost in every
// WebP copy. The engine adds them itself, after FFmpeg and before the output is sealed,
// without touching the picture: a WebP file is a RIFF list of chunks, and EXIF and XMP
// are chunks of the extended format (VP8X), which a simple file is rewritten into.
// https://developers.google.com/speed/webp/docs/riff_container
//
// It works on a stream, never on the whole file: the chunk headers are read as FFmpeg's
// bytes pass by (which fixes the new file's size, which a vault file states up front),
// then the picture's chunks are copied from a second read of the same bytes. So a WebP
// too large to hold in memory (a big lossless one, spooled encrypted by the output sink)
// gets its title and date like a small one. Every WebP output passes through here, with
// or without metadata: FFmpeg leaves a large one's RIFF size at 0 (see below).

import { KeepsakeError } from '../core/errors';

export interface WebpMetadata {
  /** A TIFF-structured EXIF block (starting `II*\0` or `MM\0*`). */
  exif?: Buffer;
  /** An XMP packet. */
  xmp?: Buffer;
}

/** A chunk of the original: its header starts at `at`; `size` bytes of data follow it. */
interface ChunkAt {
  fourcc: string;
  at: number;
  size: number;
}

const FLAG_XMP = 0x04;
const FLAG_EXIF = 0x08;
/** The first bytes of the first chunk's data: enough for a VP8X, or a picture's size. */
const FIRST_DATA = 10;

function bad(why: string): KeepsakeError {
  return new KeepsakeError('OUTPUT_CHECK_FAILED', `photo.webp: ${why}`);
}

/** The picture's size, from the first bytes of the simple format's one image chunk. */
function canvasOf(fourcc: string, d: Buffer): { width: number; height: number } {
  if (fourcc === 'VP8 ' && d.length >= 10 && d[3] === 0x9d && d[4] === 0x01 && d[5] === 0x2a) {
    return { width: d.readUInt16LE(6) & 0x3fff, height: d.readUInt16LE(8) & 0x3fff };
  }
  if (fourcc === 'VP8L' && d.length >= 5 && d[0] === 0x2f) {
    const bits = d.readUInt32LE(1);
    return { width: (bits & 0x3fff) + 1, height: ((bits >>> 14) & 0x3fff) + 1 };
  }
  throw bad(`it starts with an unknown ${fourcc} chunk`);
}

function chunkBytes(fourcc: string, data: Buffer): Buffer {
  const head = Buffer.alloc(8);
  head.write(fourcc, 0, 'latin1');
  head.writeUInt32LE(data.length, 4);
  return Buffer.concat([head, data, Buffer.alloc(data.length % 2)]);
}

/** The file's first 12 bytes, for `body` bytes of chunks after them. */
function riffHeader(body: number): Buffer {
  const head = Buffer.alloc(12);
  head.write('RIFF', 0, 'latin1');
  head.writeUInt32LE(4 + body, 4);
  head.write('WEBP', 8, 'latin1');
  return head;
}

/** Rewrites one WebP as it streams by twice: seen once, then read again and rewritten. */
export interface WebpRewrite {
  /** Every byte of the original, in order. */
  see(part: Buffer): void;
  /** Once all was seen: the rewritten file's size. Throws when it is not a WebP. */
  size(): number;
  /** The rewritten file, from the original's bytes read again in order. */
  rewrite(original: AsyncIterable<Buffer> | Iterable<Buffer>): AsyncGenerator<Buffer>;
}

interface Plan {
  /** RIFF header, then the VP8X chunk. */
  head: Buffer;
  /** Ranges of the original copied as they are: [start, end), in order. */
  copy: [number, number][];
  /** EXIF and XMP chunks, after the picture. */
  tail: Buffer;
  size: number;
}

export function webpRewriter(metadata: WebpMetadata): WebpRewrite {
  const chunks: ChunkAt[] = [];
  let seen = 0;
  let riffEnd = Infinity;
  let firstData: Buffer | undefined;
  let failure: KeepsakeError | undefined;
  /** The next bytes wanted from the stream: where they start, how many, what then. */
  let capture: { start: number; buf: Buffer; got: number; then: (b: Buffer) => void } | undefined;
  const want = (start: number, length: number, then: (b: Buffer) => void) => {
    capture = { start, buf: Buffer.alloc(length), got: 0, then };
  };

  const header = (at: number) => {
    if (at + 8 > riffEnd) {
      capture = undefined;
      return;
    }
    want(at, 8, (h) => {
      const fourcc = h.toString('latin1', 0, 4);
      const size = h.readUInt32LE(4);
      if (at + 8 + size > riffEnd) throw bad(`its ${fourcc} chunk runs past the end`);
      chunks.push({ fourcc, at, size });
      const next = at + 8 + size + (size % 2);
      if (chunks.length === 1) {
        want(at + 8, Math.min(FIRST_DATA, size), (d) => {
          firstData = d;
          header(next);
        });
      } else header(next);
    });
  };
  want(0, 12, (riff) => {
    if (riff.toString('latin1', 0, 4) !== 'RIFF' || riff.toString('latin1', 8, 12) !== 'WEBP') {
      throw bad('not a WebP file');
    }
    // FFmpeg fills in the RIFF size by seeking back at the end, which an output streamed
    // to the sink cannot do once its output buffer (some 32 KiB) was sent: a larger WebP
    // arrives saying 0 (FFmpeg 5.1, a 270 KB photo), and its chunks run to the end of the
    // stream. Rewritten, it states its true size again.
    const stated = riff.readUInt32LE(4);
    riffEnd = stated === 0 ? Infinity : 8 + stated;
    header(12);
  });

  let plan: Plan | undefined;
  const makePlan = (): Plan => {
    if (failure) throw failure;
    if (seen < 12) throw bad('not a WebP file');
    const end = Math.min(seen, riffEnd);
    const complete = chunks.filter((c) => c.at + 8 + c.size <= end);
    if (complete.length < chunks.length) {
      throw bad(`its ${chunks[complete.length]!.fourcc} chunk runs past the end`);
    }
    if (chunks.length === 0 || !firstData) throw bad('it holds no picture');
    if (!metadata.exif && !metadata.xmp) {
      // Nothing to add: the chunks as they are, under a RIFF header that states their size.
      const copy = chunks.map((c): [number, number] => [c.at, c.at + 8 + c.size + (c.size % 2)]);
      const body = copy.reduce((n, [a, b]) => n + b - a, 0);
      return { head: riffHeader(body), copy, tail: Buffer.alloc(0), size: 12 + body };
    }
    const kept = chunks.filter((c) => c.fourcc !== 'EXIF' && c.fourcc !== 'XMP ');
    let vp8x: Buffer;
    if (chunks[0]!.fourcc === 'VP8X') {
      if (firstData.length < 10) throw bad('its VP8X chunk is too short');
      vp8x = Buffer.from(firstData);
      vp8x[0] = vp8x[0]! & ~(FLAG_EXIF | FLAG_XMP);
    } else {
      const { width, height } = canvasOf(chunks[0]!.fourcc, firstData);
      vp8x = Buffer.alloc(10);
      vp8x.writeUIntLE(width - 1, 4, 3);
      vp8x.writeUIntLE(height - 1, 7, 3);
    }
    const rest = kept.filter((c) => c.fourcc !== 'VP8X');
    const added: Buffer[] = [];
    if (metadata.exif) {
      vp8x[0] = vp8x[0]! | FLAG_EXIF;
      added.push(chunkBytes('EXIF', metadata.exif));
    }
    if (metadata.xmp) {
      vp8x[0] = vp8x[0]! | FLAG_XMP;
      added.push(chunkBytes('XMP ', metadata.xmp));
    }
    const tail = Buffer.concat(added);
    // A chunk of odd size is followed by a pad byte; one the original lacks is added.
    const copy = rest.map((c): [number, number] => [c.at, c.at + 8 + c.size + (c.size % 2)]);
    const body = 18 + copy.reduce((n, [a, b]) => n + b - a, 0) + tail.length;
    const head = Buffer.concat([riffHeader(body), chunkBytes('VP8X', vp8x)]);
    return { head, copy, tail, size: 12 + body };
  };

  return {
    see(part) {
      const partStart = seen;
      seen += part.length;
      try {
        while (capture && !failure) {
          const c = capture;
          const from = c.start + c.got;
          if (from >= seen) break;
          const take = Math.min(c.start + c.buf.length, seen) - from;
          part.copy(c.buf, c.got, from - partStart, from - partStart + take);
          c.got += take;
          if (c.got < c.buf.length) break;
          capture = undefined;
          c.then(c.buf);
        }
      } catch (err) {
        failure = err instanceof KeepsakeError ? err : bad(String(err));
        capture = undefined;
      }
    },
    size() {
      plan ??= makePlan();
      return plan.size;
    },
    async *rewrite(original) {
      const p = (plan ??= makePlan());
      yield p.head;
      let at = 0;
      let range = 0;
      for await (const part of original) {
        const partEnd = at + part.length;
        while (range < p.copy.length) {
          const [start, end] = p.copy[range]!;
          if (start >= partEnd) break;
          const from = Math.max(start, at);
          const to = Math.min(end, partEnd);
          if (to > from) yield part.subarray(from - at, to - at);
          if (end > partEnd) break;
          range += 1;
        }
        at = partEnd;
      }
      // The pad byte of a last chunk the original ended without.
      for (; range < p.copy.length; range++) {
        const [start, end] = p.copy[range]!;
        if (end - Math.max(start, at) !== 1) throw bad('it changed while it was rewritten');
        yield Buffer.alloc(1);
        at = end;
      }
      yield p.tail;
    },
  };
}

/**
 * `webp` with `metadata` in it, replacing any EXIF or XMP it had; the picture's chunks are
 * copied byte for byte. With nothing to add, only its RIFF size is put right.
 */
export async function addWebpMetadata(webp: Buffer, metadata: WebpMetadata): Promise<Buffer> {
  const rewriter = webpRewriter(metadata);
  rewriter.see(webp);
  const size = rewriter.size();
  const parts: Buffer[] = [];
  for await (const part of rewriter.rewrite([webp])) parts.push(part);
  const out = Buffer.concat(parts);
  if (out.length !== size) throw bad('it changed while it was rewritten');
  return out;
}
