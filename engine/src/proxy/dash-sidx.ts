// The segment index box (`sidx`, ISO/IEC 14496-12 §8.16.3) that a DASH SegmentBase's
// indexRange points at: one subsegment per reference, with its size and duration, from
// which the HLS byte ranges are made. mpd-parser takes a parsed box but parses none, and
// no kept library here does, so these few fields are read by hand; every length is
// checked against the bytes received.

import { KeepsakeError } from '../core/errors';
import type { MpdSidx } from 'mpd-parser';

/** The one sidx box at the start of `bytes` (the indexRange as fetched). */
export function parseSidx(bytes: Buffer): MpdSidx {
  if (bytes.length < 8) throw bad('the index range is shorter than a box header');
  let size = bytes.readUInt32BE(0);
  let at = 8;
  if (bytes.toString('latin1', 4, 8) !== 'sidx') {
    throw bad('the index range does not start with a sidx box');
  }
  if (size === 1) {
    if (bytes.length < 16) throw bad('the sidx box is cut short');
    size = safe(bytes.readBigUInt64BE(8));
    at = 16;
  }
  if (size < at + 4 || size > bytes.length) throw bad('the sidx box is cut short');
  const box = bytes.subarray(0, size);
  const version = box.readUInt8(at);
  at += 4; // version and flags
  const fixed = version === 0 ? 4 + 4 + 4 + 4 + 2 + 2 : 4 + 4 + 8 + 8 + 2 + 2;
  if (box.length < at + fixed) throw bad('the sidx box is cut short');
  at += 4; // reference_ID
  const timescale = box.readUInt32BE(at);
  at += 4;
  let firstOffset: number;
  if (version === 0) {
    firstOffset = box.readUInt32BE(at + 4);
    at += 8;
  } else {
    firstOffset = safe(box.readBigUInt64BE(at + 8));
    at += 16;
  }
  at += 2; // reserved
  const count = box.readUInt16BE(at);
  at += 2;
  if (!timescale) throw bad('the sidx box has a timescale of 0');
  if (box.length < at + count * 12) throw bad('the sidx box holds fewer references than it says');
  const references: MpdSidx['references'] = [];
  for (let i = 0; i < count; i += 1, at += 12) {
    const word = box.readUInt32BE(at);
    references.push({
      referenceType: word >>> 31,
      referencedSize: word & 0x7fffffff,
      subsegmentDuration: box.readUInt32BE(at + 4),
    });
  }
  return { timescale, firstOffset, references };
}

function safe(value: bigint): number {
  if (value > BigInt(Number.MAX_SAFE_INTEGER)) throw bad('the sidx box has an offset too large');
  return Number(value);
}

function bad(reason: string): KeepsakeError {
  return new KeepsakeError('DASH_UNSUPPORTED', `the DASH segment index cannot be read: ${reason}`);
}
