// A ClearKey-encrypted test stream made by real FFmpeg: a clear MP4 (testsrc + sine) and
// the same packets copied into a fragmented MP4 encrypted with CENC AES-CTR under a
// random key, so a decryption can be checked packet for packet against the clear one.
//
// One fragment (`-frag_duration` past the end): FFmpeg 5.1's mov muxer writes the
// sample encryption info (senc/saiz/saio) once, in the moov's sample table, so of a
// stream cut into several fragments its own demuxer decrypts only the first (see
// docs/stream-proxy.md, "ClearKey keys").
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { locateFfmpeg } from '../ffmpeg/locate';
import { makeClip } from './media';

const run = promisify(execFile);

export interface ClearKeyStream {
  clear: string;
  encrypted: string;
  kidHex: string;
  keyHex: string;
}

export async function makeClearKeyStream(dir: string, seconds = 4): Promise<ClearKeyStream> {
  const clear = await makeClip(dir, 'clear.mp4', {
    seconds,
    outputArgs: ['-g', '25'],
  });
  const kidHex = randomBytes(16).toString('hex');
  const keyHex = randomBytes(16).toString('hex');
  const encrypted = join(dir, 'cenc.mp4');
  const { ffmpegPath } = await locateFfmpeg();
  await run(ffmpegPath, [
    '-hide_banner',
    '-v',
    'error',
    '-i',
    clear,
    '-c',
    'copy',
    '-movflags',
    'delay_moov+dash',
    '-frag_duration',
    String((seconds + 10) * 1_000_000),
    '-encryption_scheme',
    'cenc-aes-ctr',
    '-encryption_key',
    keyHex,
    '-encryption_kid',
    kidHex,
    encrypted,
  ]);
  return { clear, encrypted, kidHex, keyHex };
}

/** FFmpeg's framemd5 of the decoded stream (`-decryption_key` when given), one line a frame. */
export async function decodedFrames(
  input: string,
  options: { decryptionKeyHex?: string; headers?: string } = {},
): Promise<string[]> {
  const { ffmpegPath } = await locateFfmpeg();
  const { stdout } = await run(
    ffmpegPath,
    [
      '-hide_banner',
      '-v',
      'error',
      ...(options.headers ? ['-headers', options.headers] : []),
      ...(options.decryptionKeyHex ? ['-decryption_key', options.decryptionKeyHex] : []),
      '-i',
      input,
      '-f',
      'framemd5',
      '-',
    ],
    { maxBuffer: 16 * 1024 * 1024 },
  );
  return stdout.split('\n').filter((line) => /^\d+,/.test(line));
}
