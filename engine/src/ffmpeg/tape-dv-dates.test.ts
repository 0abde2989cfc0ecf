// The tape analysis on generated DV tapes: where the camcorder's clock jumps, a cut, even
// where the picture and the sound go on unchanged; none where the clock runs on or the
// frames carry no date; the same inside AVI and QuickTime. Read as jobs read, over the loopback.

import { describe, expect, it } from 'vitest';
import { makeDvTape } from '../testing/dv-media';
import { freshDir } from '../testing/tmp';
import { plainByteSource, serveLoopback } from './input-source';
import { locateFfmpeg } from './locate';
import { probeInput } from './probe';
import { analyseTape, type TapeAnalysis } from './tape-analysis';

async function analyse(path: string): Promise<TapeAnalysis> {
  const { ffmpegPath, ffprobePath } = await locateFfmpeg();
  const source = await plainByteSource(path);
  const loopback = await serveLoopback(source);
  try {
    const probed = await probeInput(ffprobePath, loopback);
    expect(probed.media.videoCodec).toBe('dvvideo');
    return await analyseTape(
      { url: loopback.url, protocols: 'http,tcp', format: probed.demuxer, env: loopback.env },
      probed.media,
      { ffmpegPath, cwd: await freshDir(), timeoutMs: 60_000, stallMs: 20_000 },
    );
  } finally {
    await loopback.close();
    await source.close();
  }
}

const JULY = '1994-07-01T10:00:00Z';
/** Four seconds on: the clock ran on, the camcorder was not stopped. */
const JULY_ON = '1994-07-01T10:00:04Z';
const CHRISTMAS = '1994-12-24T18:30:00Z';

describe('the DV recording clock', () => {
  for (const container of ['dv', 'avi', 'mov'] as const) {
    it(`cuts where it jumps, and only there (${container})`, async () => {
      const result = await analyse(
        await makeDvTape(
          await freshDir(),
          [
            { seconds: 4, recorded: JULY },
            { seconds: 4, recorded: JULY_ON },
            { seconds: 4, recorded: CHRISTMAS },
          ],
          container,
        ),
      );
      // The same still picture and tone throughout: only the clock says where.
      expect(result.cuts).toHaveLength(1);
      const [cut] = result.cuts;
      expect(Math.abs(cut!.at - 8)).toBeLessThanOrEqual(0.5);
      expect(cut!.reasons).toEqual(['recording-date']);
      expect(cut!.confidence).toBeGreaterThanOrEqual(0.9);
      expect(result.recordings).toEqual([
        { at: 0, recorded: '1994-07-01T10:00:00' },
        { at: 8, recorded: '1994-12-24T18:30:00', jumpSeconds: expect.any(Number) },
      ]);
      expect(result.recordings![1]!.jumpSeconds).toBeGreaterThan(170 * 86_400);
    }, 60_000);
  }

  it('proposes no such cut when the frames carry no date', async () => {
    const result = await analyse(
      await makeDvTape(await freshDir(), [{ seconds: 4 }, { seconds: 4 }]),
    );
    expect(result.cuts).toEqual([]);
    expect(result.recordings).toBeUndefined();
  }, 60_000);
});
