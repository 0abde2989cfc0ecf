// Presets: golden argv per preset for sample parameters (pinned in __golden__/ and
// reviewed by hand), and refusal of anything that is not a plain, in-range value.

import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { isKeepsakeError } from '../core/errors';
import { PRESETS, buildJob, describePresets, getPreset } from './index';
import { rungsFor } from './hls-playback';
import { validateParams } from './params';
import type { BuildContext } from './preset';

const ALL_ENCODERS = new Set([
  'libx264',
  'libx265',
  'libsvtav1',
  'libaom-av1',
  'libopus',
  'libwebp',
  'png',
  'mjpeg',
  'ffv1',
  'flac',
]);

function context(overrides: Partial<BuildContext> = {}): BuildContext {
  return {
    input: 'http://127.0.0.1:40000/0123456789abcdef0123456789abcdef',
    inputProtocols: 'http,tcp',
    inputFormat: 'mov',
    outputBase: 'http://127.0.0.1:40001/fedcba9876543210fedcba9876543210',
    media: { durationSeconds: 120, width: 1280, height: 720, hasAudio: true },
    encoders: ALL_ENCODERS,
    muxers: new Set(['avif']),
    ...overrides,
  };
}

/** Sample parameters per preset: the defaults, and one set that changes every knob. */
const SAMPLES: Record<string, Record<string, unknown>[]> = {
  'exact-master': [{}, { keepMetadata: 'false' }],
  'archive-hevc': [
    {},
    { crf: '18', speed: 'veryslow', tenBit: 'true', audio: 'opus', keepMetadata: 'false' },
  ],
  'archive-av1': [{}, { crf: 40, speed: 10, tenBit: false, audio: 'copy' }],
  'web-h264': [
    {},
    { crf: '20', maxHeight: 'original' },
    { deinterlace: 'bwdif', denoise: 'light', aspect: '4:3', loudnorm: 'true' },
  ],
  'vhs-restore': [
    {},
    {
      deinterlace: 'yadif',
      denoise: 'strong',
      crop: '704:560:8:8',
      fieldOrder: 'tff',
      aspect: '16:9',
      loudnorm: 'false',
      crf: '16',
    },
    {
      motion: 'field',
      fieldOrder: 'bff',
      denoiser: 'nlmeans',
      denoise: 'medium',
      hiss: 'true',
      codec: 'hevc',
      tenBit: 'true',
    },
  ],
  'hls-playback': [{}, { segmentSeconds: '6', maxRenditions: '1' }],
  'photo-web': [
    {},
    { format: 'webp', maxDimension: '1024', quality: '50' },
    { format: 'jpeg', maxDimension: '1024', quality: '50', keepMetadata: 'false' },
  ],
  thumbnails: [{}, { posterAt: '50', columns: '3', rows: '2' }],
  remux: [{}, { container: 'mp4', keepMetadata: 'false' }],
  clip: [{}, { start: '2.5', end: '10', keepMetadata: 'false' }],
};

describe('presets', () => {
  it('ship the eight presets the encoding issue asks for, the exact master and the clip, each with a JSON Schema', () => {
    expect(PRESETS.map((p) => p.name).sort()).toEqual(Object.keys(SAMPLES).sort());
    for (const d of describePresets()) {
      expect(d.description.length).toBeGreaterThan(10);
      expect(d.scopes.length).toBeGreaterThan(0);
      expect(d.parameters).toMatchObject({ type: 'object', additionalProperties: false });
    }
  });

  for (const [name, samples] of Object.entries(SAMPLES)) {
    it(`${name}: golden argv`, async () => {
      const built = samples.map((params) => ({ params, ...buildJob(name, params, context()) }));
      await expect(JSON.stringify(built, null, 2) + '\n').toMatchFileSnapshot(
        `./__golden__/${name}.json`,
      );
    });
  }

  it('every video preset keeps the source metadata unless asked not to', () => {
    for (const preset of PRESETS.filter((p) => 'keepMetadata' in p.params)) {
      const keep = buildJob(preset.name, {}, context()).steps[0]!.args;
      const drop = buildJob(preset.name, { keepMetadata: 'false' }, context()).steps[0]!.args;
      expect(keep.join(' ')).toContain('-map_metadata 0');
      expect(drop.join(' ')).toContain('-map_metadata -1');
    }
  });

  it('forces the demuxer and limits protocols on every step', () => {
    for (const preset of PRESETS) {
      for (const step of buildJob(preset.name, {}, context()).steps) {
        expect(step.args.slice(0, 6)).toEqual([
          '-hide_banner',
          '-nostdin',
          '-protocol_whitelist',
          'http,tcp',
          '-format_whitelist',
          'mov',
        ]);
        expect(step.args.slice(step.args.indexOf('-i') - 2)).toEqual(
          expect.arrayContaining(['-f', 'mov', '-i']),
        );
        expect(step.args[step.args.indexOf('-i') - 2]).toBe('-f');
        expect(step.args.every((a) => !a.includes('\n'))).toBe(true);
      }
    }
  });

  it('archive-av1 picks SVT-AV1 when present, else libaom, and says which', () => {
    const svt = buildJob('archive-av1', {}, context());
    expect(svt.notes).toEqual(['AV1 encoder: libsvtav1']);
    const aom = buildJob(
      'archive-av1',
      { speed: 12 },
      context({ encoders: new Set(['libaom-av1', 'libopus']) }),
    );
    expect(aom.notes).toEqual(['AV1 encoder: libaom-av1']);
    expect(aom.steps[0]!.args.join(' ')).toContain('-cpu-used 8');
    expect(() => buildJob('archive-av1', {}, context({ encoders: new Set() }))).toThrow(/lacks/);
  });

  it('vhs-restore reads back the crop box a queued job stores, and refuses one outside the picture', () => {
    const preset = getPreset('vhs-restore');
    // What submitJob validates and the queue stores is the parsed box; the job is
    // validated again from that form when it runs or is retried.
    const stored = validateParams(preset.params, { crop: '704:560:8:8' });
    expect(stored.crop).toEqual({ width: 704, height: 560, x: 8, y: 8 });
    const again = buildJob('vhs-restore', JSON.parse(JSON.stringify(stored)), context());
    expect(again.steps[0]!.args.join(' ')).toContain('crop=704:560:8:8');
    expect(() =>
      buildJob('vhs-restore', { crop: { width: 1.5, height: 2, x: 0, y: 0 } }, context()),
    ).toThrow(/W:H:X:Y/);

    const tooBig = (crop: string) => () => buildJob('vhs-restore', { crop }, context());
    expect(tooBig('1280:720:0:0')).not.toThrow();
    expect(tooBig('1280:720:1:0')).toThrow(
      'the box 1280×720 at 1,0 does not fit the 1280×720 picture',
    );
    expect(tooBig('9999:9999:0:0')).toThrow(
      expect.objectContaining({ code: 'INVALID_PARAMETER' }) as Error,
    );
  });

  it('vhs-restore refuses a crop box of odd size, and bm3d where the build lacks it', () => {
    expect(() => buildJob('vhs-restore', { crop: '703:560:8:8' }, context())).toThrow(
      'must have an even width and height',
    );
    const without = context({ filters: new Set(['bwdif', 'hqdn3d', 'nlmeans']) });
    expect(() => buildJob('vhs-restore', { denoiser: 'bm3d' }, without)).toThrow(
      expect.objectContaining({ code: 'FEATURE_UNAVAILABLE' }) as Error,
    );
    const args = buildJob('vhs-restore', { denoiser: 'nlmeans' }, without).steps[0]!.args;
    expect(args.join(' ')).toContain('nlmeans=s=1.5');
    const withIt = context({ filters: new Set(['bm3d']) });
    expect(
      buildJob('vhs-restore', { denoiser: 'bm3d' }, withIt).steps[0]!.args.join(' '),
    ).toContain('bm3d=sigma=3');
  });

  it('vhs-restore asks for the quality gate against the source put through its own filters', () => {
    const step = buildJob(
      'vhs-restore',
      { motion: 'field', crop: '704:560:8:8', denoise: 'strong' },
      context(),
    ).steps[0]!;
    expect(step.checks).toEqual([
      {
        kind: 'quality',
        output: 'restored.mkv',
        reference: [
          'bwdif=mode=send_field:parity=auto:deint=all',
          'crop=704:560:8:8',
          'hqdn3d=8:6:12:9',
        ],
        minSsim: 0.6,
        minPsnr: 28,
        minVmaf: 40,
        vmaf: false,
      },
    ]);
  });

  it('the lossy archive presets ask for the quality gate, with VMAF where the build has it', () => {
    for (const [name, floors] of [
      ['archive-hevc', { minSsim: 0.45, minPsnr: 26 }],
      ['archive-av1', { minSsim: 0.5, minPsnr: 26 }],
    ] as const) {
      const gate = { kind: 'quality', output: 'archive.mkv', reference: [], ...floors };
      expect(buildJob(name, {}, context()).steps[0]!.checks).toEqual([
        { ...gate, minVmaf: 40, vmaf: false },
      ]);
      const vmaf = context({ filters: new Set(['libvmaf']) });
      expect(buildJob(name, {}, vmaf).steps[0]!.checks).toEqual([
        { ...gate, minVmaf: 40, vmaf: true },
      ]);
    }
  });

  it('exact-master asks for the lossless check and states the source field order again', () => {
    const media = { durationSeconds: 5, width: 720, height: 576, hasAudio: true };
    const tape = buildJob('exact-master', {}, context({ media: { ...media, fieldOrder: 'tt' } }))
      .steps[0]!;
    expect(tape.checks).toEqual([{ kind: 'lossless', output: 'master.mkv' }]);
    expect(tape.args.join(' ')).toContain('-field_order tt');
    expect(tape.args.join(' ')).toContain('-c:a flac');
    const silent = buildJob('exact-master', {}, context({ media: { ...media, hasAudio: false } }))
      .steps[0]!.args;
    expect(silent).not.toContain('-field_order');
    expect(silent).not.toContain('-c:a');
    expect(() => buildJob('exact-master', {}, context({ encoders: new Set() }))).toThrow(
      expect.objectContaining({ code: 'FEATURE_UNAVAILABLE' }) as Error,
    );
  });

  it('clip copies the packets of an exact source (FFV1 with FLAC or PCM in Matroska), and encodes anything else', async () => {
    const master = {
      durationSeconds: 120,
      width: 720,
      height: 576,
      hasAudio: true,
      fieldOrder: 'tt' as const,
      videoCodec: 'ffv1',
      audioCodecs: ['flac'],
    };
    const exact = context({ inputFormat: 'matroska', media: master });
    const built = SAMPLES.clip!.map((params) => ({ params, ...buildJob('clip', params, exact) }));
    await expect(JSON.stringify(built, null, 2) + '\n').toMatchFileSnapshot(
      './__golden__/clip-copy.json',
    );
    const copies = (c: BuildContext) => buildJob('clip', { start: 1 }, c).steps[0]!.args;
    expect(copies(exact).join(' ')).toContain('-c copy');
    const silent = { ...master, hasAudio: false, audioCodecs: [] };
    const pcm = { ...master, audioCodecs: ['pcm_s16le', 'flac'] };
    for (const media of [silent, pcm]) {
      expect(copies(context({ inputFormat: 'matroska', media })).join(' ')).toContain('-c copy');
    }
    const encoded = [
      context({ media: master }), // FFV1 in MP4: not the master
      context({ inputFormat: 'matroska', media: { ...master, videoCodec: 'h264' } }),
      context({ inputFormat: 'matroska', media: { ...master, audioCodecs: ['flac', 'aac'] } }),
      // Sound the probe did not name is not taken for exact.
      context({ inputFormat: 'matroska', media: { ...master, audioCodecs: undefined } }),
      context({ inputFormat: 'matroska', media: { ...master, audioCodecs: [] } }),
    ];
    for (const c of encoded) {
      const args = copies(c).join(' ');
      expect(args).not.toContain('-c copy');
      expect(args).toContain('-c:v ffv1');
    }
  });

  it('the HLS ladder never upscales', () => {
    expect(rungsFor(2160).map((r) => r.height)).toEqual([1080, 720, 480, 360]);
    expect(rungsFor(720).map((r) => r.height)).toEqual([720, 480, 360]);
    expect(rungsFor(240).map((r) => r.height)).toEqual([240]);
    const small = buildJob(
      'hls-playback',
      {},
      context({ media: { durationSeconds: 5, width: 320, height: 240, hasAudio: false } }),
    );
    expect(small.steps[0]!.args.join(' ')).toContain('scale=-2:240');
    expect(small.steps[0]!.args).toContain('v:0');
  });

  it("JPEG's quality means what it means in libjpeg: mjpeg's qscale 2..31, full range", () => {
    const qscale = (quality: number) => {
      const args = buildJob('photo-web', { format: 'jpeg', quality }, context()).steps[0]!.args;
      expect(args.slice(args.indexOf('-pix_fmt'), args.indexOf('-pix_fmt') + 2)).toEqual([
        '-pix_fmt',
        'yuvj420p',
      ]);
      return Number(args[args.indexOf('-q:v') + 1]);
    };
    expect([1, 13, 25, 50, 75, 80, 85, 100].map(qscale)).toEqual([31, 31, 16, 8, 4, 3, 2, 2]);
    const built = buildJob('photo-web', { format: 'jpeg' }, context());
    expect(built.steps[0]!.outputs).toEqual(['photo.jpg']);
    expect(built.steps[0]!.labelled).toEqual(['photo.jpg']);
    expect(() =>
      buildJob('photo-web', { format: 'jpeg' }, context({ encoders: new Set(['libwebp']) })),
    ).toThrow(expect.objectContaining({ code: 'FEATURE_UNAVAILABLE' }));
  });

  it('AVIF: FFmpeg writes a PNG for the engine to encode, which it cannot stream itself', () => {
    const [step] = buildJob('photo-web', { format: 'avif', quality: 80 }, context()).steps;
    expect(step!.outputs).toEqual(['photo.avif']);
    expect(step!.avif).toEqual({ 'photo.avif': { quality: 52 } });
    expect(step!.args.slice(step!.args.indexOf('-c:v'))).toEqual([
      ...['-c:v', 'png', '-compression_level', '1', '-f', 'image2pipe'],
      'http://127.0.0.1:40001/fedcba9876543210fedcba9876543210/photo.avif',
    ]);
    const finest = buildJob('photo-web', { format: 'avif', quality: 100 }, context());
    expect(finest.steps[0]!.avif).toEqual({ 'photo.avif': { quality: 100 } });
  });

  it('an unknown preset is a clear error', () => {
    expect(() => getPreset('../../bin/sh')).toThrow(
      expect.objectContaining({ code: 'UNKNOWN_PRESET' }),
    );
  });
});

describe('parameter injection', () => {
  const HOSTILE = [
    '-i /etc/passwd',
    '-f',
    'file:///etc/passwd',
    'http://169.254.169.254/',
    '../../../etc/shadow',
    '/etc/passwd',
    'scale=1,drawtext=text=pwned',
    "18'[out]",
    '18;rm -rf /',
    '18 -y',
    '18\n-vf',
    '18\u0000',
    ' 18',
    '18 ',
    '0x10',
    '1e3',
    'NaN',
    'Infinity',
    '-1',
    '99999999999',
    '',
    'slow,format=gray',
    'TRUE',
    '704:560:8:8,drawbox',
    '704:560:8',
    'x'.repeat(10_000),
  ];
  const WRONG_TYPES: unknown[] = [{}, [], ['18'], { toString: () => '18' }, Symbol.for('x'), 10n];

  for (const preset of PRESETS) {
    it(`${preset.name}: every parameter refuses hostile and mistyped values, naming the parameter`, () => {
      for (const name of Object.keys(preset.params)) {
        for (const value of [...HOSTILE, ...WRONG_TYPES]) {
          let error: unknown;
          try {
            buildJob(preset.name, { [name]: value }, context());
          } catch (err) {
            error = err;
          }
          // A hostile string is refused unless it happens to be a valid value (none here is).
          expect(isKeepsakeError(error, 'INVALID_PARAMETER'), `${name}=${String(value)}`).toBe(
            true,
          );
          expect((error as Error).message).toContain(`"${name}"`);
        }
      }
    });

    it(`${preset.name}: unknown parameters are refused by name`, () => {
      for (const name of ['vf', '-vf', 'filter_complex', '__proto__', 'constructor', 'args']) {
        const raw = JSON.parse(`{"${name}": "x"}`) as Record<string, unknown>;
        expect(() => buildJob(preset.name, raw, context())).toThrow(
          `parameter "${name}": unknown parameter`,
        );
      }
    });
  }

  it('whatever string is given, an accepted value reaches the argv only as a plain token', () => {
    fc.assert(
      fc.property(fc.constantFrom(...PRESETS), fc.string({ maxLength: 40 }), (preset, value) => {
        for (const name of Object.keys(preset.params)) {
          let args: string[] | undefined;
          try {
            args = buildJob(preset.name, { [name]: value }, context()).steps.flatMap((s) => s.args);
          } catch (err) {
            expect(
              isKeepsakeError(err, 'INVALID_PARAMETER') ||
                isKeepsakeError(err, 'FEATURE_UNAVAILABLE'),
            ).toBe(true);
            continue;
          }
          // Accepted: the value is a plain word, number or crop box.
          expect(value).toMatch(/^([A-Za-z0-9]+|\d+(\.\d+)?|\d+:\d+:\d+:\d+|\d+:\d+|none)$/);
          expect(args.some((a) => a.includes('\0'))).toBe(false);
        }
      }),
      { numRuns: 300 },
    );
  });
});
