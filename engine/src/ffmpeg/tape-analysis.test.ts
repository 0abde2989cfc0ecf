// The tape analysis on generated tapes (testing/tape-media.ts), with real FFmpeg: every
// planted boundary found, the field order and the head-switching band, and a clear result
// for the tapes that are not what it expects.

import { randomBytes } from 'node:crypto';
import { execFile } from 'node:child_process';
import { open } from 'node:fs/promises';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { freshDir } from '../testing/tmp';
import {
  BUSY_SOURCE,
  DEFAULT_SCENES,
  makeTape,
  plantedBoundaries,
  type TapeOptions,
} from '../testing/tape-media';
import { locateFfmpeg } from './locate';
import { plainByteSource, serveLoopback } from './input-source';
import { probeInput } from './probe';
import { analyseTape, analysisArgs, type TapeAnalysis, type TapeMedia } from './tape-analysis';

/** Read as jobs read their input: over the loopback, probed first. */
async function analyse(path: string): Promise<TapeAnalysis> {
  const { ffmpegPath, ffprobePath } = await locateFfmpeg();
  const source = await plainByteSource(path);
  const loopback = await serveLoopback(source);
  try {
    const probed = await probeInput(ffprobePath, loopback);
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

const run = promisify(execFile);

async function tape(o: TapeOptions = {}): Promise<string> {
  return makeTape(await freshDir(), 'tape.ts', o);
}

describe('analyseTape', () => {
  it('finds every planted boundary, the field order and the head-switching band', async () => {
    const result = await analyse(await tape());
    const planted = plantedBoundaries(DEFAULT_SCENES);
    for (const boundary of planted) {
      const cut = result.cuts.find((c) => Math.abs(c.at - boundary.end) <= 0.5);
      expect(cut, `a cut at ${boundary.end}`).toBeDefined();
      if (boundary.end > boundary.start) {
        expect(cut!.reasons).toEqual(expect.arrayContaining(['black', 'silence']));
        expect(cut!.confidence).toBeGreaterThanOrEqual(0.85);
        expect(Math.abs(cut!.gap!.start - boundary.start)).toBeLessThanOrEqual(0.5);
      } else {
        expect(cut!.reasons).toContain('scene');
      }
    }
    // No false cut on a 33 s tape (the bench's ten minutes allow one).
    expect(result.cuts).toHaveLength(planted.length);
    expect(result).toMatchObject({ interlaced: true, fieldOrder: 'tff', headSwitchingRows: 8 });
    expect(Math.abs(result.crop.y + result.crop.height - (576 - 8))).toBeLessThanOrEqual(4);
    expect(result.crop.width).toBeGreaterThanOrEqual(712);
    expect(result.undecodable).toEqual([]);
    expect(result.qc).toMatchObject({ hasAudio: true, dropouts: [], clippedAudio: [], blank: [] });
  }, 60_000);

  it('cuts out of a busy picture too, and not at a burst of speckle', async () => {
    // Out of the cellular automaton, whose every frame differs from the last in half its
    // pixels, scdet on the pixels scored these hard cuts 7 or less (below its threshold of
    // 8) and missed them; its block means barely move until the cut.
    const busy = { source: BUSY_SOURCE, seconds: 4, tone: 330 };
    const scenes = [
      busy,
      { source: 'smptebars', seconds: 4, tone: 440 },
      busy,
      { source: 'testsrc2', seconds: 4, tone: 550 },
      busy,
      { source: 'rgbtestsrc', seconds: 6, tone: 660, speckled: { from: 2, to: 4 } },
    ];
    const result = await analyse(await tape({ scenes }));
    const planted = plantedBoundaries(scenes).map((b) => b.end);
    expect(result.cuts.map((c) => c.at)).toHaveLength(planted.length); // 4, 8, 12, 16, 20
    result.cuts.forEach((c, i) => {
      expect(Math.abs(c.at - planted[i]!)).toBeLessThanOrEqual(0.5);
      expect(c.reasons).toEqual(['scene']);
    });
  }, 60_000);

  it('without sound, cuts at black gaps and hard cuts still, with less confidence', async () => {
    const result = await analyse(await tape({ audio: false }));
    expect(result.qc.hasAudio).toBe(false);
    const planted = plantedBoundaries(DEFAULT_SCENES).map((b) => b.end); // 9.5, 19, 25
    expect(result.cuts).toHaveLength(planted.length);
    result.cuts.forEach((c, i) => expect(Math.abs(c.at - planted[i]!)).toBeLessThanOrEqual(0.1));
    expect(result.cuts[0]!.reasons).not.toContain('silence');
    expect(result.cuts[0]!.confidence).toBeLessThan(0.85);
  }, 60_000);

  it('a tape of one scene has no cuts; a progressive one says so', async () => {
    const result = await analyse(
      await tape({
        scenes: [{ source: 'testsrc2', seconds: 12, tone: 440 }],
        progressive: true,
        bandRows: 0,
      }),
    );
    expect(result.cuts).toEqual([]);
    expect(result).toMatchObject({
      interlaced: false,
      fieldOrder: 'progressive',
      headSwitchingRows: 0,
    });
    expect(result.crop).toMatchObject({ width: 720, height: 576 });
  }, 60_000);

  it('goes on past a damaged stretch and reports it', async () => {
    const path = await tape();
    // Noise over the bytes from 13 s on (the second scene, a still picture).
    const { ffprobePath } = await locateFfmpeg();
    const { stdout } = await run(ffprobePath, [
      ...['-v', 'error', '-select_streams', 'v', '-read_intervals', '13%+0.1'],
      ...['-show_entries', 'packet=pos', '-of', 'csv=p=0', path],
    ]);
    const at = Number.parseInt(stdout, 10);
    const file = await open(path, 'r+');
    await file.write(randomBytes(400_000), 0, 400_000, at);
    await file.close();
    const result = await analyse(path);
    expect(result.undecodable).toHaveLength(1);
    const [damage] = result.undecodable;
    expect(damage!.start).toBeGreaterThan(11); // its GOP starts before 13 s
    expect(damage!.start).toBeLessThan(14.5);
    expect(damage!.end).toBeLessThanOrEqual(17.5);
    // The boundaries after the damage are still found.
    expect(result.cuts.some((c) => Math.abs(c.at - 19) <= 0.5)).toBe(true);
    expect(result.cuts.some((c) => Math.abs(c.at - 25) <= 0.5)).toBe(true);
  }, 60_000);
});

describe('analysisArgs', () => {
  const input = { url: 'http://127.0.0.1:1/t', protocols: 'http,tcp', format: 'mpegts', env: {} };
  const media = (videoCodec: string): TapeMedia => ({
    width: 720,
    height: 576,
    hasAudio: true,
    durationSeconds: 60,
    videoCodec,
  });
  const decoderOptions = (args: string[]) => args.slice(0, args.indexOf('-i'));

  it('decodes MPEG-2 on one thread, and DV and H.264 on the default threads', () => {
    expect(decoderOptions(analysisArgs(input, media('mpeg2video'))).slice(-2)).toEqual([
      '-threads',
      '1',
    ]);
    for (const codec of ['dvvideo', 'h264']) {
      expect(decoderOptions(analysisArgs(input, media(codec)))).not.toContain('-threads');
    }
  });
});

describe('the quality summary', () => {
  it('names dropout-heavy stretches, clipped sound and long blanks', async () => {
    const result = await analyse(
      await tape({
        scenes: [
          { source: 'testsrc', seconds: 6, tone: 440, gapAfter: 11 },
          {
            source: 'smptebars',
            seconds: 9,
            tone: 660,
            loud: true,
            speckled: { from: 3, to: 6 },
          },
        ],
      }),
    );
    expect(result.qc.blank).toHaveLength(1);
    expect(result.qc.blank[0]).toMatchObject({ silent: true });
    expect(Math.abs(result.qc.blank[0]!.start - 6)).toBeLessThanOrEqual(0.5);
    expect(Math.abs(result.qc.blank[0]!.end - 17)).toBeLessThanOrEqual(0.5);
    // Speckle from 20 s to 23 s of the tape; the sound clips from 17 s to the end.
    expect(result.qc.dropouts).toHaveLength(1);
    expect(Math.abs(result.qc.dropouts[0]!.start - 20)).toBeLessThanOrEqual(0.5);
    expect(Math.abs(result.qc.dropouts[0]!.end - 23)).toBeLessThanOrEqual(1);
    expect(result.qc.clippedAudio).toHaveLength(1);
    expect(Math.abs(result.qc.clippedAudio[0]!.start - 17)).toBeLessThanOrEqual(1);
    expect(result.qc.clippedAudio[0]!.end).toBeGreaterThan(25);
  }, 60_000);
});
