// Verification of sealed outputs on real FFmpeg: durations are measured from the packets
// (an output written in one pass states a duration it may not have), and a playlist
// must list exactly the segments that were written.

import { execFile } from 'node:child_process';
import { request } from 'node:http';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { isKeepsakeError } from '../core/errors';
import { plainByteSource, serveLoopback } from '../ffmpeg/input-source';
import { locateFfmpeg } from '../ffmpeg/locate';
import { serveOutputSink } from '../ffmpeg/output-sink';
import { probeInput } from '../ffmpeg/probe';
import { makeClip } from '../testing/media';
import { TEST_SCRYPT, freshDir } from '../testing/tmp';
import { createVault } from '../vault/keyring';
import { sealedReader } from './sealed-reader';
import { verifyOutputs } from './verify';

const run = promisify(execFile);

async function setup() {
  const dir = await freshDir();
  const { vault } = await createVault(join(dir, 'vault'), 'pw', {
    scrypt: TEST_SCRYPT,
    recovery: false,
  });
  const tools = await locateFfmpeg();
  const clip = await makeClip(dir, 'clip.mp4', { seconds: 4 });
  // Probed as a job probes its input: through the loopback source.
  const source = await plainByteSource(clip);
  const served = await serveLoopback(source);
  const input = await probeInput(tools.ffprobePath, served);
  await served.close();
  await source.close();
  const sink = await serveOutputSink({ dir: join(dir, 'staging'), vault });
  return { dir, vault, tools, clip, input, sink };
}

async function rejection(promise: Promise<unknown>): Promise<unknown> {
  return promise.then(
    () => undefined,
    (err: unknown) => err,
  );
}

describe('verifyOutputs on sealed outputs', () => {
  it('measures durations from packets: a Matroska stating the full length but holding 1 s fails', async () => {
    const { vault, tools, clip, input, sink } = await setup();
    try {
      const write = (name: string, extra: string[]) =>
        run(tools.ffmpegPath, [
          // `extra` goes before the input: an output `-t` would set the stated duration too.
          ...['-v', 'error', ...extra, '-i', clip, '-map', '0', '-c', 'copy'],
          // What the presets do: state the input's duration up front.
          ...['-metadata', 'DURATION=4.000', '-f', 'matroska', `${sink.url}/${name}`],
        ]);
      await write('whole.mkv', []);
      await write('short.mkv', ['-t', '1']);
      const reader = sealedReader(await sink.settle(), vault);

      await verifyOutputs(tools, reader, ['whole.mkv'], input);
      const err = await rejection(verifyOutputs(tools, reader, ['short.mkv'], input));
      expect(isKeepsakeError(err, 'OUTPUT_CHECK_FAILED'), String(err)).toBe(true);
      expect(String(err)).toMatch(/short\.mkv: video stream 0 lasts 1\.\d+ s, the input 4\.\d+ s/);
      // The short one claims the full length: a check that trusted the header would pass it.
      await reader.withUrl('short.mkv', async ({ url, env }) => {
        const { stdout } = await run(
          tools.ffprobePath,
          ['-v', 'error', '-show_entries', 'format=duration', '-of', 'csv=p=0', url],
          { env },
        );
        expect(Number(stdout)).toBeCloseTo(4, 1);
      });
      const missing = await rejection(verifyOutputs(tools, reader, ['none.mkv'], input));
      expect(String(missing)).toMatch(/none\.mkv: was not produced/);
    } finally {
      await sink.close();
    }
  });

  it('a media playlist must list exactly the segments written beside it', async () => {
    const { vault, tools, clip, input, sink } = await setup();
    try {
      await run(tools.ffmpegPath, [
        ...['-v', 'error', '-i', clip, '-c', 'copy', '-f', 'hls', '-hls_time', '1'],
        ...['-hls_playlist_type', 'vod', '-hls_segment_filename', `${sink.url}/v0/s_%03d.ts`],
        `${sink.url}/v0/index.m3u8`,
      ]);
      let reader = sealedReader(await sink.settle(), vault);
      await verifyOutputs(tools, reader, ['v0/index.m3u8'], input, { thorough: true });

      // A stray segment the playlist does not list (as a rewritten playlist could leave).
      await new Promise<void>((resolve, reject) => {
        const { hostname, port, pathname } = new URL(`${sink.url}/v0/s_999.ts`);
        const req = request({ hostname, port, path: pathname, method: 'PUT' }, (res) => {
          res.resume();
          resolve();
        });
        req.on('error', reject);
        req.end(Buffer.alloc(188, 0x47));
      });
      reader = sealedReader(await sink.settle(), vault);
      const err = await rejection(verifyOutputs(tools, reader, ['v0/index.m3u8'], input));
      expect(isKeepsakeError(err, 'OUTPUT_CHECK_FAILED'), String(err)).toBe(true);
      expect(String(err)).toMatch(/segments, \d+ were written/);
    } finally {
      await sink.close();
    }
  });
});
