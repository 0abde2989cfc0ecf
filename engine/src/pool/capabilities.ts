// What a worker can run, and whether a job fits it. A worker reads its FFmpeg build's
// encoders, muxers and filters once at start and sends them with every heartbeat; the
// coordinator hands a job only to a worker whose build the job's preset can be built
// for, so a job needing an encoder a worker lacks never reaches it.

import { availableParallelism } from 'node:os';
import { isKeepsakeError } from '../core/errors';
import { readCapabilities } from '../ffmpeg/capabilities';
import {
  HARDWARE_APIS,
  encoderName,
  type HardwareApi,
  type HardwareEncoder,
  type VideoCodec,
} from '../ffmpeg/hw-encoders';
import { getPreset, buildJob } from '../presets';
import type { MediaInfo } from '../presets/preset';
import type { WorkerCapabilities } from '../net/worker-contract';

/** Stands in for the input the preset has not seen yet: only the build's names matter. */
const NOMINAL: Record<'video' | 'image', MediaInfo> = {
  video: { durationSeconds: 60, width: 1280, height: 720, hasAudio: true },
  image: { durationSeconds: 0, width: 1280, height: 720, hasAudio: false },
};

export async function detectCapabilities(
  ffmpegPath: string,
  options: { threads?: number; slots?: number; hardware?: readonly HardwareEncoder[] } = {},
): Promise<WorkerCapabilities> {
  const { encoders, muxers, filters } = await readCapabilities(ffmpegPath);
  return {
    encoders: [...encoders].sort(),
    muxers: [...muxers].sort(),
    filters: [...filters].sort(),
    // Graphics-chip encoders are offered only once a test encode proved them
    // (ffmpeg/hw-detect.ts, run by run-worker.ts); announced by FFmpeg's names.
    hardware: (options.hardware ?? []).map((e) => e.name),
    threads: options.threads ?? availableParallelism(),
    slots: options.slots ?? 1,
  };
}

/**
 * The chip encoders a worker announced (`h264_vaapi`, `hevc_nvenc`), as the presets take
 * them; a name that is not one is ignored. The device a worker opens is its own business.
 */
export function announcedHardware(names: readonly string[]): HardwareEncoder[] {
  return names.flatMap((name) => {
    const [codec, api] = name.split('_') as [VideoCodec, HardwareApi];
    const known =
      (codec === 'h264' || codec === 'hevc') &&
      HARDWARE_APIS.includes(api) &&
      encoderName(codec, api) === name;
    return known ? [{ name, codec, api }] : [];
  });
}

/**
 * Whether `caps` can run a job of this preset and parameters: the preset builds for that
 * FFmpeg without FEATURE_UNAVAILABLE. Other build errors (a parameter the nominal input
 * does not fit) are not the worker's to judge, and let the job through.
 */
export function canRunOn(
  job: { preset: string; params: Record<string, unknown> },
  caps: WorkerCapabilities,
): boolean {
  let accepts: 'video' | 'image';
  try {
    accepts = getPreset(job.preset).accepts === 'image' ? 'image' : 'video';
  } catch {
    return false; // a preset this coordinator does not know runs nowhere
  }
  try {
    buildJob(job.preset, job.params, {
      input: 'http://keepsake.invalid/input',
      inputProtocols: 'http,tcp',
      inputFormat: accepts === 'image' ? 'image2' : 'mov',
      outputBase: 'http://keepsake.invalid/out',
      media: NOMINAL[accepts],
      encoders: new Set(caps.encoders),
      muxers: new Set(caps.muxers),
      filters: new Set(caps.filters),
      // A job that asks for the graphics chip builds only with an H.264 chip encoder.
      hardware: announcedHardware(caps.hardware),
    });
    return true;
  } catch (err) {
    return !isKeepsakeError(err, 'FEATURE_UNAVAILABLE');
  }
}
