// Every preset's argv, run by real FFmpeg on tiny generated media: the commands are
// accepted, write their outputs in one pass into the engine's loopback sink (FFmpeg
// cannot seek in it), and what the sink sealed decrypts to media that decodes.
// (Verification of stream durations and the sandboxed runner come with the job runner.)

import { execFile } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { beforeAll, describe, expect, it } from 'vitest';
import { isKeepsakeError } from '../core/errors';
import { readCapabilities } from '../ffmpeg/capabilities';
import { locateFfmpeg, type FfmpegLocation } from '../ffmpeg/locate';
import { serveOutputSink } from '../ffmpeg/output-sink';
import { makeClip } from '../testing/media';
import { TEST_SCRYPT, freshDir } from '../testing/tmp';
import { decryptFile } from '../vault/file-ops';
import { createVault } from '../vault/keyring';
import { PRESETS, buildJob } from './index';
import type { BuildContext } from './preset';

const run = promisify(execFile);

/** The quickest settings, so that the slow encoders finish a 2 s clip in seconds. */
const FAST: Record<string, Record<string, unknown>> = {
  'archive-hevc': { speed: 'ultrafast' },
  'archive-av1': { speed: 12 },
};

let ffmpeg: FfmpegLocation;
let encoders: ReadonlySet<string>;
let muxers: ReadonlySet<string>;

/**
 * Decodes the first video stream of `path` to nothing: the output is playable. (Done with
 * ffmpeg: the npm-packaged ffprobe, build N-66595, segfaults on MPEG-TS and HLS; the
 * job verifier must not rely on it.)
 */
async function decodes(path: string): Promise<void> {
  await run(ffmpeg.ffmpegPath, ['-v', 'error', '-i', path, '-map', '0:v:0', '-f', 'null', '-']);
}

/**
 * Playlists are read: a master playlist names RESOLUTION and CODECS for each variant; a
 * media playlist ends and lists segments that decode.
 */
async function checkPlaylist(path: string): Promise<void> {
  const text = await readFile(path, 'utf8');
  expect(text.startsWith('#EXTM3U')).toBe(true);
  if (text.includes('#EXT-X-STREAM-INF')) {
    expect(text).toMatch(/#EXT-X-STREAM-INF:.*RESOLUTION=\d+x\d+/);
    expect(text).toMatch(/#EXT-X-STREAM-INF:.*CODECS="avc1\.[0-9a-f]{6}(,mp4a\.40\.2)?"/);
    return;
  }
  expect(text).toContain('#EXT-X-ENDLIST');
  const segment = text.split('\n').find((line) => line.endsWith('.ts'));
  expect(segment).toBeDefined();
  await decodes(join(path, '..', segment!));
}

beforeAll(async () => {
  ffmpeg = await locateFfmpeg();
  ({ encoders, muxers } = await readCapabilities(ffmpeg.ffmpegPath));
});

describe('presets with real FFmpeg', () => {
  for (const preset of PRESETS) {
    it(`${preset.name} runs on generated media`, async () => {
      const dir = await freshDir();
      const image = preset.accepts === 'image';
      // 2 s of 320x240 test pattern with a tone, or one still frame.
      const input = image
        ? await makeClip(dir, 'in.png', { still: true })
        : await makeClip(dir, 'in.mp4');
      const { vault } = await createVault(join(dir, 'vault'), 'pw', {
        scrypt: TEST_SCRYPT,
        recovery: false,
      });
      const sink = await serveOutputSink({ dir: join(dir, 'sealed'), vault });
      const ctx: BuildContext = {
        input,
        inputProtocols: 'file',
        inputFormat: image ? 'png_pipe' : 'mov',
        outputBase: sink.url,
        media: { durationSeconds: image ? 0 : 2, width: 320, height: 240, hasAudio: !image },
        encoders,
        muxers,
      };
      let built;
      try {
        built = buildJob(preset.name, FAST[preset.name] ?? {}, ctx);
      } catch (err) {
        await sink.close();
        // Only a missing encoder may stop a preset here, and it must say so.
        expect(isKeepsakeError(err, 'FEATURE_UNAVAILABLE'), String(err)).toBe(true);
        return;
      }
      const out = join(dir, 'out');
      try {
        for (const step of built.steps) {
          await run(ffmpeg.ffmpegPath, ['-v', 'error', ...step.args], { timeout: 120_000 });
        }
        const sealed = await sink.settle();
        expect(sink.error).toBeUndefined();
        // Every output decrypts into a plain folder, where the checks below read it.
        for (const output of sealed.values()) {
          await run('mkdir', ['-p', join(out, output.name, '..')]);
          await decryptFile(output.path, join(out, output.name), { vault });
        }
        for (const step of built.steps) {
          for (const output of step.outputs) {
            expect(sealed.get(output)?.size, output).toBeGreaterThan(0);
            if (output.endsWith('.m3u8')) {
              await checkPlaylist(join(out, output));
              continue;
            }
            await decodes(join(out, output));
          }
        }
      } finally {
        await sink.close();
      }
    });
  }
});

describe('thumbnails keep the picture as it is shown', () => {
  /** Width and height of the picture in an image file. */
  async function size(path: string): Promise<string> {
    const { stdout } = await run(ffmpeg.ffprobePath, [
      ...['-v', 'error', '-show_entries', 'stream=width,height', '-of', 'csv=p=0:s=x', path],
    ]);
    return stdout.trim();
  }

  // 720×576 stored pixels: 4:3 on screen with 16:15 pixels (PAL tape), 16:9 with 64:45.
  for (const [sar, poster, tile] of [
    ['16/15', '768x576', '320x240'],
    ['64/45', '1024x576', '320x180'],
  ] as const) {
    it(`a 720×576 picture with ${sar} pixels: poster ${poster}, sheet tiles ${tile}`, async () => {
      const dir = await freshDir();
      const input = await makeClip(dir, 'tape.mp4', {
        size: '720x576',
        outputArgs: ['-vf', `setsar=${sar}`],
      });
      const { vault } = await createVault(join(dir, 'vault'), 'pw', {
        scrypt: TEST_SCRYPT,
        recovery: false,
      });
      const sink = await serveOutputSink({ dir: join(dir, 'sealed'), vault });
      try {
        const built = buildJob(
          'thumbnails',
          { columns: 2, rows: 2 },
          {
            input,
            inputProtocols: 'file',
            inputFormat: 'mov',
            outputBase: sink.url,
            media: { durationSeconds: 2, width: 720, height: 576, hasAudio: true },
            encoders,
            muxers,
          },
        );
        for (const step of built.steps) {
          await run(ffmpeg.ffmpegPath, ['-v', 'error', ...step.args], { timeout: 120_000 });
        }
        const sealed = await sink.settle();
        const plain = (name: string) => join(dir, name);
        for (const name of ['poster.jpg', 'contact-sheet.jpg']) {
          await decryptFile(sealed.get(name)!.path, plain(name), { vault });
        }
        expect(await size(plain('poster.jpg'))).toBe(poster);
        const [w, h] = tile.split('x').map(Number) as [number, number];
        expect(await size(plain('contact-sheet.jpg'))).toBe(`${w * 2}x${h * 2}`);
      } finally {
        await sink.close();
      }
    });
  }
});
