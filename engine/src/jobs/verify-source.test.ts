// Outputs checked against their source on real FFmpeg: the exact master decodes to the
// tape frame for frame (and keeps its fields, shape and colour tags), a restoration carries
// its SSIM and PSNR, and a broken encode or an inexact master fails with plain words.

import { execFile } from 'node:child_process';
import { readFile, readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { isKeepsakeError } from '../core/errors';
import { plainByteSource, serveLoopback, type LoopbackSource } from '../ffmpeg/input-source';
import { locateFfmpeg } from '../ffmpeg/locate';
import { serveOutputSink } from '../ffmpeg/output-sink';
import { probeInput } from '../ffmpeg/probe';
import { buildJob } from '../presets';
import type { OutputCheck, QualityCheck } from '../presets/preset';
import { finishJob, testEngine } from '../testing/engine';
import { makeClip } from '../testing/media';
import { TEST_SCRYPT, freshDir } from '../testing/tmp';
import { decryptFile, encryptFile } from '../vault/file-ops';
import { createVault } from '../vault/keyring';
import { sealedReader } from './sealed-reader';
import { verifyOutputs } from './verify';
import { qualityGraph, sampledStretches } from './verify-quality';
import { runFfmpeg } from './verify-source';

const run = promisify(execFile);

/**
 * A PAL tape as a capture card writes it: 720×576 with 16:15 pixels (4:3 on screen),
 * interlaced top field first, PAL colour tags, and sound.
 */
function makeTape(dir: string, seconds = 2): Promise<string> {
  return makeClip(dir, 'tape.mkv', {
    seconds,
    size: '720x576',
    outputArgs: [
      ...['-vf', 'setsar=16/15', '-flags', '+ildct+ilme', '-top', '1'],
      ...['-color_primaries', 'bt470bg', '-color_trc', 'gamma28', '-colorspace', 'bt470bg'],
      ...['-field_order', 'tt'],
    ],
  });
}

async function probeStreams(ffprobe: string, path: string): Promise<Record<string, string>[]> {
  const { stdout } = await run(ffprobe, [
    ...['-v', 'error', '-of', 'json', '-show_entries'],
    'stream=codec_name,codec_type,field_order,sample_aspect_ratio,display_aspect_ratio,color_primaries,color_space,r_frame_rate',
    path,
  ]);
  return (JSON.parse(stdout) as { streams: Record<string, string>[] }).streams;
}

async function rejection(promise: Promise<unknown>): Promise<unknown> {
  return promise.then(
    () => undefined,
    (err: unknown) => err,
  );
}

describe('the exact master and the restoration, as jobs', () => {
  it('the exact master keeps every frame, the fields, the 4:3 shape and the colour tags', async () => {
    const { dir, vault, engine } = await testEngine();
    try {
      const tape = await makeTape(dir);
      const input = join(dir, 'tape.mkv.ksv');
      await encryptFile(tape, input, vault);
      const job = await finishJob(engine, {
        preset: 'exact-master',
        params: {},
        input: { kind: 'vault', path: input },
      });
      expect(job, job.lastError?.message).toMatchObject({ state: 'succeeded' });
      const plain = join(dir, 'master.mkv');
      await decryptFile(job.outputs[0]!.path, plain, { vault });
      const [video, audio] = await probeStreams(engine.env.ffmpeg.ffprobePath, plain);
      expect(video).toMatchObject({
        codec_name: 'ffv1',
        field_order: 'tt',
        sample_aspect_ratio: '16:15',
        display_aspect_ratio: '4:3',
        color_primaries: 'bt470bg',
        color_space: 'bt470bg',
      });
      expect(audio).toMatchObject({ codec_name: 'flac' });
    } finally {
      await engine.close();
    }
  });

  it('a restoration at field rate carries its scores and stays 4:3', async () => {
    const { dir, vault, engine } = await testEngine();
    try {
      const tape = await makeTape(dir);
      const input = join(dir, 'tape.mkv.ksv');
      await encryptFile(tape, input, vault);
      const job = await finishJob(engine, {
        preset: 'vhs-restore',
        params: { motion: 'field', crop: '704:560:8:8', hiss: true, tenBit: true },
        input: { kind: 'vault', path: input },
      });
      expect(job, job.lastError?.message).toMatchObject({ state: 'succeeded' });
      const output = job.outputs[0]!;
      expect(output.quality?.ssim).toBeGreaterThan(0.9);
      expect(output.quality?.psnr).toBeGreaterThan(35);
      expect(job.notes.join('\n')).toMatch(
        /restored\.mkv: picture checked against the original: SSIM 0\.9\d+, PSNR \d+\.\d+ dB/,
      );
      const plain = join(dir, 'restored.mkv');
      await decryptFile(output.path, plain, { vault });
      const [video] = await probeStreams(engine.env.ffmpeg.ffprobePath, plain);
      expect(video).toMatchObject({ display_aspect_ratio: '4:3', r_frame_rate: '50/1' });
    } finally {
      await engine.close();
    }
  });
});

describe('checks against the source', () => {
  async function setup(makeSource: (dir: string) => Promise<string> = makeTape) {
    const dir = await freshDir();
    const { vault } = await createVault(join(dir, 'vault'), 'pw', {
      scrypt: TEST_SCRYPT,
      recovery: false,
    });
    const tools = await locateFfmpeg();
    const tape = await makeSource(dir);
    const source = await plainByteSource(tape);
    const served: LoopbackSource = await serveLoopback(source);
    const input = await probeInput(tools.ffprobePath, served);
    const sink = await serveOutputSink({ dir: join(dir, 'staging'), vault });
    const close = async () => {
      await sink.close();
      await served.close();
      await source.close();
    };
    const write = (name: string, args: string[]) =>
      run(tools.ffmpegPath, [
        ...['-v', 'error', '-i', tape, '-map', '0:v:0', '-map', '0:a', ...args],
        ...['-f', 'matroska', `${sink.url}/${name}`],
      ]);
    const verify = async (name: string, check: OutputCheck) =>
      verifyOutputs(tools, sealedReader(await sink.settle(), vault), [name], input, {
        checks: [check],
        source: {
          input: { url: served.url, env: served.env },
          demuxer: input.demuxer,
          durationSeconds: input.media.durationSeconds,
        },
      });
    return { write, verify, close };
  }

  it('a master that is not exact fails, saying whether the picture or the sound differs', async () => {
    const { write, verify, close } = await setup();
    try {
      await write('exact.mkv', ['-c:v', 'ffv1', '-c:a', 'flac']);
      await write('lossy.mkv', ['-c:v', 'libx264', '-crf', '30', '-c:a', 'flac']);
      await write('quiet.mkv', ['-c:v', 'ffv1', '-af', 'volume=0.5', '-c:a', 'flac']);
      await verify('exact.mkv', { kind: 'lossless', output: 'exact.mkv' });
      const lossy = await rejection(verify('lossy.mkv', { kind: 'lossless', output: 'lossy.mkv' }));
      expect(isKeepsakeError(lossy, 'OUTPUT_CHECK_FAILED'), String(lossy)).toBe(true);
      expect((lossy as Error).message).toBe(
        'lossy.mkv: the master is not an exact copy: its picture differs from the original',
      );
      const quiet = await rejection(verify('quiet.mkv', { kind: 'lossless', output: 'quiet.mkv' }));
      expect((quiet as Error).message).toBe(
        'quiet.mkv: the master is not an exact copy: its sound differs from the original',
      );
    } finally {
      await close();
    }
  });

  it('a crushed encode fails the quality gate with its scores; a sound one passes with them', async () => {
    const { write, verify, close } = await setup();
    const reference = ['bwdif=mode=send_frame:parity=auto:deint=all'];
    const vf = ['-vf', `${reference[0]},setdar=4/3`, '-c:a', 'aac'];
    const gate = (output: string): OutputCheck => ({
      kind: 'quality',
      output,
      reference,
      minSsim: 0.6,
      minPsnr: 28,
      minVmaf: 40,
      vmaf: false,
    });
    try {
      await write('good.mkv', [...vf, '-c:v', 'libx264', '-preset', 'ultrafast', '-crf', '20']);
      await write('crushed.mkv', [...vf, '-c:v', 'libx264', '-preset', 'ultrafast', '-b:v', '8k']);
      const scores = await verify('good.mkv', gate('good.mkv'));
      expect(scores.get('good.mkv')!.psnr).toBeGreaterThan(35);
      const err = await rejection(verify('crushed.mkv', gate('crushed.mkv')));
      expect(isKeepsakeError(err, 'OUTPUT_CHECK_FAILED'), String(err)).toBe(true);
      expect((err as Error).message).toMatch(
        /^crushed\.mkv: the picture came out too far from the original to keep \(likeness 0\.\d{3}, needs 0\.6; clarity \d+\.\d dB, needs 28 dB\); try a better quality setting$/,
      );
    } finally {
      await close();
    }
  });

  it('compares the same pictures on the stretches of a long video', async () => {
    // Two minutes and ten seconds of a pattern that changes every picture: a copy read
    // one picture off would score far from identical.
    const { write, verify, close } = await setup((dir) =>
      makeClip(dir, 'long.mkv', {
        seconds: 130,
        size: '160x120',
        videoCodec: 'ffv1',
        outputArgs: ['-vf', 'noise=alls=30:allf=t'],
      }),
    );
    const gate = (output: string): QualityCheck => ({
      kind: 'quality',
      output,
      reference: [],
      minSsim: 0.5,
      minPsnr: 24,
      minVmaf: 40,
      vmaf: false,
    });
    try {
      await write('copy.mkv', ['-c:v', 'ffv1', '-c:a', 'flac']);
      const copy = (await verify('copy.mkv', gate('copy.mkv'))).get('copy.mkv')!;
      expect(copy).toMatchObject({ ssim: 1, psnr: 99, vmaf: null });
      // A restoration at field rate with a denoiser that remembers past pictures, kept
      // losslessly: each stretch of the source, read from a second before it, comes out of
      // the same filters as the same pictures.
      const reference = ['bwdif=mode=send_field:parity=auto:deint=all', 'hqdn3d=4:3:6:4.5'];
      await write('restored.mkv', ['-vf', reference.join(','), '-c:v', 'ffv1', '-c:a', 'flac']);
      const restored = (await verify('restored.mkv', { ...gate('restored.mkv'), reference })).get(
        'restored.mkv',
      )!;
      expect(restored.ssim).toBeGreaterThan(0.999);
      expect(restored.psnr).toBeGreaterThan(50);
      await write('lossy.mkv', ['-c:v', 'libx264', '-preset', 'ultrafast', '-crf', '30']);
      const lossy = (await verify('lossy.mkv', gate('lossy.mkv'))).get('lossy.mkv')!;
      expect(lossy.psnr).toBeLessThan(40);
      expect(lossy.psnr).toBeGreaterThan(24);
    } finally {
      await close();
    }
  });

  it('each archive preset fails a crushed encode with its own floor and the score', async () => {
    const { write, verify, close } = await setup();
    const ctx = {
      input: 'http://127.0.0.1:1/x',
      inputProtocols: 'http,tcp',
      inputFormat: 'matroska',
      outputBase: 'http://127.0.0.1:1/out',
      media: { durationSeconds: 2, width: 720, height: 576, hasAudio: true },
      encoders: new Set(['libx265', 'libsvtav1', 'libopus']),
      muxers: new Set(['matroska']),
    };
    try {
      await write('archive.mkv', ['-c:v', 'libx265', '-preset', 'ultrafast', '-b:v', '8k']);
      for (const preset of ['archive-hevc', 'archive-av1']) {
        const check = buildJob(preset, {}, ctx).steps[0]!.checks![0]!;
        const err = await rejection(verify('archive.mkv', check));
        expect(isKeepsakeError(err, 'OUTPUT_CHECK_FAILED'), String(err)).toBe(true);
        expect((err as Error).message).toMatch(
          /^archive\.mkv: the picture came out too far from the original to keep \(likeness 0\.\d{3}, needs 0\.\d+; clarity 2[0-5]\.\d dB, needs 26 dB\); try a better quality setting$/,
        );
      }
    } finally {
      await close();
    }
  });

  it('measures a long video on six spread stretches, a short one whole', () => {
    expect(sampledStretches(60)).toBeUndefined();
    const stretches = sampledStretches(3 * 3600)!;
    expect(stretches).toHaveLength(6);
    expect(stretches[0]).toEqual({ start: 895.00025, seconds: 10 });
    expect(stretches[5]).toEqual({ start: 9895.00025, seconds: 10 });
    // Each stretch of the source is opened a second before it starts (only it is decoded),
    // past the sound that starts before the picture, and the same stretch is cut from the
    // output.
    const source = { input: { url: 'http://127.0.0.1:1/x', env: {} }, demuxer: 'matroska' };
    const times = { video: 0.5, file: 0.25 };
    const { inputs, graph } = qualityGraph(
      { reference: ['crop=8:8:0:0'] },
      source,
      stretches,
      true,
      times,
    );
    expect(inputs.join(' ')).toContain('-ss 894.250250 -t 12.000000 -format_whitelist matroska');
    expect(inputs.filter((a) => a === '-i')).toHaveLength(6);
    expect(graph).toContain('[o5]trim=start=9895.000250:duration=10.000000,setpts=PTS-STARTPTS');
    expect(graph).toContain('[6:v]crop=8:8:0:0,trim=start=1.000000:duration=10.000000');
    expect(graph).toContain('[d2][r2]libvmaf');
    const whole = qualityGraph({ reference: [] }, source, undefined, false);
    expect(whole.inputs).not.toContain('-ss');
    expect(whole.graph).not.toContain('libvmaf');
  });
});

describe("the checks' FFmpeg runs", () => {
  /** The most threads a child FFmpeg of this process had while `work` ran. */
  async function peakChildThreads(work: Promise<unknown>): Promise<number> {
    let running = true;
    void work.finally(() => (running = false));
    let peak = 0;
    while (running) {
      for (const pid of await readdir('/proc').catch(() => [])) {
        const stat = await readFile(`/proc/${pid}/stat`, 'utf8').catch(() => '');
        // pid (comm) state ppid …
        const m = /^\d+ \((\w+)\) \S (\d+)/.exec(stat);
        if (m?.[1] !== 'ffmpeg' || Number(m[2]) !== process.pid) continue;
        const tasks = await readdir(`/proc/${pid}/task`).catch(() => []);
        peak = Math.max(peak, tasks.length);
      }
      await new Promise((r) => setTimeout(r, 20));
    }
    await work;
    return peak;
  }

  // A worker told to use one thread keeps to it while it checks an output, too: its
  // comparison of two 720p pictures took 13 threads and one and a half cores before.
  it.skipIf(process.platform !== 'linux')('keep the thread cap a job was given', async () => {
    const { ffmpegPath } = await locateFfmpeg();
    const clip = join(await freshDir(), 'clip.mp4');
    await run(ffmpegPath, [
      ...['-v', 'error', '-f', 'lavfi', '-i', 'testsrc2=size=1280x720:rate=25:duration=4'],
      ...['-c:v', 'libx264', '-preset', 'ultrafast', clip],
    ]);
    const args = [
      ...['-i', clip, '-i', clip, '-filter_complex', '[0:v][1:v]ssim'],
      ...['-f', 'null', '-'],
    ];
    const tools = (threads?: number) => ({ ffmpegPath, ffprobePath: '', threads });
    const capped = await peakChildThreads(runFfmpeg(tools(1), args, {}));
    // FFmpeg's main thread and one reader thread per input.
    expect(capped).toBeGreaterThan(0);
    expect(capped).toBeLessThanOrEqual(3);
    expect(await peakChildThreads(runFfmpeg(tools(), args, {}))).toBeGreaterThan(capped);
  });
});
