// The graphics-chip paths of the web-copy and playback presets: golden argv per API
// (pinned in __golden__/hardware-*.json and reviewed by hand), built from a capabilities
// object rather than this machine, which has no chip. Whether FFmpeg takes these argv on
// real hardware has not been tried here (README, "Graphics-chip encoders").

import { describe, expect, it } from 'vitest';
import { isKeepsakeError } from '../core/errors';
import { HARDWARE_APIS, type HardwareEncoder } from '../ffmpeg/hw-encoders';
import { buildJob, getPreset } from './index';
import type { BuildContext } from './preset';

function context(hardware: HardwareEncoder[] = []): BuildContext {
  return {
    input: 'http://127.0.0.1:40000/0123456789abcdef0123456789abcdef',
    inputProtocols: 'http,tcp',
    inputFormat: 'mov',
    outputBase: 'http://127.0.0.1:40001/fedcba9876543210fedcba9876543210',
    media: { durationSeconds: 120, width: 1280, height: 720, hasAudio: true },
    encoders: new Set(['libx264', 'libx265', 'libsvtav1', 'libopus']),
    muxers: new Set(),
    hardware,
  };
}

function chip(api: HardwareEncoder['api'], codec: HardwareEncoder['codec'] = 'h264') {
  return {
    name: `${codec}_${api}`,
    codec,
    api,
    ...(api === 'vaapi' ? { device: '/dev/dri/renderD128' } : {}),
  };
}

const SAMPLES: [string, Record<string, unknown>][] = [
  ['web-h264', {}],
  ['web-h264', { crf: 20, maxHeight: '480', deinterlace: 'bwdif', encoder: 'hardware' }],
  ['hls-playback', {}],
];

describe('hardware encoders in presets', () => {
  for (const api of HARDWARE_APIS) {
    it(`${api}: golden argv`, async () => {
      const ctx = context([chip(api, 'hevc'), chip(api)]);
      const built = SAMPLES.map(([preset, params]) => ({
        preset,
        params,
        ...buildJob(preset, params, ctx),
      }));
      for (const b of built) {
        expect(b.steps[0]!.hardware).toBe(`h264_${api}`);
        expect(b.steps[0]!.args).toContain(`h264_${api}`);
        expect(b.notes).toContain(`video encoder: h264_${api} (graphics chip)`);
      }
      await expect(JSON.stringify(built, null, 2) + '\n').toMatchFileSnapshot(
        `./__golden__/hardware-${api}.json`,
      );
    });
  }

  it('auto takes the first chip that passed, and the processor when none did', () => {
    const two = buildJob('web-h264', {}, context([chip('qsv'), chip('vaapi')]));
    expect(two.steps[0]!.hardware).toBe('h264_qsv');
    // An HEVC-only chip cannot make an H.264 copy.
    for (const ctx of [context(), context([chip('nvenc', 'hevc')])]) {
      const soft = buildJob('web-h264', {}, ctx);
      expect(soft.steps[0]!.hardware).toBeUndefined();
      expect(soft.steps[0]!.args).toContain('libx264');
      expect(soft.notes).toEqual([]);
    }
  });

  it('software ignores a chip, and gives the same argv as before the choice existed', () => {
    const ctx = context([chip('nvenc')]);
    const soft = buildJob('hls-playback', { encoder: 'software' }, ctx);
    expect(soft).toEqual(buildJob('hls-playback', {}, context()));
    expect(soft.steps[0]!.hardware).toBeUndefined();
  });

  it('hardware where no chip passed its test is refused in plain words', () => {
    for (const preset of ['web-h264', 'hls-playback']) {
      let err: unknown;
      try {
        buildJob(preset, { encoder: 'hardware' }, context());
      } catch (e) {
        err = e;
      }
      expect(isKeepsakeError(err, 'FEATURE_UNAVAILABLE')).toBe(true);
      expect((err as Error).message).toMatch(/graphics chip.*choose "auto"/);
    }
  });

  it('archive masters are not offered a chip', () => {
    for (const preset of ['archive-hevc', 'archive-av1', 'exact-master', 'vhs-restore']) {
      expect(getPreset(preset).params).not.toHaveProperty('encoder');
    }
    expect(() => buildJob('archive-hevc', { encoder: 'hardware' }, context())).toThrow(
      /unknown parameter/,
    );
  });
});
