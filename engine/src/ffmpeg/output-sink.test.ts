// The output sink on real FFmpeg and real sockets: what arrives is sealed into vault files,
// nothing plaintext ever lands in the folder (held in memory or spooled encrypted), a
// rewritten file replaces the earlier one, and a cut upload leaves nothing.

import { execFile, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { readdir } from 'node:fs/promises';
import { request } from 'node:http';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { filesContaining } from '../testing/marker';
import { makeClip } from '../testing/media';
import { TEST_SCRYPT, freshDir } from '../testing/tmp';
import { createVault, type Vault } from '../vault/keyring';
import { decryptFile } from '../vault/file-ops';
import { VaultFile } from '../vault/vault-file';
import { locateFfmpeg } from './locate';
import { SPOOL_DIR, serveOutputSink, validOutputName } from './output-sink';

const run = promisify(execFile);

async function setup() {
  const dir = await freshDir();
  const { vault } = await createVault(join(dir, 'vault'), 'pw', {
    scrypt: TEST_SCRYPT,
    recovery: false,
  });
  const staging = join(dir, 'staging');
  return { dir, vault, staging };
}

async function plaintextOf(path: string, vault: Vault): Promise<Buffer> {
  const file = await VaultFile.open(path, { vault });
  try {
    return await file.read(0, file.size);
  } finally {
    await file.close();
  }
}

/** Sends `parts` as one chunked PUT; `cut` drops the connection after the parts instead of ending. */
function put(
  url: string,
  parts: Buffer[],
  options: {
    method?: string;
    host?: string;
    cut?: boolean;
    rawPath?: boolean;
    retried?: boolean;
  } = {},
): Promise<number | 'cut'> {
  return new Promise((resolve, reject) => {
    const { hostname, port } = new URL(url);
    // `rawPath` sends the path as written, where a URL would resolve its dot segments.
    const path = options.rawPath ? url.slice(url.indexOf('/', 'http://'.length)) : undefined;
    const req = request({
      hostname,
      port,
      path: path ?? new URL(url).pathname,
      method: options.method ?? 'PUT',
      headers: options.host ? { Host: options.host } : {},
    });
    req.on('response', (res) => {
      res.resume();
      resolve(res.statusCode ?? 0);
    });
    req.on('error', (err: NodeJS.ErrnoException) => {
      if (options.cut) return resolve('cut');
      // A refusal is answered before the body is read, and the server may close the
      // socket while this side still writes: the answer is then lost to a reset ("socket
      // hang up", seen once on a loaded CI run). Asked once more, the status is checked.
      if (!options.retried && err.code === 'ECONNRESET') {
        return resolve(put(url, parts, { ...options, retried: true }));
      }
      reject(err);
    });
    void (async () => {
      for (const part of parts) {
        req.write(part);
        await new Promise((r) => setTimeout(r, 5));
      }
      if (options.cut) {
        await new Promise((r) => setTimeout(r, 50));
        req.destroy();
        resolve('cut');
      } else req.end();
    })();
  });
}

describe('output sink', () => {
  it('seals what FFmpeg writes (a fragmented MP4 and an HLS ladder) with no plaintext in the folder', async () => {
    const { dir, vault, staging } = await setup();
    const marker = `KSSINK${randomBytes(8).toString('hex')}`;
    const clip = await makeClip(dir, 'clip.mp4', { seconds: 4, comment: marker });
    const { ffmpegPath } = await locateFfmpeg();
    // A small memory limit: the MP4 is spooled, the segments and playlists are held.
    const sink = await serveOutputSink({ dir: staging, vault, memoryLimit: 64 * 1024 });
    try {
      await run(ffmpegPath, [
        ...['-v', 'error', '-i', clip, '-map', '0', '-map_metadata', '0', '-c', 'copy'],
        ...['-movflags', '+frag_keyframe+empty_moov+default_base_moof+use_metadata_tags'],
        ...['-f', 'mp4', `${sink.url}/web.mp4`],
      ]);
      await run(ffmpegPath, [
        ...['-v', 'error', '-i', clip, '-c', 'copy', '-f', 'hls', '-hls_time', '1'],
        ...['-hls_playlist_type', 'vod', '-hls_segment_filename', `${sink.url}/v0/seg_%03d.ts`],
        `${sink.url}/v0/index.m3u8`,
      ]);
      const sealed = await sink.settle();
      expect(sink.error).toBeUndefined();
      const names = [...sealed.keys()].sort();
      expect(names).toContain('web.mp4');
      expect(names).toContain('v0/index.m3u8');
      expect(names.filter((n) => n.endsWith('.ts')).length).toBeGreaterThanOrEqual(1);

      // Only vault files in the folder, no spool left, and the marker nowhere on disk…
      const files = (await readdir(staging, { recursive: true, withFileTypes: true }))
        .filter((e) => e.isFile())
        .map((e) => e.name);
      expect(files.every((n) => n.endsWith('.ksv'))).toBe(true);
      expect(await readdir(join(staging, SPOOL_DIR)).catch(() => [])).toEqual([]);
      expect(await filesContaining(staging, Buffer.from(marker))).toEqual([]);
      // …though the output really carries it, and decodes.
      const mp4 = sealed.get('web.mp4')!;
      const plain = await plaintextOf(mp4.path, vault);
      expect(plain.length).toBe(mp4.size);
      expect(plain.includes(Buffer.from(marker))).toBe(true);
      const out = join(dir, 'web.mp4');
      await decryptFile(mp4.path, out, { vault });
      await run(ffmpegPath, ['-v', 'error', '-xerror', '-i', out, '-f', 'null', '-']);
      const playlist = (await plaintextOf(sealed.get('v0/index.m3u8')!.path, vault)).toString();
      expect(playlist).toContain('#EXT-X-ENDLIST');
    } finally {
      await sink.close();
    }
  });

  it('FFmpeg waits for the sink before sending an output, so a busy engine still gets a small one', async () => {
    // The sink drops connections whose client is gone when it accepts them (on Linux the
    // owner of a closed socket is unknown, so it may be another user's). FFmpeg sends
    // `Expect: 100-continue` because the sink's URL has credentials, and waits: so an
    // event loop blocked while FFmpeg writes must still receive every output, from both
    // FFmpeg builds (the npm 4.x one and Debian's 5.1).
    const builds = new Set([(await locateFfmpeg()).ffmpegPath]);
    const npm = join(process.cwd(), 'node_modules/@ffmpeg-installer/linux-x64/ffmpeg');
    if (process.platform === 'linux' && existsSync(npm)) builds.add(npm);
    for (const ffmpeg of builds) {
      const { vault, staging } = await setup();
      const sink = await serveOutputSink({ dir: staging, vault });
      try {
        const child = spawn(
          ffmpeg,
          ['-v', 'error', '-f', 'lavfi', '-i', 'testsrc=size=64x48', '-frames:v', '1'].concat([
            '-f',
            'image2',
            `${sink.url}/still.jpg`,
          ]),
          { stdio: 'ignore' },
        );
        const exited = new Promise((resolve) => child.on('close', resolve));
        // Busy long enough for FFmpeg to start, encode, connect and (if it did not wait)
        // send and close, all before this process accepts the connection.
        const until = Date.now() + 1500;
        while (Date.now() < until) {
          // blocking on purpose
        }
        expect(await exited).toBe(0);
        expect([...(await sink.settle()).keys()], ffmpeg).toEqual(['still.jpg']);
      } finally {
        await sink.close();
      }
    }
  });

  it('a file written again replaces the earlier one; sizes above the memory limit are spooled encrypted', async () => {
    const { vault, staging } = await setup();
    const sink = await serveOutputSink({ dir: staging, vault, memoryLimit: 1024 });
    try {
      const marker = Buffer.from(`KSBIG${randomBytes(8).toString('hex')}`);
      const big = Buffer.concat([randomBytes(50_000), marker, randomBytes(50_000)]);
      expect(await put(`${sink.url}/a.mkv`, [Buffer.from('first version')])).toBe(201);
      // Spooled: watch the folder while the body trickles in.
      const seen: string[][] = [];
      const parts = Array.from({ length: 20 }, (_, i) => big.subarray(i * 5041, (i + 1) * 5041));
      const sending = put(`${sink.url}/a.mkv`, parts);
      for (let i = 0; i < 5; i++) {
        await new Promise((r) => setTimeout(r, 15));
        seen.push(await filesContaining(staging, marker));
      }
      expect(await sending).toBe(201);
      const sealed = await sink.settle();
      expect(seen.flat()).toEqual([]);
      expect((await plaintextOf(sealed.get('a.mkv')!.path, vault)).equals(big)).toBe(true);
      expect(await readdir(staging)).toEqual(expect.arrayContaining(['a.mkv.ksv']));
      expect(await readdir(join(staging, SPOOL_DIR))).toEqual([]);
    } finally {
      await sink.close();
    }
  });

  it('uploads of one name are sealed in the order they began: the later one wins', async () => {
    const { vault, staging } = await setup();
    const sink = await serveOutputSink({ dir: staging, vault, memoryLimit: 1024 });
    try {
      // The first, larger upload trickles in; the second starts later and ends first.
      const first = Array.from({ length: 20 }, () => randomBytes(2000));
      const sendingFirst = put(`${sink.url}/index.m3u8`, first);
      await new Promise((r) => setTimeout(r, 20));
      expect(await put(`${sink.url}/index.m3u8`, [Buffer.from('#EXTM3U second')])).toBe(201);
      expect(await sendingFirst).toBe(201);
      const sealed = await sink.settle();
      const text = (await plaintextOf(sealed.get('index.m3u8')!.path, vault)).toString();
      expect(text).toBe('#EXTM3U second');
      expect(sealed.get('index.m3u8')!.size).toBe(text.length);
    } finally {
      await sink.close();
    }
  });

  it('an upload cut short leaves nothing: no file under its name, no spool, no plaintext', async () => {
    const { vault, staging } = await setup();
    const sink = await serveOutputSink({ dir: staging, vault, memoryLimit: 1024 });
    try {
      const marker = Buffer.from(`KSCUT${randomBytes(8).toString('hex')}`);
      const parts = [randomBytes(3000), marker, randomBytes(3000)];
      expect(await put(`${sink.url}/cut.mkv`, parts, { cut: true })).toBe('cut');
      const sealed = await sink.settle();
      expect(sealed.has('cut.mkv')).toBe(false);
      expect(sink.error).toBeUndefined();
      const left = await readdir(staging, { recursive: true, withFileTypes: true });
      expect(left.filter((e) => e.isFile())).toEqual([]);
      expect(await filesContaining(staging, marker)).toEqual([]);
    } finally {
      await sink.close();
    }
  });

  it('answers only its own host, secret path, methods and plain names', async () => {
    const { vault, staging } = await setup();
    const sink = await serveOutputSink({ dir: staging, vault });
    try {
      const body = [Buffer.from('x')];
      const { host, origin } = new URL(sink.url);
      expect(await put(`${sink.url}/ok.jpg`, body, { method: 'POST' })).toBe(201);
      expect(
        await put(`${sink.url}/ok.jpg`, body, { host: `localhost:${new URL(origin).port}` }),
      ).toBe(403);
      expect(await put(`${origin}/0123456789abcdef0123456789abcdef/x.jpg`, body, { host })).toBe(
        404,
      );
      expect(await put(`${sink.url}/ok.jpg`, body, { method: 'GET' })).toBe(405);
      expect(await put(`${sink.url}/a/%2e%2e/b.jpg`, body, { rawPath: true })).toBe(400);
      expect(await put(`${sink.url}/.hidden`, body)).toBe(400);
      expect([...(await sink.settle()).keys()]).toEqual(['ok.jpg']);
    } finally {
      await sink.close();
    }
  });

  it('accepts output names as presets write them, refuses anything that climbs or hides', () => {
    for (const ok of ['web.mp4', 'v0/index.m3u8', 'v1/segment_00012.ts', 'contact-sheet.jpg']) {
      expect(validOutputName(ok), ok).toBe(true);
    }
    for (const bad of [
      '',
      '../x',
      'a/../b',
      'a/./b',
      '.ks-tmp-1',
      '/abs',
      'a//b',
      'a\\b',
      'x.',
      'a b',
    ]) {
      expect(validOutputName(bad), bad).toBe(false);
    }
  });
});
