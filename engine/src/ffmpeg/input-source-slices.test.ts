// A loopback source served in slices (`sliceBytes`): FFmpeg, given the source's
// `readArgs`, reads it whole and seeks in it exactly as it reads an unsliced one, the
// server sends far fewer bytes for seeks, and a corrupt chunk still fails the read.
// Run with the system FFmpeg and with the npm-packaged 4.x one, as both can be in use.

import { execFile } from 'node:child_process';
import { readFile, writeFile } from 'node:fs/promises';
import { request } from 'node:http';
import { join } from 'node:path';
import { createReadStream } from 'node:fs';
import { promisify } from 'node:util';
import { createRequire } from 'node:module';
import { describe, expect, it } from 'vitest';
import { isKeepsakeError } from '../core/errors';
import { makeClip } from '../testing/media';
import { freshDir, TEST_SCRYPT } from '../testing/tmp';
import { createVault } from '../vault/keyring';
import { CHUNK_SIZE, PREFIX_SIZE, SEALED_CHUNK_SIZE } from '../vault/chunked';
import { VaultFile, writeVaultFile } from '../vault/vault-file';
import { locateFfmpeg } from './locate';
import { probeInput } from './probe';
import { serveLoopback, vaultByteSource, type ToolInput } from './input-source';

const run = promisify(execFile);
const SLICE = 16 * 1024;

/** A 6 s 640×360 clip (about 190 kB: three vault chunks, a dozen slices), sealed. */
async function sealedClip() {
  const dir = await freshDir();
  const plain = await makeClip(dir, 'clip.mp4', { seconds: 6, size: '640x360' });
  const { vault } = await createVault(join(dir, 'vault'), 'pw', {
    scrypt: TEST_SCRYPT,
    recovery: false,
  });
  const sealed = join(dir, 'clip.ksv');
  const size = (await readFile(plain)).length;
  await writeVaultFile(createReadStream(plain), sealed, vault, {
    name: 'clip.mp4',
    size,
    mtimeMs: 0,
    mediaType: 'video/mp4',
  });
  return { dir, plain, sealed, vault, size };
}

/** FFmpeg's frame digests of the input, from `-ss` on when given. */
async function framemd5(ffmpeg: string, input: ToolInput | string, at?: number) {
  const url = typeof input === 'string' ? input : input.url;
  const readArgs =
    typeof input === 'string' ? [] : ['-protocol_whitelist', 'http,tcp', ...(input.readArgs ?? [])];
  const { stdout } = await run(
    ffmpeg,
    [
      ...['-v', 'error', '-nostdin'],
      ...(at === undefined ? [] : ['-ss', String(at)]),
      ...readArgs,
      ...['-i', url, '-map', '0:v', '-f', 'framemd5', '-'],
    ],
    { env: typeof input === 'string' ? process.env : { ...process.env, ...input.env } },
  );
  return stdout
    .split('\n')
    .filter((line) => line && !line.startsWith('#'))
    .map((line) => line.split(',').at(-1)!.trim());
}

const npmFfmpeg = createRequire(import.meta.url)('@ffmpeg-installer/ffmpeg') as { path: string };

describe.each([
  ['the system FFmpeg', async () => (await locateFfmpeg()).ffmpegPath],
  ['the npm-packaged FFmpeg 4.x', () => Promise.resolve(npmFfmpeg.path)],
])('a sliced loopback source read by %s', (_, ffmpegPath) => {
  it('decodes the whole clip and a seek exactly as the file itself', async () => {
    const ffmpeg = await ffmpegPath();
    const { plain, sealed, vault } = await sealedClip();
    const ranges: (string | undefined)[] = [];
    const file = await VaultFile.open(sealed, { vault });
    const lb = await serveLoopback(vaultByteSource(file), {
      sliceBytes: SLICE,
      onRequest: (range) => ranges.push(range),
    });
    try {
      expect(lb.readArgs).toContain('-reconnect');
      const whole = await framemd5(ffmpeg, lb);
      expect(whole).toEqual(await framemd5(ffmpeg, plain));
      expect(whole.length).toBe(150);
      // It took many slices, each asked for where the last one ended.
      expect(ranges.length).toBeGreaterThan(5);
      expect(await framemd5(ffmpeg, lb, 4)).toEqual(await framemd5(ffmpeg, plain, 4));
      expect(lb.error).toBeUndefined();
    } finally {
      await lb.close();
      await file.close();
    }
  });
});

describe('serving in slices', () => {
  it('answers an open-ended range with one slice, and a closed range or none whole', async () => {
    const { sealed, vault, size } = await sealedClip();
    const file = await VaultFile.open(sealed, { vault });
    const lb = await serveLoopback(vaultByteSource(file), { sliceBytes: SLICE });
    try {
      const open = await head(lb, 'bytes=1000-');
      expect(open.status).toBe(206);
      expect(open.headers['content-range']).toBe(`bytes 1000-${1000 + SLICE - 1}/${size}`);
      expect(open.body).toBe(SLICE);
      const closed = await head(lb, `bytes=0-${3 * SLICE}`);
      expect(closed.body).toBe(3 * SLICE + 1);
      const none = await head(lb, undefined);
      expect(none.status).toBe(200);
      expect(none.body).toBe(size);
      // The last slice ends at the end of the file.
      const tail = await head(lb, `bytes=${size - 10}-`);
      expect(tail.headers['content-range']).toBe(`bytes ${size - 10}-${size - 1}/${size}`);
    } finally {
      await lb.close();
      await file.close();
    }
  });

  it('sends far less than unsliced for the pictures FFprobe and ten seeks need', async () => {
    const { sealed, vault } = await sealedClip();
    const { ffmpegPath, ffprobePath } = await locateFfmpeg();
    const served: number[] = [];
    for (const sliceBytes of [undefined, SLICE]) {
      const file = await VaultFile.open(sealed, { vault });
      const lb = await serveLoopback(vaultByteSource(file), { sliceBytes });
      try {
        await probeInput(ffprobePath, lb, { file: 'clip.mp4' });
        const inputs = [0.3, 0.9, 1.5, 2.1, 2.7, 3.3, 3.9, 4.5, 5.1, 5.7].flatMap((at) => [
          ...['-ss', String(at), '-protocol_whitelist', 'http,tcp', ...(lb.readArgs ?? [])],
          ...['-i', lb.url],
        ]);
        const maps = inputs
          .filter((a) => a === '-i')
          .flatMap((__, i) => ['-map', `${i}:v`, '-frames:v', '1', '-f', 'null', '-']);
        await run(ffmpegPath, ['-v', 'error', '-nostdin', ...inputs, ...maps], {
          env: { ...process.env, ...lb.env },
        });
        expect(lb.error).toBeUndefined();
        served.push(lb.bytesServed);
      } finally {
        await lb.close();
        await file.close();
      }
    }
    const [unsliced, sliced] = served as [number, number];
    expect(sliced).toBeLessThan(unsliced / 2);
  });

  it('still fails a read of a corrupt chunk, promptly, and remembers PAYLOAD_CORRUPT', async () => {
    const { sealed, vault } = await sealedClip();
    const stored = await readFile(sealed);
    const payloadAt = 9 + stored.readUInt32BE(5);
    const at = payloadAt + PREFIX_SIZE + SEALED_CHUNK_SIZE + 100;
    expect(at).toBeLessThan(stored.length - SEALED_CHUNK_SIZE);
    stored[at]! ^= 0x01;
    await writeFile(sealed, stored);
    const { ffmpegPath } = await locateFfmpeg();
    const file = await VaultFile.open(sealed, { vault });
    const ranges: (string | undefined)[] = [];
    const lb = await serveLoopback(vaultByteSource(file), {
      sliceBytes: SLICE,
      onRequest: (range) => ranges.push(range),
    });
    try {
      const started = Date.now();
      // Without -xerror FFmpeg may exit 0 with frames missing; the source's error is
      // what a job reports (see LoopbackSource.error).
      await framemd5(ffmpegPath, lb).catch(() => []);
      expect(isKeepsakeError(lb.error, 'PAYLOAD_CORRUPT')).toBe(true);
      expect(Date.now() - started).toBeLessThan(15_000);
      // One retry at the damage per read, not a loop: a handful of requests at most
      // start inside the damaged chunk (the second).
      const atDamage = ranges.filter((r) => {
        const start = Number(/bytes=(\d+)-/.exec(r ?? '')?.[1] ?? -1);
        return start >= CHUNK_SIZE && start < 2 * CHUNK_SIZE;
      });
      expect(atDamage.length).toBeLessThan(10);
    } finally {
      await lb.close();
      await file.close();
    }
  });
});

/** The status, headers and body length of one GET through the source's proxy. */
function head(lb: ToolInput, range: string | undefined) {
  const proxy = new URL(lb.env.http_proxy!);
  const auth = `${decodeURIComponent(proxy.username)}:${decodeURIComponent(proxy.password)}`;
  return new Promise<{ status: number; headers: Record<string, unknown>; body: number }>(
    (resolve, reject) => {
      const req = request(
        {
          host: proxy.hostname,
          port: proxy.port,
          path: lb.url,
          headers: {
            'Proxy-Authorization': `Basic ${Buffer.from(auth).toString('base64')}`,
            ...(range ? { Range: range } : {}),
          },
          agent: false,
        },
        (res) => {
          let body = 0;
          res.on('data', (part: Buffer) => (body += part.length));
          res.on('error', reject);
          res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }));
        },
      );
      req.on('error', reject);
      req.end();
    },
  );
}
