// The clips a tape's analysis proposes, and a few small pictures of each, so the viewer can
// show them as a strip a person recognises ("the birthday", "the beach") before taking
// them. The clips are made as the viewer's "Use the suggested clips" makes them
// (renderer/src/clip-edits.ts fromSuggestions): one between each pair of proposed cuts,
// the one before a blank stretch ending where the blank begins.
//
// The pictures come from ONE FFmpeg run over the vault copy, served on the loopback in
// slices so each seek reads only a little (library/preview-video.ts does the sampling and
// reads the PPM frames off FFmpeg's stdout): nothing decrypted touches the disk. Each
// frame is cut to the analysis's crop (no head-switching band) and shown at the tape's
// display shape: a 720x576 tape is 4:3, however its pixels are stored.

import sharp from 'sharp';
import { serveLoopback, vaultByteSource } from '../ffmpeg/input-source';
import type { ProbeResult } from '../ffmpeg/probe';
import { probeInput } from '../ffmpeg/probe';
import type { TapeAnalysis } from '../ffmpeg/tape-analysis';
import type { InfoTools } from '../library/item-info';
import { SLICE_BYTES, sampleFrames } from '../library/preview-video';
import type { PictureFailure } from '../library/preview-types';
import type { VaultFile } from '../vault/vault-file';
import { fromCuts, MIN_CLIP_SECONDS } from './cut-list';

/** Pictures of each clip: near its start, its middle, near its end. */
export const FRAMES_PER_CLIP = 3;
/**
 * A six-hour tape may propose hundreds of clips: only the first ones get pictures, so the
 * one FFmpeg run (a seek for each picture) stays well inside its time limit.
 */
export const MAX_CLIPS_WITH_PICTURES = 40;
/** Width of each picture. */
export const CLIP_PICTURE_WIDTH = 160;
const QUALITY = 72;
const QUICK_OPEN_ARGS = ['-probesize', '2000000', '-analyzeduration', '1000000'];

export interface ProposedClip {
  start: number;
  end: number;
  /** How sure the analysis is of the cut that begins it; absent for the tape's first clip. */
  confidence?: number;
  reasons?: TapeAnalysis['cuts'][number]['reasons'];
}

/** The clips the analysis proposes, in time order. */
export function proposedClips(analysis: TapeAnalysis): ProposedClip[] {
  const duration = analysis.durationSeconds;
  if (!(duration > 0)) return [];
  let clips: ProposedClip[];
  try {
    clips = fromCuts(
      duration,
      analysis.cuts.map((c) => c.at),
    ).clips.map((c) => ({ start: c.start, end: c.end }));
  } catch {
    return []; // an analysis no cut list can be made of proposes nothing
  }
  for (const cut of analysis.cuts) {
    const after = clips.find((c) => Math.abs(c.start - cut.at) < 1e-6);
    if (after) Object.assign(after, { confidence: cut.confidence, reasons: [...cut.reasons] });
    const before = clips.find((c) => Math.abs(c.end - cut.at) < 1e-6);
    const blankFrom = cut.gap?.start;
    if (before && blankFrom !== undefined && blankFrom - before.start >= MIN_CLIP_SECONDS) {
      if (blankFrom < before.end) before.end = blankFrom;
    }
  }
  return clips;
}

/**
 * Where to take a clip's pictures: a little after its start, its middle, a little before
 * its end; never in the tape's last half second, where a seek may find no picture.
 */
export function clipPoints(clip: { start: number; end: number }, duration: number): number[] {
  const length = clip.end - clip.start;
  const inset = Math.min(1, length * 0.1);
  const last = Math.max(0, duration - 0.5);
  return [clip.start + inset, clip.start + length / 2, clip.end - inset].map((t) =>
    Math.min(t, last),
  );
}

/** Width over height of the kept picture as shown; a standard-definition tape is 4:3. */
export function displayAspect(
  probed: Pick<ProbeResult, 'displayAspect'>,
  frame: { width: number; height: number },
): number {
  const stored = frame.width / frame.height;
  const [w, h] = (probed.displayAspect ?? '').split(':').map(Number);
  const stated = w && h ? w / h : undefined;
  // A capture card often leaves the shape unstated (or square pixels): at tape sizes the
  // picture was 4:3 all the same, and 720x576 shown as 5:4 squeezes every face.
  const tapeSized = [480, 486, 576].includes(frame.height) && frame.width <= 768;
  if (tapeSized && (stated === undefined || Math.abs(stated - stored) < 0.01)) return 4 / 3;
  return stated ?? stored;
}

/**
 * The pictures of the first clips (JPEG, `CLIP_PICTURE_WIDTH` wide), `FRAMES_PER_CLIP` a
 * clip, from the tape's vault copy; or why none could be taken.
 */
export async function makeClipPictures(
  file: VaultFile,
  tools: InfoTools,
  analysis: TapeAnalysis,
  clips: readonly ProposedClip[],
): Promise<Buffer[][] | PictureFailure> {
  const shown = clips.slice(0, MAX_CLIPS_WITH_PICTURES);
  if (shown.length === 0) return [];
  const source = await serveLoopback(vaultByteSource(file), { sliceBytes: SLICE_BYTES });
  try {
    const probed = await probeInput(tools.ffprobePath, source).catch((err: unknown) => {
      throw source.error ?? err;
    });
    const { crop } = analysis;
    const aspect = displayAspect(probed, analysis);
    const height = Math.max(2, 2 * Math.round(CLIP_PICTURE_WIDTH / aspect / 2));
    // Numbers only, from the engine's own analysis: nothing a client typed.
    const fit =
      `crop=${crop.width}:${crop.height}:${crop.x}:${crop.y},` +
      `scale=${CLIP_PICTURE_WIDTH}:${height},setsar=1`;
    const points = shown.flatMap((clip) => clipPoints(clip, analysis.durationSeconds));
    // Each point is an input of its own: each need only find its picture, not look through
    // seconds of the tape to learn what the probe above already knows.
    const quick = { ...source, readArgs: [...(source.readArgs ?? []), ...QUICK_OPEN_ARGS] };
    const frames = await sampleFrames(tools, quick, probed.demuxer, points, fit);
    if (source.error) throw source.error;
    if ('reason' in frames) return frames;
    if (frames.length !== points.length) {
      return { reason: 'damaged', detail: 'Some of the clips could not be pictured.' };
    }
    const jpegs = await Promise.all(
      frames.map((f) =>
        sharp(f.rgb, { raw: { width: f.width, height: f.height, channels: 3 } })
          .jpeg({ quality: QUALITY })
          .toBuffer(),
      ),
    );
    return shown.map((_, i) => jpegs.slice(i * FRAMES_PER_CLIP, (i + 1) * FRAMES_PER_CLIP));
  } finally {
    await source.close();
  }
}
