// A ClearKey-encrypted stream played in Chromium through the engine's stream proxy, its
// key coming from /keys/clearkey: FFmpeg encrypts a generated clip (CENC AES-CTR), a
// loopback origin serves it, the test loads the key as the admin would, and a page at the
// engine's origin plays it with MSE + EME (`org.w3.clearkey`), then seeks.
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { inflateSync } from 'node:zlib';
import { expect, test, type Page } from '@playwright/test';
import { moveSencIntoFragment } from './cenc-fragment';
import { startEngine, type RunningEngine } from './engine';

const SECONDS = 8;
const kidHex = randomBytes(16).toString('hex');
const keyHex = randomBytes(16).toString('hex');
/** One pixel of the video (at x, y of its 320×240 picture) from a screenshot, as RGB. */
async function pixelAt(page: Page, x: number, y: number): Promise<number[]> {
  const box = (await page.locator('#v').boundingBox())!;
  const png = await page.screenshot({ clip: { x: box.x + x, y: box.y + y, width: 1, height: 1 } });
  // A 1×1 PNG: its one row is a filter byte and the pixel, which no filter changes
  // (every filter adds a neighbour, and a lone pixel has none).
  const idat: Buffer[] = [];
  for (let at = 8; at < png.length;) {
    const length = png.readUInt32BE(at);
    if (png.toString('latin1', at + 4, at + 8) === 'IDAT') {
      idat.push(png.subarray(at + 8, at + 8 + length));
    }
    at += 12 + length;
  }
  return [...inflateSync(Buffer.concat(idat)).subarray(1, 4)];
}

const b64u = (hex: string) => Buffer.from(hex, 'hex').toString('base64url');

let media: Buffer;
let origin: Server;
let originUrl: string;
let engine: RunningEngine;
let workDir: string;

test.beforeAll(async () => {
  workDir = await mkdtemp(join(tmpdir(), 'keepsake-clearkey-'));
  const clear = join(workDir, 'clear.mp4');
  const cenc = join(workDir, 'cenc.mp4');
  const ffmpeg = (args: string[]) =>
    execFileSync(process.env.FFMPEG_PATH ?? 'ffmpeg', ['-hide_banner', '-v', 'error', ...args]);
  ffmpeg([
    ...['-f', 'lavfi', '-i', `testsrc=size=320x240:rate=25:duration=${SECONDS}`],
    ...['-f', 'lavfi', '-i', `sine=frequency=440:sample_rate=48000:duration=${SECONDS}`],
    ...['-pix_fmt', 'yuv420p', '-c:v', 'libx264', '-preset', 'ultrafast', '-g', '25'],
    ...['-c:a', 'aac', clear],
  ]);
  // One fragment, the whole clip (see cenc-fragment.ts for why one).
  ffmpeg([
    ...['-i', clear, '-c', 'copy', '-movflags', 'delay_moov+dash'],
    ...['-frag_duration', String((SECONDS + 10) * 1_000_000)],
    ...['-encryption_scheme', 'cenc-aes-ctr', '-encryption_key', keyHex],
    ...['-encryption_kid', kidHex, cenc],
  ]);
  media = moveSencIntoFragment(await readFile(cenc));

  origin = createServer((req, res) => {
    if (req.url !== '/media/cenc.mp4') return void res.writeHead(404).end();
    res.writeHead(200, { 'content-type': 'video/mp4', 'content-length': media.length });
    res.end(media);
  });
  await new Promise<void>((resolve) => origin.listen(0, '127.0.0.1', resolve));
  originUrl = `http://127.0.0.1:${(origin.address() as AddressInfo).port}`;

  // The engine may fetch only that origin's /media/ (a loopback address, so named).
  const dataDir = join(workDir, 'data');
  await mkdir(dataDir);
  await writeFile(
    join(dataDir, 'config.json'),
    JSON.stringify({
      proxyAllow: [
        {
          host: '127.0.0.1',
          schemes: ['http'],
          paths: ['/media/**'],
          allowPrivate: ['127.0.0.0/8'],
        },
      ],
    }),
  );
  engine = await startEngine({ dataDir });
  const loaded = await fetch(`${engine.origin}/keys`, {
    method: 'POST',
    headers: { authorization: `Bearer ${engine.token}`, 'content-type': 'application/json' },
    body: JSON.stringify({ kid: kidHex, key: keyHex, ttlSeconds: 300 }),
  });
  expect(loaded.status).toBe(201);
});

test.afterAll(async () => {
  await engine?.stop();
  await new Promise((resolve) => origin?.close(resolve));
  await rm(workDir, { recursive: true, force: true });
});

test('plays a ClearKey stream through the proxy with the key from /keys/clearkey, and seeks', async ({
  page,
}) => {
  // A bare page at the engine's own origin (so the proxy and key routes are same-origin).
  await page.route(`${engine.origin}/e2e-clearkey.html`, (route) =>
    route.fulfill({
      contentType: 'text/html',
      body: '<!doctype html><title>clearkey</title><video id="v" muted width="320"></video>',
    }),
  );
  await page.goto(`${engine.origin}/e2e-clearkey.html`);
  const licenses: number[] = [];
  page.on('response', (res) => {
    if (res.url().endsWith('/keys/clearkey')) licenses.push(res.status());
  });

  const src = `/proxy/stream?d=${encodeURIComponent(`${originUrl}/media/cenc.mp4`)}`;
  const setup = await page.evaluate(
    async ({ token, kid, src }) => {
      const auth = { authorization: `Bearer ${token}` };
      const v = document.getElementById('v') as HTMLVideoElement;
      const w = window as unknown as { log: string[] };
      w.log = [];
      const access = await navigator.requestMediaKeySystemAccess('org.w3.clearkey', [
        {
          initDataTypes: ['keyids', 'cenc'],
          videoCapabilities: [{ contentType: 'video/mp4; codecs="avc1.42c01e"' }],
          audioCapabilities: [{ contentType: 'audio/mp4; codecs="mp4a.40.2"' }],
        },
      ]);
      const keys = await access.createMediaKeys();
      await v.setMediaKeys(keys);
      const session = keys.createSession('temporary');
      const licensed = new Promise<void>((resolve, reject) => {
        session.addEventListener('message', (event) => {
          // The CDM's own license request, sent as it is to the engine (an ArrayBuffer:
          // no Content-Type, as players send it).
          fetch('/keys/clearkey', {
            method: 'POST',
            headers: auth,
            body: event.message,
          })
            .then(async (res) => {
              if (!res.ok) throw new Error(`license: ${res.status}`);
              await session.update(await res.arrayBuffer());
              resolve();
            })
            .catch(reject);
        });
      });
      await session.generateRequest(
        'keyids',
        new TextEncoder().encode(JSON.stringify({ kids: [kid] })),
      );
      await licensed;
      const statuses: string[] = [];
      session.keyStatuses.forEach((status) => statuses.push(status));

      v.addEventListener('error', () => w.log.push(`error ${v.error?.message}`));
      const ms = new MediaSource();
      v.src = URL.createObjectURL(ms);
      await new Promise((r) => ms.addEventListener('sourceopen', r, { once: true }));
      const sb = ms.addSourceBuffer('video/mp4; codecs="avc1.42c01e, mp4a.40.2"');
      const res = await fetch(src, { headers: auth });
      if (!res.ok) throw new Error(`stream: ${res.status}`);
      sb.appendBuffer(await res.arrayBuffer());
      await new Promise((r) => sb.addEventListener('updateend', r, { once: true }));
      ms.endOfStream();
      await v.play();
      return { statuses, duration: v.duration };
    },
    { token: engine.token, kid: b64u(kidHex), src },
  );
  expect(setup.statuses).toEqual(['usable']);
  expect(setup.duration).toBeGreaterThan(SECONDS - 0.5);
  expect(licenses).toEqual([200]);

  const state = () =>
    page.evaluate(() => {
      const v = document.getElementById('v') as HTMLVideoElement;
      return {
        time: v.currentTime,
        frames: v.getVideoPlaybackQuality().totalVideoFrames,
        error: v.error?.message ?? null,
        log: (window as unknown as { log: string[] }).log,
      };
    });
  // Plays: time moves and frames are decoded (a frame that failed to decrypt is an error).
  await expect.poll(async () => (await state()).time, { timeout: 10_000 }).toBeGreaterThan(1);
  const playing = await state();
  expect(playing.error).toBeNull();
  expect(playing.frames).toBeGreaterThan(10);

  // Seek ahead: playback resumes from there and goes on.
  await page.evaluate(() => {
    (document.getElementById('v') as HTMLVideoElement).currentTime = 5;
  });
  await expect.poll(async () => (await state()).time, { timeout: 10_000 }).toBeGreaterThan(5.5);
  const after = await state();
  expect(after.error).toBeNull();
  expect(after.log).toEqual([]);
  // The picture is the real one: testsrc's yellow bar at x 160–200 (a wrong decryption
  // shows no bars). Read from the screen: a page may not read an EME video's pixels.
  const [r, g, b] = await pixelAt(page, 180, 20);
  expect(r).toBeGreaterThan(180);
  expect(g).toBeGreaterThan(180);
  expect(b).toBeLessThan(90);
  await page.screenshot({ path: '/tmp/shots-h20key/clearkey-playing.png' });
});

test('an unknown kid gets a bare 404 from /keys/clearkey, and no token gets 401', async () => {
  const ask = (token: string, kid: string) =>
    fetch(`${engine.origin}/keys/clearkey`, {
      method: 'POST',
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
      body: JSON.stringify({ kids: [kid], type: 'temporary' }),
    });
  const unknown = await ask(engine.token, b64u('00'.repeat(16)));
  expect(unknown.status).toBe(404);
  const body = await unknown.text();
  expect(body).not.toContain(b64u(kidHex));
  expect((await ask('wrong', b64u(kidHex))).status).toBe(401);
});
