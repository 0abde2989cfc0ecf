// DASH to HLS (issue 20): `keepsake proxy` with a `dash: { toHls: true }` route in front of
// a loopback origin serving what FFmpeg's dash muxer made. hls.js in Chromium plays the
// MPD's URL as HLS through the proxy, and seeks: the picture lands where asked and frames
// keep coming. The page and hls.js come through the same route, so nothing here needs CORS.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { expect, test, type Page } from '@playwright/test';
import { startOrigin, type FixtureOrigin } from '../engine/src/proxy/fixture-origin';
import { DASH_SECONDS, makeDashMedia, serveFolder } from '../engine/src/testing/dash-media';

const root = fileURLToPath(new URL('..', import.meta.url));
const cli = join(root, 'engine/bin/keepsake.mjs');
const HLS_JS = join(root, 'node_modules/hls.js/dist/hls.min.js');

const PAGE = `<!doctype html>
<meta charset="utf-8">
<video id="video" muted playsinline width="320" height="240"></video>
<script src="/hls.min.js"></script>
<script>
  const video = document.getElementById('video');
  window.fatal = undefined;
  const hls = new Hls();
  hls.on(Hls.Events.ERROR, (_e, data) => { if (data.fatal) window.fatal = data.details; });
  hls.loadSource(new URLSearchParams(location.search).get('src'));
  hls.attachMedia(video);
</script>`;

let dir: string;
let origin: FixtureOrigin;
let proxy: ChildProcess;
let proxyUrl: string;

test.beforeAll(async () => {
  test.setTimeout(120_000);
  dir = await mkdtemp(join(tmpdir(), 'keepsake-e2e-dash-'));
  await mkdir(join(dir, 'media'));
  await makeDashMedia(join(dir, 'media'));
  const media = serveFolder(join(dir, 'media'));
  const hlsJs = await readFile(HLS_JS);
  const handler = (req: IncomingMessage, res: ServerResponse) => {
    const path = (req.url ?? '/').split('?')[0];
    if (path === '/hls.min.js') {
      return void res.writeHead(200, { 'content-type': 'text/javascript' }).end(hlsJs);
    }
    if (path === '/player.html') {
      return void res.writeHead(200, { 'content-type': 'text/html' }).end(PAGE);
    }
    media(req, res);
  };
  origin = await startOrigin(handler);
  const routes = join(dir, 'routes.yaml');
  await writeFile(
    routes,
    [
      'routes:',
      '  - name: dash',
      '    hosts: ["127.0.0.1"]',
      `    upstream: ${origin.origin}`,
      '    dash: { toHls: true }',
      '    allow: { privateCidrs: ["127.0.0.0/8"] }',
      '',
    ].join('\n'),
  );
  proxy = spawn(process.execPath, [cli, 'proxy', '--routes', routes, '--port', '0'], {
    cwd: root,
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  proxyUrl = await new Promise<string>((resolve, reject) => {
    let stderr = '';
    const timer = setTimeout(() => reject(new Error(`proxy not ready: ${stderr}`)), 30_000);
    proxy.stderr!.on('data', (chunk: Buffer) => {
      stderr += chunk.toString();
      const m = /Keepsake stream proxy at (http:\/\/127\.0\.0\.1:\d+)/.exec(stderr);
      if (m) {
        clearTimeout(timer);
        resolve(m[1]!);
      }
    });
    proxy.once('exit', (code) => reject(new Error(`proxy exited (${code}): ${stderr}`)));
  });
});

test.afterAll(async () => {
  proxy?.kill('SIGTERM');
  await origin?.close();
  if (dir) await rm(dir, { recursive: true, force: true });
});

/** Frames Chromium has shown so far, and where the video is. */
function state(page: Page) {
  return page.evaluate(() => {
    const video = document.querySelector('video')!;
    return {
      time: video.currentTime,
      duration: video.duration,
      frames: video.getVideoPlaybackQuality().totalVideoFrames,
      width: video.videoWidth,
      fatal: (window as unknown as { fatal?: string }).fatal,
    };
  });
}

for (const layout of ['number', 'base'] as const) {
  test(`hls.js plays the ${layout} MPD through the proxy as HLS and seeks`, async ({ page }) => {
    const asked: string[] = [];
    page.on('request', (r) => asked.push(new URL(r.url()).pathname));
    await page.goto(`${proxyUrl}/player.html?src=/${layout}/manifest.mpd`);
    await expect.poll(async () => (await state(page)).duration).toBeCloseTo(DASH_SECONDS, 0);
    await page.evaluate(() => document.querySelector('video')!.play());
    await expect.poll(async () => (await state(page)).time).toBeGreaterThan(0.5);
    const before = await state(page);
    expect(before.fatal).toBeUndefined();
    expect(before.width).toBeGreaterThan(0);

    await page.evaluate(() => {
      const video = document.querySelector('video')!;
      video.currentTime = 4.2;
    });
    await expect
      .poll(async () => page.evaluate(() => document.querySelector('video')!.seeking))
      .toBe(false);
    const landed = await state(page);
    expect(landed.time).toBeGreaterThanOrEqual(4.1);
    expect(landed.time).toBeLessThan(5.2);
    // Frames keep coming after the seek, and the clock moves on toward the end.
    await expect.poll(async () => (await state(page)).frames).toBeGreaterThan(landed.frames);
    await expect.poll(async () => (await state(page)).time).toBeGreaterThan(landed.time + 0.3);
    expect((await state(page)).fatal).toBeUndefined();
    await page.screenshot({ path: `/tmp/shots-h20dash/dash-${layout}-after-seek.png` });

    // Everything came through the proxy's own URLs: the MPD, its media playlists, segments.
    expect(asked).toContain(`/${layout}/manifest.mpd`);
    expect(asked.some((p) => p.startsWith('/.ks-dash/v'))).toBe(true);
    expect(asked.some((p) => p.startsWith('/.ks-dash/a0/'))).toBe(true);
  });
}
