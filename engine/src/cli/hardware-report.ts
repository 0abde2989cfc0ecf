// What `keepsake doctor` says of graphics-chip encoders: each one the FFmpeg build lists
// for this platform, whether its one-frame test encode passed, and why not.

import type { EncoderCapabilities } from '../ffmpeg/hw-detect';

export function hardwareLines(found: EncoderCapabilities): string[] {
  if (found.trials.length === 0) {
    return ['graphics-chip encoders: none listed by this FFmpeg for this system'];
  }
  const width = Math.max(...found.trials.map((t) => t.name.length));
  return [
    `graphics-chip encoders: ${found.hardware.length} of ${found.trials.length} passed a test encode` +
      (found.hardware.length > 0
        ? ` (web copies and playback use ${found.hardware.find((e) => e.codec === 'h264')?.name ?? 'none for H.264'})`
        : '; the processor makes every video'),
    ...found.trials.map((t) => {
      const where = t.device ? ` at ${t.device}` : '';
      return t.passed
        ? `  ${t.name.padEnd(width)}  passed${where}`
        : `  ${t.name.padEnd(width)}  not offered${where}: ${t.reason ?? 'failed'}`;
    }),
  ];
}
