// FFmpeg 5.1 (Debian 12's) writes a one-fragment CENC MP4 with the sample encryption box
// (`senc`, plus `saiz`/`saio`) in the movie header's sample table, where its own demuxer
// finds it, instead of in the fragment (`traf`), where ISO/IEC 23001-7 puts it for
// fragmented files and where Chromium's MSE parser looks ("Sample encryption info is not
// available"). This moves each track's `senc` into its fragment: the bytes FFmpeg
// encrypted are not touched, only where their IVs are written. Test-only, for the e2e
// player; a newer FFmpeg writes the fragment boxes itself.

interface Box {
  type: string;
  /** The whole box, header included (leaf boxes). */
  bytes: Buffer;
  children?: Box[];
}

const CONTAINERS = new Set(['moov', 'trak', 'mdia', 'minf', 'stbl', 'moof', 'traf']);

function parse(buf: Buffer): Box[] {
  const boxes: Box[] = [];
  for (let at = 0; at + 8 <= buf.length;) {
    const size = buf.readUInt32BE(at);
    const type = buf.toString('latin1', at + 4, at + 8);
    if (size < 8 || at + size > buf.length) throw new Error(`bad box ${type} at ${at}`);
    const bytes = buf.subarray(at, at + size);
    boxes.push(
      CONTAINERS.has(type) ? { type, bytes, children: parse(bytes.subarray(8)) } : { type, bytes },
    );
    at += size;
  }
  return boxes;
}

function write(box: Box): Buffer {
  if (!box.children) return box.bytes;
  const body = Buffer.concat(box.children.map(write));
  const header = Buffer.alloc(8);
  header.writeUInt32BE(body.length + 8, 0);
  header.write(box.type, 4, 'latin1');
  return Buffer.concat([header, body]);
}

const child = (box: Box, type: string): Box => {
  const found = box.children?.find((c) => c.type === type);
  if (!found) throw new Error(`no ${type} in ${box.type}`);
  return found;
};

/** tkhd's or tfhd's track id. */
function trackId(box: Box): number {
  const version = box.bytes[8];
  if (box.type === 'tfhd') return box.bytes.readUInt32BE(12);
  return box.bytes.readUInt32BE(version === 1 ? 28 : 20);
}

export function moveSencIntoFragment(file: Buffer): Buffer {
  const top = parse(file);
  const moov = top.find((b) => b.type === 'moov');
  const moofs = top.filter((b) => b.type === 'moof');
  if (!moov || moofs.length !== 1) throw new Error('expected one moov and one moof');
  const moof = moofs[0]!;
  const sencByTrack = new Map<number, Buffer>();
  for (const trak of moov.children!.filter((c) => c.type === 'trak')) {
    const stbl = child(child(child(trak, 'mdia'), 'minf'), 'stbl');
    const senc = stbl.children!.find((c) => c.type === 'senc');
    if (senc) sencByTrack.set(trackId(child(trak, 'tkhd')), senc.bytes);
    stbl.children = stbl.children!.filter((c) => !['senc', 'saiz', 'saio'].includes(c.type));
  }
  let grown = 0;
  for (const traf of moof.children!.filter((c) => c.type === 'traf')) {
    const senc = sencByTrack.get(trackId(child(traf, 'tfhd')));
    if (!senc) continue;
    traf.children!.push({ type: 'senc', bytes: senc });
    grown += senc.length;
  }
  // Sample data is addressed from the start of the moof (default-base-is-moof), which
  // now ends `grown` bytes later: every run's data offset moves by as much.
  for (const traf of moof.children!.filter((c) => c.type === 'traf')) {
    for (const trun of traf.children!.filter((c) => c.type === 'trun')) {
      const flags = trun.bytes.readUInt32BE(8) & 0xffffff;
      if (!(flags & 0x1)) throw new Error('trun without a data offset');
      const bytes = Buffer.from(trun.bytes);
      bytes.writeInt32BE(bytes.readInt32BE(16) + grown, 16);
      trun.bytes = bytes;
    }
  }
  // sidx and mfra index byte positions that moved; a player of one fragment needs neither.
  return Buffer.concat(top.filter((b) => b.type !== 'sidx' && b.type !== 'mfra').map(write));
}
