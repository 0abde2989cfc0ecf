// The quality gate on the lossy archive presets and the copy to watch, as jobs on real FFmpeg: each output
// carries its SSIM and PSNR; VMAF is asked of the npm-packaged FFmpeg (whose filter list
// has libvmaf) and of Debian's (whose has not), and in neither case is a score that was
// not measured stored as a pass.

import { join } from 'node:path';
import { createRequire } from 'node:module';
import { describe, expect, it } from 'vitest';
import { locateFfmpeg } from '../ffmpeg/locate';
import { finishJob, testEngine } from '../testing/engine';
import { makeClip } from '../testing/media';
import { encryptFile } from '../vault/file-ops';
import type { JobEngine } from './job-engine';
import type { Job } from './queue';
import { vmafUnavailable } from './verify-quality';

const NPM_FFMPEG = (createRequire(import.meta.url)('@ffmpeg-installer/ffmpeg') as { path: string })
  .path;

async function archive(
  engine: JobEngine,
  dir: string,
  vault: Parameters<typeof encryptFile>[2],
  preset: string,
  params: Record<string, string>,
): Promise<Job> {
  const clip = await makeClip(dir, `${preset}.mkv`, { size: '640x480', videoCodec: 'ffv1' });
  const input = join(dir, `${preset}.mkv.ksv`);
  await encryptFile(clip, input, vault);
  return finishJob(engine, { preset, params, input: { kind: 'vault', path: input } });
}

describe('the quality gate on the archive presets', () => {
  it('archive-hevc, archive-av1 and web-h264 outputs carry their scores; Debian FFmpeg has no VMAF', async () => {
    const { dir, vault, engine } = await testEngine();
    try {
      expect(engine.env.filters?.has('libvmaf')).toBe(false);
      for (const [preset, params, output] of [
        ['archive-hevc', { speed: 'ultrafast' }, 'archive.mkv'],
        ['archive-av1', { speed: '12' }, 'archive.mkv'],
        // Scaled down and denoised: compared with the source put through the same.
        ['web-h264', { maxHeight: '360', denoise: 'light' }, 'web.mp4'],
      ] as const) {
        const job = await archive(engine, dir, vault, preset, params);
        expect(job, job.lastError?.message).toMatchObject({ state: 'succeeded' });
        const quality = job.outputs.find((o) => o.name === output)!.quality!;
        expect(quality.ssim, preset).toBeGreaterThan(0.95);
        expect(quality.psnr, preset).toBeGreaterThan(35);
        expect(quality.vmaf, preset).toBeNull();
        expect(job.notes.join('\n')).toContain(
          `${output}: picture checked against the original: SSIM 0.9`,
        );
        expect(job.notes.join('\n')).toMatch(
          /: picture checked against the original: SSIM 0\.9\d+, PSNR \d+\.\d+ dB; VMAF not measured \(this FFmpeg has no VMAF\)/,
        );
      }
    } finally {
      await engine.close();
    }
  });

  it('with the npm-packaged FFmpeg, VMAF is asked for and recorded as not measured when its model cannot load', async () => {
    const system = await locateFfmpeg();
    const npm = { ...system, source: 'config' as const, ffmpegPath: NPM_FFMPEG, version: 'npm' };
    const { dir, vault, engine } = await testEngine({}, { ffmpeg: npm });
    try {
      expect(engine.env.ffmpeg.ffmpegPath).toBe(NPM_FFMPEG);
      expect(engine.env.filters?.has('libvmaf')).toBe(true);
      // The 2018 static build links libvmaf 1.x, which reads its model from a file the
      // npm package does not ship: on this machine VMAF cannot be measured, and says so.
      const why = await vmafUnavailable(NPM_FFMPEG);
      const job = await archive(engine, dir, vault, 'archive-hevc', { speed: 'ultrafast' });
      expect(job, job.lastError?.message).toMatchObject({ state: 'succeeded' });
      const quality = job.outputs[0]!.quality!;
      expect(quality.psnr).toBeGreaterThan(35);
      if (why === undefined) {
        expect(quality.vmaf).toBeGreaterThan(80);
        expect(job.notes.join('\n')).toMatch(/, VMAF \d+\.\d\d$/m);
      } else {
        expect(why).toBe('this FFmpeg cannot load its VMAF model');
        expect(quality.vmaf).toBeNull();
        expect(job.notes.join('\n')).toContain(
          'VMAF not measured (this FFmpeg cannot load its VMAF model)',
        );
      }
    } finally {
      await engine.close();
    }
  });
});
