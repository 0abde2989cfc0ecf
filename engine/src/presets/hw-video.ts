// The `encoder` choice of the web-copy and playback presets: H.264 made by the processor
// (libx264) or by a graphics chip that passed its test encode at start
// (ffmpeg/hw-detect.ts). Archive masters are not offered it: a chip's encoder is fast
// but needs more bits for the same picture, which is the wrong trade for a master.
//
// If the chip's encode fails when a job runs, the job is made again by the processor,
// once (jobs/hw-fallback.ts): a step marks which hardware encoder it uses (Step.hardware).

import { KeepsakeError } from '../core/errors';
import {
  deviceArgs,
  fixedEncoderArgs,
  uploadFilter,
  type HardwareEncoder,
} from '../ffmpeg/hw-encoders';
import type { BuildContext } from './preset';

export const encoderParam = {
  type: 'enum',
  values: ['auto', 'software', 'hardware'],
  default: 'auto',
  description:
    'Made by the processor (software) or the graphics chip (hardware); auto uses the chip when it works',
} as const;

/**
 * The hardware H.264 encoder a job uses, or undefined for the processor. `hardware`
 * where none passed its test is refused, not quietly made in software: it was asked for
 * by name, and the worker pool sends such jobs only to machines that have one.
 */
export function chooseH264Encoder(
  ctx: BuildContext,
  choice: string,
  preset: string,
): HardwareEncoder | undefined {
  if (choice === 'software') return undefined;
  const found = (ctx.hardware ?? []).find((e) => e.codec === 'h264');
  if (!found && choice === 'hardware') {
    throw new KeepsakeError(
      'FEATURE_UNAVAILABLE',
      `${preset} was asked to use the graphics chip, and this computer has none that can make videos; choose "auto" to let the processor make it`,
    );
  }
  return found;
}

/** What a job log says of a chip's encode. */
export function hardwareNote(encoder: HardwareEncoder): string {
  return `video encoder: ${encoder.name} (graphics chip)`;
}

/** The picture bitrate, in kbit/s, for encoders that aim at one rather than a quality. */
export function bitrateForHeight(height: number): number {
  if (height <= 360) return 800;
  if (height <= 480) return 1400;
  if (height <= 720) return 2800;
  if (height <= 1080) return 5000;
  return 16000;
}

/**
 * The encoder's options for a constant quality near libx264's `crf` (each API has its
 * own scale; these are close for 18–28). VideoToolbox's quality mode exists only on Apple
 * silicon and Media Foundation's depends on the driver, so those two aim at a bitrate
 * for the output's height instead.
 */
export function hardwareQualityArgs(
  encoder: HardwareEncoder,
  crf: number,
  height: number,
): string[] {
  const q = String(crf);
  switch (encoder.api) {
    case 'vaapi':
      return ['-rc_mode', 'CQP', '-qp', q];
    case 'qsv':
      return ['-preset', 'medium', '-global_quality', q];
    case 'nvenc':
      return ['-preset', 'p5', '-rc', 'vbr', '-cq', q, '-b:v', '0'];
    case 'amf':
      return ['-quality', 'balanced', '-rc', 'cqp', '-qp_i', q, '-qp_p', q, '-qp_b', q];
    case 'videotoolbox':
    case 'mf':
      return ['-b:v', `${bitrateForHeight(height)}k`];
  }
}

/** `-profile:v high`, which every API here names so except Media Foundation (it has none). */
export function profileArgs(encoder: HardwareEncoder | undefined): string[] {
  return encoder?.api === 'mf' ? [] : ['-profile:v', 'high'];
}

/** The options that open the chip and name its encoder, after the picture's filters. */
export function hardwareEncoderArgs(encoder: HardwareEncoder): {
  device: string[];
  upload: string;
  codec: string[];
} {
  return {
    device: deviceArgs(encoder),
    upload: uploadFilter(encoder),
    codec: ['-c:v', encoder.name, ...fixedEncoderArgs(encoder)],
  };
}
