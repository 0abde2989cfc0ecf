// Every preset's argv, run by real FFmpeg on tiny generated media: the commands are
// accepted and write outputs that ffprobe reads back. (Verification of stream durations
// and the sandboxed runner come with the job runner.)

import { execFile } from 'node:child_process';
import { readFile, readdir, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { beforeAll, describe, expect, it } from 'vitest';
import { isKeepsakeError } from '../errors';
import { readCapabilities } from '../ffmpeg/capabilities';
import { locateFfmpeg, type FfmpegLocation } from '../ffmpeg/locate';
import { makeClip } from '../testing/media';
import { freshDir } from '../testing/tmp';
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
      const out = join(dir, 'out');
      const ctx: BuildContext = {
        input,
        inputProtocols: 'file',
        inputFormat: image ? 'png_pipe' : 'mov',
        outputDir: out,
        media: { durationSeconds: image ? 0 : 2, width: 320, height: 240, hasAudio: !image },
        encoders,
        muxers,
      };
      let built;
      try {
        built = buildJob(preset.name, FAST[preset.name] ?? {}, ctx);
      } catch (err) {
        // Only a missing encoder may stop a preset here, and it must say so.
        expect(isKeepsakeError(err, 'FEATURE_UNAVAILABLE'), String(err)).toBe(true);
        return;
      }
      for (const step of built.steps) {
        for (const output of step.outputs) {
          await run('mkdir', ['-p', join(out, output, '..')]);
        }
        await run(ffmpeg.ffmpegPath, ['-v', 'error', ...step.args], { timeout: 120_000 });
        for (const output of step.outputs) {
          expect((await stat(join(out, output))).size).toBeGreaterThan(0);
          if (output.endsWith('.m3u8')) {
            await checkPlaylist(join(out, output));
            continue;
          }
          await decodes(join(out, output));
        }
      }
      expect((await readdir(out)).length).toBeGreaterThan(0);
    });
  }
});
