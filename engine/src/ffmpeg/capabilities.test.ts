import { describe, expect, it } from 'vitest';
import { parseFilterListing, parseListing, readCapabilities } from './capabilities';
import { locateFfmpeg } from './locate';

describe('capabilities', () => {
  it('parses encoder and muxer listings, legend excluded', () => {
    const encoders =
      'Encoders:\n V..... = Video\n ------\n V....D libx264  H.264\n A....D aac  AAC\n';
    expect([...parseListing(encoders)]).toEqual(['libx264', 'aac']);
    const muxers =
      'File formats:\n D. = Demuxing supported\n --\n  E 3g2  3GP2\n DE mov,mp4  QuickTime\n';
    expect([...parseListing(muxers)]).toEqual(['3g2', 'mov', 'mp4']);
  });

  it('parses a filter listing, legend excluded', () => {
    const filters =
      'Filters:\n  T.. = Timeline support\n  | = Source or sink filter\n' +
      ' ... abench            A->A       Benchmark part of a filtergraph.\n' +
      ' TS. bwdif             V->V       Deinterlace the input image.\n' +
      ' ... testsrc           |->V       Generate test pattern.\n';
    expect([...parseFilterListing(filters)]).toEqual(['abench', 'bwdif', 'testsrc']);
  });

  it('reads the real build: H.264 and AAC encoders, MP4, Matroska and HLS muxers', async () => {
    const { encoders, muxers, filters } = await readCapabilities((await locateFfmpeg()).ffmpegPath);
    for (const name of ['bwdif', 'hqdn3d', 'ssim', 'psnr']) expect(filters.has(name)).toBe(true);
    expect(filters.has('=')).toBe(false);
    for (const name of ['libx264', 'aac']) expect(encoders.has(name)).toBe(true);
    for (const name of ['mp4', 'matroska', 'hls', 'image2']) expect(muxers.has(name)).toBe(true);
    expect(muxers.has('=')).toBe(false);
  });
});
