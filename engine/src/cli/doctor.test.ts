// `keepsake doctor` through the real CLI: it reports each graphics-chip encoder the
// FFmpeg build lists and whether its test encode passed. This machine has none that
// works, so every listed one must be reported as not offered, with FFmpeg's reason.

import { describe, expect, it } from 'vitest';
import { readCapabilities } from '../ffmpeg/capabilities';
import type { EncoderCapabilities } from '../ffmpeg/hw-detect';
import { locateFfmpeg } from '../ffmpeg/locate';
import { runCli } from '../testing/cli';
import { freshDir } from '../testing/tmp';
import { hardwareLines } from './hardware-report';

describe('keepsake doctor', () => {
  it('lists the graphics-chip encoders found and which passed', async () => {
    const env = { KEEPSAKE_HOME: await freshDir() };
    const listed = (await readCapabilities((await locateFfmpeg()).ffmpegPath)).encoders;
    const json = await runCli(['--json', 'doctor'], { env });
    expect(json.code, json.stderr).toBe(0);
    const { hardware } = JSON.parse(json.stdout) as { hardware: EncoderCapabilities };
    const expected = [
      'h264_nvenc',
      'hevc_nvenc',
      'h264_qsv',
      'hevc_qsv',
      'h264_vaapi',
      'hevc_vaapi',
    ];
    expect(hardware.trials.map((t) => t.name)).toEqual(expected.filter((n) => listed.has(n)));
    expect(hardware.hardware).toEqual([]);
    expect(hardware.trials.every((t) => !t.passed && t.reason)).toBe(true);

    const text = await runCli(['doctor'], { env });
    expect(text.code, text.stderr).toBe(0);
    expect(text.stdout).toContain(
      `graphics-chip encoders: 0 of ${hardware.trials.length} passed a test encode; the processor makes every video`,
    );
    expect(text.stdout).toMatch(/ {2}h264_vaapi {2}not offered at \/dev\/dri\/renderD\d+: \S/);
  });

  it('names the encoder web copies use when one passed', () => {
    const lines = hardwareLines({
      software: ['libx264'],
      hardware: [{ name: 'h264_qsv', codec: 'h264', api: 'qsv' }],
      trials: [
        {
          name: 'h264_nvenc',
          codec: 'h264',
          api: 'nvenc',
          passed: false,
          reason: 'Cannot load libcuda.so.1',
          ms: 80,
        },
        { name: 'h264_qsv', codec: 'h264', api: 'qsv', passed: true, ms: 120 },
      ],
    });
    expect(lines).toEqual([
      'graphics-chip encoders: 1 of 2 passed a test encode (web copies and playback use h264_qsv)',
      '  h264_nvenc  not offered: Cannot load libcuda.so.1',
      '  h264_qsv    passed',
    ]);
  });
});
