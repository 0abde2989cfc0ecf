// Hardware encoder detection against the real FFmpeg of this machine, which lists VAAPI,
// QSV and NVENC encoders but has no graphics chip: every listed one must fail its test
// encode and not be offered. A test encode that should pass (a software encoder through
// the same machinery) shows that the failures are the chip's, not the test's.

import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { isKeepsakeError } from '../core/errors';
import { freshDir } from '../testing/tmp';
import { readCapabilities } from './capabilities';
import { detectEncoders, testEncode, testEncodeArgs } from './hw-detect';
import { locateFfmpeg } from './locate';

let ffmpegPath: string;
let listed: ReadonlySet<string>;

beforeAll(async () => {
  ffmpegPath = (await locateFfmpeg()).ffmpegPath;
  listed = (await readCapabilities(ffmpegPath)).encoders;
});

describe('detectEncoders', () => {
  it('does not offer a listed VAAPI encoder whose device does not exist', async () => {
    const found = await detectEncoders(ffmpegPath, {
      platform: 'linux',
      vaapiDevice: '/nonexistent/dri/renderD199',
    });
    const vaapi = found.trials.filter((t) => t.api === 'vaapi');
    // Debian's FFmpeg lists both; a build without them would make this test meaningless.
    expect(vaapi.map((t) => t.name).sort()).toEqual(['h264_vaapi', 'hevc_vaapi']);
    for (const trial of vaapi) {
      expect(trial.passed).toBe(false);
      expect(trial.device).toBe('/nonexistent/dri/renderD199');
      expect(trial.reason).toMatch(/renderD199|VA|device/i);
    }
    expect(found.hardware).toEqual([]);
    expect(found.software).toContain('libx264');
  });

  it('does not offer VAAPI at a device path that is an ordinary file', async () => {
    const dir = await freshDir();
    const fake = join(dir, 'renderD128');
    await writeFile(fake, 'not a graphics chip');
    const found = await detectEncoders(ffmpegPath, { platform: 'linux', vaapiDevice: fake });
    const vaapi = found.trials.filter((t) => t.api === 'vaapi');
    expect(vaapi).toHaveLength(2);
    expect(vaapi.every((t) => !t.passed)).toBe(true);
    expect(found.hardware.filter((e) => e.api === 'vaapi')).toEqual([]);
  });

  it('tries only what the build lists for the platform, and nothing on one it lacks', async () => {
    const mac = await detectEncoders(ffmpegPath, { platform: 'darwin', listed });
    expect(mac.trials).toEqual([]);
    const windows = await detectEncoders(ffmpegPath, {
      platform: 'win32',
      listed: new Set(['h264_amf', 'h264_mf', 'libx264']),
    });
    expect(windows.trials.map((t) => t.name)).toEqual(['h264_amf', 'h264_mf']);
    // FFmpeg here has neither: the test encode fails on the unknown encoder.
    expect(windows.trials.every((t) => !t.passed && t.reason)).toBe(true);
    expect(windows.software).toEqual(['libx264']);
    expect(await detectEncoders(ffmpegPath, { platform: 'aix' })).toMatchObject({
      hardware: [],
      trials: [],
    });
  });

  it('answers once per process', async () => {
    const options = { platform: 'linux' as const, vaapiDevice: '/nonexistent/dri/renderD7' };
    const first = detectEncoders(ffmpegPath, options);
    expect(detectEncoders(ffmpegPath, options)).toBe(first);
    await first;
  });

  it('refuses a device path FFmpeg could read as options', async () => {
    const err: unknown = await detectEncoders(ffmpegPath, {
      vaapiDevice: '/dev/dri/renderD128,x=y',
    }).catch((e: unknown) => e);
    expect(isKeepsakeError(err, 'INVALID_PARAMETER')).toBe(true);
  });
});

describe('testEncode', () => {
  it('passes with an encoder that works, through the same argv shape', async () => {
    const trial = await testEncode(
      ffmpegPath,
      { name: 'libx264', codec: 'h264', api: 'nvenc' },
      20_000,
    );
    expect(trial).toMatchObject({ passed: true });
    expect(trial.reason).toBeUndefined();
  });

  it('gives up on an encoder that does not answer in time', async () => {
    const trial = await testEncode(ffmpegPath, { name: 'libx264', codec: 'h264', api: 'nvenc' }, 1);
    expect(trial).toMatchObject({ passed: false, reason: 'no answer within 1 ms' });
  });

  it('opens the device and uploads frames as a job does', () => {
    const vaapi = testEncodeArgs({
      name: 'h264_vaapi',
      codec: 'h264',
      api: 'vaapi',
      device: '/dev/dri/renderD129',
    });
    expect(vaapi.join(' ')).toContain('-vaapi_device /dev/dri/renderD129 -f lavfi');
    expect(vaapi.join(' ')).toContain('-vf format=nv12,hwupload -c:v h264_vaapi');
    const mf = testEncodeArgs({ name: 'h264_mf', codec: 'h264', api: 'mf' });
    expect(mf.join(' ')).toContain('-c:v h264_mf -hw_encoding 1 -f null -');
  });
});
