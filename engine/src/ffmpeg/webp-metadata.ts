// FFmpeg's WebP muxer writes the picture and nothing else: no EXIF, no XMP, whatever
// `-map_metadata` says (checked with FFmpeg 5.1), so a photo's date was lost in every
// WebP copy. The engine adds them itself, after FFmpeg and before the output is sealed,
// without touching the picture: a WebP file is a RIFF list of chunks, and EXIF and XMP
// are chunks of the extended format (VP8X), which a simple file is rewritten into.
// https://developers.google.com/speed/webp/docs/riff_container

import { KeepsakeError } from '../core/errors';

export interface WebpMetadata {
  /** A TIFF-structured EXIF block (starting `II*\0` or `MM\0*`). */
  exif?: Buffer;
  /** An XMP packet. */
  xmp?: Buffer;
}

interface Chunk {
  fourcc: string;
  data: Buffer;
}

const FLAG_XMP = 0x04;
const FLAG_EXIF = 0x08;

function bad(why: string): KeepsakeError {
  return new KeepsakeError('OUTPUT_CHECK_FAILED', `photo.webp: ${why}`);
}

function readChunks(webp: Buffer): Chunk[] {
  if (
    webp.length < 12 ||
    webp.toString('latin1', 0, 4) !== 'RIFF' ||
    webp.toString('latin1', 8, 12) !== 'WEBP'
  ) {
    throw bad('not a WebP file');
  }
  const end = Math.min(webp.length, 8 + webp.readUInt32LE(4));
  const chunks: Chunk[] = [];
  for (let at = 12; at + 8 <= end;) {
    const fourcc = webp.toString('latin1', at, at + 4);
    const size = webp.readUInt32LE(at + 4);
    if (at + 8 + size > end) throw bad(`its ${fourcc} chunk runs past the end`);
    chunks.push({ fourcc, data: webp.subarray(at + 8, at + 8 + size) });
    at += 8 + size + (size % 2);
  }
  if (chunks.length === 0) throw bad('it holds no picture');
  return chunks;
}

/** The picture's size, from the simple format's one image chunk. */
function canvasOf(chunk: Chunk): { width: number; height: number } {
  const d = chunk.data;
  if (
    chunk.fourcc === 'VP8 ' &&
    d.length >= 10 &&
    d[3] === 0x9d &&
    d[4] === 0x01 &&
    d[5] === 0x2a
  ) {
    return { width: d.readUInt16LE(6) & 0x3fff, height: d.readUInt16LE(8) & 0x3fff };
  }
  if (chunk.fourcc === 'VP8L' && d.length >= 5 && d[0] === 0x2f) {
    const bits = d.readUInt32LE(1);
    return { width: (bits & 0x3fff) + 1, height: ((bits >>> 14) & 0x3fff) + 1 };
  }
  throw bad(`it starts with an unknown ${chunk.fourcc} chunk`);
}

function vp8x(flags: number, width: number, height: number): Chunk {
  const data = Buffer.alloc(10);
  data[0] = flags;
  data.writeUIntLE(width - 1, 4, 3);
  data.writeUIntLE(height - 1, 7, 3);
  return { fourcc: 'VP8X', data };
}

function writeChunks(chunks: Chunk[]): Buffer {
  const parts: Buffer[] = [];
  for (const { fourcc, data } of chunks) {
    const head = Buffer.alloc(8);
    head.write(fourcc, 0, 'latin1');
    head.writeUInt32LE(data.length, 4);
    parts.push(head, data);
    if (data.length % 2) parts.push(Buffer.alloc(1));
  }
  const body = Buffer.concat(parts);
  const riff = Buffer.alloc(12);
  riff.write('RIFF', 0, 'latin1');
  riff.writeUInt32LE(4 + body.length, 4);
  riff.write('WEBP', 8, 'latin1');
  return Buffer.concat([riff, body]);
}

/**
 * `webp` with `metadata` in it, replacing any EXIF or XMP it had; the picture's chunks are
 * copied byte for byte. Nothing to add gives the input back.
 */
export function addWebpMetadata(webp: Buffer, metadata: WebpMetadata): Buffer {
  if (!metadata.exif && !metadata.xmp) return webp;
  const chunks = readChunks(webp);
  const kept = chunks.filter((c) => c.fourcc !== 'EXIF' && c.fourcc !== 'XMP ');
  let head: Chunk;
  let rest: Chunk[];
  if (kept[0]!.fourcc === 'VP8X') {
    head = { fourcc: 'VP8X', data: Buffer.from(kept[0]!.data) };
    head.data[0] = head.data[0]! & ~(FLAG_EXIF | FLAG_XMP);
    rest = kept.slice(1);
  } else {
    const { width, height } = canvasOf(kept[0]!);
    head = vp8x(0, width, height);
    rest = kept;
  }
  const added: Chunk[] = [];
  if (metadata.exif) {
    head.data[0] = head.data[0]! | FLAG_EXIF;
    added.push({ fourcc: 'EXIF', data: metadata.exif });
  }
  if (metadata.xmp) {
    head.data[0] = head.data[0]! | FLAG_XMP;
    added.push({ fourcc: 'XMP ', data: metadata.xmp });
  }
  // EXIF and XMP come after the picture data.
  return writeChunks([head, ...rest, ...added]);
}
