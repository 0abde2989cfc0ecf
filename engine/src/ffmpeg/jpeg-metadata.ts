// FFmpeg's mjpeg writes a JPEG with no EXIF and no XMP, whatever `-map_metadata` says
// (FFmpeg 5.1: SOI, a JFIF APP0, a comment naming Lavc, then the picture), so the engine
// adds the item's title and date itself, as it does for WebP (webp-metadata.ts): two APP1
// segments, `Exif\0\0` + TIFF and Adobe's XMP namespace + the packet, put after the SOI
// (and after the JFIF APP0 when there is one, which JFIF wants first). The picture's bytes
// are copied as they are.
//
// Like the WebP rewrite it works on a stream: the segments before the picture's tables
// are read as FFmpeg's bytes pass by, which fixes the new file's size (a vault file states
// it up front); then a second read of the same bytes is copied with the new segments in.
// An EXIF or XMP segment already there (a retry, a JPEG labelled before) is replaced.

import { KeepsakeError } from '../core/errors';

export interface JpegMetadata {
  /** A TIFF-structured EXIF block (starting `II*\0` or `MM\0*`). */
  exif?: Buffer;
  /** An XMP packet. */
  xmp?: Buffer;
}

const EXIF_ID = Buffer.from('Exif\0\0', 'latin1');
const XMP_ID = Buffer.from('http://ns.adobe.com/xap/1.0/\0', 'latin1');
/** A segment's length field counts itself (2 bytes) and its data: at most 65,535. */
export const APP1_MAX_DATA = 65_533;

const SOI = 0xd8;
const APP0 = 0xe0;
const APP1 = 0xe1;
const APP15 = 0xef;
const COM = 0xfe;

function bad(why: string): KeepsakeError {
  return new KeepsakeError('OUTPUT_CHECK_FAILED', `photo.jpg: ${why}`);
}

/** A marker segment before the picture's tables: its marker (0xFF xx) starts at `at`. */
interface Segment {
  marker: number;
  at: number;
  /** Marker, length field and data. */
  bytes: number;
  /** An APP1 holding EXIF or XMP: replaced by the new ones. */
  replaced: boolean;
}

function app1(id: Buffer, body: Buffer): Buffer | undefined {
  const data = id.length + body.length;
  if (data > APP1_MAX_DATA) return undefined;
  const head = Buffer.from([0xff, APP1, 0, 0]);
  head.writeUInt16BE(2 + data, 2);
  return Buffer.concat([head, id, body]);
}

/** Which of the metadata went in: a part over JPEG's segment limit is left out. */
export interface JpegWritten {
  exif: boolean;
  xmp: boolean;
}

/** The APP1 segments for `metadata`, leaving out any over the 65,533-byte limit. */
export function jpegSegments(metadata: JpegMetadata): { bytes: Buffer; written: JpegWritten } {
  const exif = metadata.exif ? app1(EXIF_ID, metadata.exif) : undefined;
  // An XMP packet too large for one segment would need Extended XMP (a GUID, an MD5 and
  // a split packet): no title and date come near it (titles are at most a few KB), so it
  // is left out rather than written half. The EXIF segment still says the title and date.
  const xmp = metadata.xmp ? app1(XMP_ID, metadata.xmp) : undefined;
  return {
    bytes: Buffer.concat([exif ?? Buffer.alloc(0), xmp ?? Buffer.alloc(0)]),
    written: { exif: exif !== undefined, xmp: xmp !== undefined },
  };
}

/** A piece of the rewritten file: bytes of the original, [start, end), or new bytes. */
type Piece = { copy: [number, number] } | { bytes: Buffer };

/** Rewrites one JPEG as it streams by twice: seen once, then read again and rewritten. */
export interface JpegRewrite {
  /** Every byte of the original, in order. */
  see(part: Buffer): void;
  /** Once all was seen: the rewritten file's size. Throws when it is not a JPEG. */
  size(): number;
  /** The rewritten file, from the original's bytes read again in order. */
  rewrite(original: AsyncIterable<Buffer> | Iterable<Buffer>): AsyncGenerator<Buffer>;
  /** Which of the metadata the rewritten file holds. */
  readonly written: JpegWritten;
}

export function jpegRewriter(metadata: JpegMetadata): JpegRewrite {
  const added = jpegSegments(metadata);
  const segments: Segment[] = [];
  let seen = 0;
  /** Where the next marker starts; `window` holds the bytes seen from there on. */
  let next = 0;
  let window = Buffer.alloc(0);
  /** Where the picture's own segments (tables, frame, scan) start, once found. */
  let picture: number | undefined;
  let failure: KeepsakeError | undefined;

  /** Reads what it can of the segments before the picture from `window`. */
  const parse = () => {
    if (next === 0) {
      if (window.length < 2) return;
      if (window[0] !== 0xff || window[1] !== SOI) throw bad('not a JPEG file');
      advance(2);
    }
    while (picture === undefined) {
      if (window.length < 2) return;
      if (window[0] !== 0xff) throw bad('its segments are damaged');
      const marker = window[1]!;
      // A marker may be preceded by fill bytes (0xFF).
      if (marker === 0xff) {
        advance(1);
        continue;
      }
      if (!((marker >= APP0 && marker <= APP15) || marker === COM)) {
        picture = next;
        return;
      }
      if (window.length < 4) return;
      const length = window.readUInt16BE(2);
      if (length < 2) throw bad('its segments are damaged');
      let replaced = false;
      if (marker === APP1) {
        // Enough of the data to tell EXIF and XMP from other APP1s.
        const want = Math.min(length - 2, XMP_ID.length);
        if (window.length < 4 + want) return;
        const id = window.subarray(4, 4 + want);
        replaced =
          id.subarray(0, EXIF_ID.length).equals(EXIF_ID) ||
          id.subarray(0, XMP_ID.length).equals(XMP_ID);
      }
      segments.push({ marker, at: next, bytes: 2 + length, replaced });
      advance(2 + length);
    }
  };
  const advance = (bytes: number) => {
    next += bytes;
    window = bytes <= window.length ? window.subarray(bytes) : Buffer.alloc(0);
  };

  let plan: { pieces: Piece[]; size: number } | undefined;
  const makePlan = () => {
    if (failure) throw failure;
    if (seen < 2) throw bad('not a JPEG file');
    if (picture === undefined) throw bad('it holds no picture');
    // After the JFIF APP0 when it comes first, which JFIF readers want; else after SOI.
    const first = segments[0];
    const insert = first && first.marker === APP0 && first.at === 2 ? 2 + first.bytes : 2;
    const pieces: Piece[] = [{ copy: [0, insert] }, { bytes: added.bytes }];
    let from = insert;
    for (const s of segments) {
      if (!s.replaced) continue;
      pieces.push({ copy: [from, s.at] });
      from = s.at + s.bytes;
    }
    pieces.push({ copy: [from, seen] });
    const kept = pieces.filter((p) => ('copy' in p ? p.copy[1] > p.copy[0] : p.bytes.length > 0));
    const size = kept.reduce(
      (n, p) => n + ('copy' in p ? p.copy[1] - p.copy[0] : p.bytes.length),
      0,
    );
    return { pieces: kept, size };
  };

  return {
    written: added.written,
    see(part) {
      const partStart = seen;
      seen += part.length;
      if (picture !== undefined || failure) return;
      const from = Math.max(next, partStart);
      if (from < seen) window = Buffer.concat([window, part.subarray(from - partStart)]);
      try {
        parse();
      } catch (err) {
        failure = err instanceof KeepsakeError ? err : bad(String(err));
      }
      if (picture !== undefined) window = Buffer.alloc(0);
    },
    size() {
      plan ??= makePlan();
      return plan.size;
    },
    async *rewrite(original) {
      const { pieces } = (plan ??= makePlan());
      let at = 0;
      let i = 0;
      for await (const part of original) {
        const partEnd = at + part.length;
        while (i < pieces.length) {
          const piece = pieces[i]!;
          if ('bytes' in piece) {
            yield piece.bytes;
            i += 1;
            continue;
          }
          const [start, end] = piece.copy;
          if (start >= partEnd) break;
          const a = Math.max(start, at);
          const b = Math.min(end, partEnd);
          if (b > a) yield part.subarray(a - at, b - at);
          if (end > partEnd) break;
          i += 1;
        }
        at = partEnd;
      }
      for (; i < pieces.length; i++) {
        const piece = pieces[i]!;
        if (!('bytes' in piece)) throw bad('it changed while it was rewritten');
        yield piece.bytes;
      }
      if (at !== seen) throw bad('it changed while it was rewritten');
    },
  };
}

/**
 * `jpeg` with `metadata` in it, replacing any EXIF or XMP it had; the rest is copied byte
 * for byte.
 */
export async function addJpegMetadata(jpeg: Buffer, metadata: JpegMetadata): Promise<Buffer> {
  const rewriter = jpegRewriter(metadata);
  rewriter.see(jpeg);
  const size = rewriter.size();
  const parts: Buffer[] = [];
  for await (const part of rewriter.rewrite([jpeg])) parts.push(part);
  const out = Buffer.concat(parts);
  if (out.length !== size) throw bad('it changed while it was rewritten');
  return out;
}
