// The sidx reader on boxes built here byte by byte (FFmpeg's own are read in
// dash-route.test.ts): both versions, and every way a box can lie about its length.
import { describe, expect, it } from 'vitest';
import { parseSidx } from './dash-sidx';

/** A sidx box: version 0 (32-bit times) or 1 (64-bit), with (type, size, duration) refs. */
function sidx(version: 0 | 1, refs: [number, number, number][], claim = refs.length): Buffer {
  const times = version === 0 ? 8 : 16;
  const box = Buffer.alloc(8 + 4 + 8 + times + 4 + refs.length * 12);
  box.writeUInt32BE(box.length, 0);
  box.write('sidx', 4, 'latin1');
  box.writeUInt8(version, 8);
  box.writeUInt32BE(1, 12); // reference_ID
  box.writeUInt32BE(90_000, 16); // timescale
  if (version === 0)
    box.writeUInt32BE(7, 24); // first_offset
  else box.writeBigUInt64BE(7n, 28);
  const at = 20 + times;
  box.writeUInt16BE(claim, at + 2);
  refs.forEach(([type, size, duration], i) => {
    box.writeUInt32BE(((type << 31) | size) >>> 0, at + 4 + i * 12);
    box.writeUInt32BE(duration, at + 8 + i * 12);
    box.writeUInt32BE(0x90000000, at + 12 + i * 12);
  });
  return box;
}

describe('parseSidx', () => {
  it('reads version 0 and version 1 boxes', () => {
    for (const version of [0, 1] as const) {
      expect(
        parseSidx(
          sidx(version, [
            [0, 1000, 90_000],
            [1, 2000, 45_000],
          ]),
        ),
      ).toEqual({
        timescale: 90_000,
        firstOffset: 7,
        references: [
          { referenceType: 0, referencedSize: 1000, subsegmentDuration: 90_000 },
          { referenceType: 1, referencedSize: 2000, subsegmentDuration: 45_000 },
        ],
      });
    }
  });

  it('refuses another box, a cut box, and more references than the box holds', () => {
    const moof = sidx(0, [[0, 1, 1]]);
    moof.write('moof', 4, 'latin1');
    expect(() => parseSidx(moof)).toThrow(/does not start with a sidx box/);
    expect(() => parseSidx(sidx(0, [[0, 1, 1]]).subarray(0, 30))).toThrow(/cut short/);
    const lying = sidx(0, [[0, 1, 1]], 3);
    expect(() => parseSidx(lying)).toThrow(/fewer references than it says/);
    expect(() => parseSidx(Buffer.from('sid'))).toThrow(
      expect.objectContaining({ code: 'DASH_UNSUPPORTED' }),
    );
  });
});
