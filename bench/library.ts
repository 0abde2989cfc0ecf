// npm run bench:library — the library's pictures against the tools that make them alone,
// on the same files, in one run.
//
// Photos: BENCH_PHOTOS 12-megapixel JPEGs (4000 × 3000, textured so they compress like
// camera photos, one in four turned by EXIF orientation), protected into a fresh library
// (untimed). Then, on a warm cache:
//
//   engine:     its PreviewMaker in a process of its own (bundled by esbuild as the engine
//               ships): decrypts each vault copy in memory, makes the 320 px thumbnail and
//               the 1600 px preview, seals both into the vault and records them;
//   reference:  libvips's own `vipsthumbnail` (Debian libvips-tools) making the same two
//               pictures of the plaintext files (`-s 1600`, then `-s 320`), as many
//               processes at once as the engine makes pictures at once (BENCH_JOBS);
//   for scale:  `vipsthumbnail -s 320` alone (thumbnails only, no preview).
//
// Target: engine rate >= 0.7 × reference rate, engine peak RSS < 400 MB.
//
// Videos: BENCH_VIDEOS clips of BENCH_VIDEO_SECONDS at BENCH_VIDEO_SIZE (H.264, a keyframe
// every 2 s, opening on black like a camcorder), protected likewise. Then:
//
//   engine:     the PreviewMaker: one FFmpeg run per clip over the loopback source, the
//               poster chosen by its luma, poster and sprite encoded by sharp and sealed
//               into the vault. As in the app, each clip's facts (its length, its picture
//               stream) were read before, untimed, by the InfoReader, which the library
//               runs anyway for dates: the pictures need no probe of their own;
//   reference:  plain `ffprobe` (for the length) and one plain `ffmpeg` per clip on the
//               plaintext file, taking the same ten frames with the same filters and
//               writing the poster and the ten-frame sprite as JPEG files, BENCH_JOBS at once.
//
// Target: engine rate >= 0.8 × reference rate.
//
// Generated media are cached in bench/out/library (BENCH_DIR): the first run makes them,
// later runs reuse them. Distinct pictures and clips are made up to BENCH_VARIANTS each
// and copied to reach the counts (each copy a file of its own).
//
//   BENCH_PHOTOS         photos (default 1000)
//   BENCH_VIDEOS         clips (default 100)
//   BENCH_VIDEO_SECONDS  length of a clip (default 60)
//   BENCH_VIDEO_SIZE     picture size of a clip (default 1280x720)
//   BENCH_JOBS           pictures made at once, engine and reference (default 2)
//   BENCH_VARIANTS       distinct photos and clips generated (default 20 and 4)
//   BENCH_ONLY           'photos' or 'videos' to run one half

import { copyFile, mkdir, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { bundleRunner } from './bundle-runner';
import sharp from 'sharp';
import { locateFfmpeg } from '../engine/src/ffmpeg/locate';
import { databasePath, openDatabase } from '../engine/src/jobs/db';
import { InfoReader } from '../engine/src/library/info-reader';
import { Library } from '../engine/src/library/library';
import { createVault } from '../engine/src/vault/keyring';
import { measure } from './measure';

const root = fileURLToPath(new URL('..', import.meta.url));
const PHOTOS = Number(process.env.BENCH_PHOTOS ?? 1000);
const VIDEOS = Number(process.env.BENCH_VIDEOS ?? 100);
const VIDEO_SECONDS = Number(process.env.BENCH_VIDEO_SECONDS ?? 60);
const VIDEO_SIZE = process.env.BENCH_VIDEO_SIZE ?? '1280x720';
const JOBS = Number(process.env.BENCH_JOBS ?? 2);
const ONLY = process.env.BENCH_ONLY;
const dir = resolve(process.env.BENCH_DIR ?? join(root, 'bench/out/library'));
const PASSWORD = 'benchmark password';
const PHOTO_TARGET = 0.7;
const VIDEO_TARGET = 0.8;
const RSS_TARGET_MB = 400;
/** What the engine makes (preview-photo.ts, preview-video.ts), for the reference to match. */
const THUMB = 320;
const PREVIEW = 1600;
const POSTER = 1280;
const SPRITE_FRAMES = 10;
const SPRITE_WIDTH = 160;

/** Runs `tasks` with at most `limit` at once; resolves with the wall seconds of it all. */
async function pool(tasks: (() => Promise<unknown>)[], limit: number): Promise<number> {
  const started = process.hrtime.bigint();
  let next = 0;
  const worker = async () => {
    while (next < tasks.length) await tasks[next++]!();
  };
  await Promise.all(Array.from({ length: Math.min(limit, tasks.length) }, worker));
  return Number(process.hrtime.bigint() - started) / 1e9;
}

// ---------------------------------------------------------------- media, made once

async function makePhotos(): Promise<string> {
  const folder = join(dir, `photos-${PHOTOS}`);
  const done = `${folder}.done`;
  if (existsSync(done)) return folder;
  await rm(folder, { recursive: true, force: true });
  await mkdir(folder, { recursive: true });
  const variants = Math.min(PHOTOS, Number(process.env.BENCH_VARIANTS ?? 20));
  console.log(
    `Making ${PHOTOS} photos of 12 megapixels (${variants} distinct) in ${folder} (once)…`,
  );
  const made: string[] = [];
  for (let v = 0; v < variants; v++) {
    // Smooth shapes from upscaled noise, plus grain: compresses like a camera photo.
    const small = randomBytes(250 * 188 * 3);
    const { data } = await sharp(small, { raw: { width: 250, height: 188, channels: 3 } })
      .resize(4000, 3000, { kernel: 'cubic' })
      .raw()
      .toBuffer({ resolveWithObject: true });
    const grain = randomBytes(data.length);
    for (let i = 0; i < data.length; i++) {
      const value = data[i]! + (grain[i]! & 31) - 16;
      data[i] = value < 0 ? 0 : value > 255 ? 255 : value;
    }
    let image = sharp(data, { raw: { width: 4000, height: 3000, channels: 3 } }).jpeg({
      quality: 88,
    });
    if (v % 4 === 3) image = image.withMetadata({ orientation: 6 });
    const path = join(folder, `IMG_${String(v).padStart(5, '0')}.jpg`);
    await image.toFile(path);
    made.push(path);
  }
  for (let i = variants; i < PHOTOS; i++) {
    await copyFile(made[i % variants]!, join(folder, `IMG_${String(i).padStart(5, '0')}.jpg`));
  }
  await writeFile(done, '');
  return folder;
}

async function makeVideos(ffmpeg: string): Promise<string> {
  const folder = join(dir, `videos-${VIDEOS}-${VIDEO_SECONDS}s-${VIDEO_SIZE}`);
  const done = `${folder}.done`;
  if (existsSync(done)) return folder;
  await rm(folder, { recursive: true, force: true });
  await mkdir(folder, { recursive: true });
  const variants = Math.min(VIDEOS, Number(process.env.BENCH_VARIANTS ?? 4));
  console.log(
    `Making ${VIDEOS} clips of ${VIDEO_SECONDS} s (${variants} distinct) in ${folder} (once)…`,
  );
  const made: string[] = [];
  for (let v = 0; v < variants; v++) {
    const path = join(folder, `MOV_${String(v).padStart(4, '0')}.mp4`);
    const black = Math.min(2, VIDEO_SECONDS / 4);
    await measure(ffmpeg, [
      ...['-v', 'error', '-y', '-f', 'lavfi'],
      ...['-i', `color=c=black:s=${VIDEO_SIZE}:r=25:d=${black}`],
      ...['-f', 'lavfi', '-i', `testsrc2=s=${VIDEO_SIZE}:r=25:d=${VIDEO_SECONDS - black}`],
      ...['-f', 'lavfi', '-i', `sine=frequency=${300 + v * 50}:duration=${VIDEO_SECONDS}`],
      ...['-filter_complex', `[0:v][1:v]concat=n=2:v=1:a=0,hue=h=${v * 40}[v]`],
      ...['-map', '[v]', '-map', '2:a', '-pix_fmt', 'yuv420p'],
      ...['-c:v', 'libx264', '-preset', 'veryfast', '-g', '50', '-c:a', 'aac'],
      path,
    ]);
    made.push(path);
  }
  for (let i = variants; i < VIDEOS; i++) {
    await copyFile(made[i % variants]!, join(folder, `MOV_${String(i).padStart(4, '0')}.mp4`));
  }
  await writeFile(done, '');
  return folder;
}

/**
 * A fresh data folder with a vault and `media` added and protected, and with `readFacts`
 * what the library reads of each item (as the app does before making pictures); untimed.
 */
async function protectedLibrary(name: string, media: string, readFacts = false): Promise<string> {
  const dataDir = join(dir, `run-${name}`);
  await rm(dataDir, { recursive: true, force: true });
  await mkdir(dataDir, { recursive: true });
  const { vault } = await createVault(join(dataDir, 'vault'), PASSWORD, {
    scrypt: { logN: 10, r: 8, p: 1 },
    recovery: false,
  });
  const db = openDatabase(databasePath(dataDir));
  try {
    const library = new Library(db, dataDir);
    const { folder } = await library.addFolder(media);
    const done = await library.encrypt(folder.id, vault);
    if (done.failed > 0) throw new Error(`${done.failed} files could not be protected`);
    if (readFacts) {
      const read = await new InfoReader(db, dataDir, () => locateFfmpeg()).run(vault);
      if (read.failed > 0) throw new Error(`${read.failed} files could not be read`);
    }
  } finally {
    db.close();
  }
  return dataDir;
}

// ---------------------------------------------------------------- the engine

async function buildRunner(): Promise<string> {
  const outfile = join(dir, 'preview-runner.mjs');
  return bundleRunner(
    `
        import { readFileSync } from 'node:fs';
        import { join } from 'node:path';
        import { locateFfmpeg } from './engine/src/ffmpeg/locate';
        import { databasePath, openDatabase } from './engine/src/jobs/db';
        import { PreviewMaker } from './engine/src/library/preview-maker';
        import { unlockVault } from './engine/src/vault/keyring';
        const [dataDir, password, jobs] = process.argv.slice(2);
        const db = openDatabase(databasePath(dataDir));
        const vault = await unlockVault(join(dataDir, 'vault'), { password });
        const maker = new PreviewMaker(db, dataDir, () => locateFfmpeg(), Number(jobs));
        const started = performance.now();
        const result = await maker.run(vault);
        const elapsedMs = performance.now() - started;
        db.close();
        const hwm = /VmHWM:\\s+(\\d+) kB/.exec(readFileSync('/proc/self/status', 'utf8'));
        console.log(JSON.stringify({ ...result, elapsedMs, hwmKb: Number(hwm?.[1] ?? 0), lastError: maker.lastError }));
    `,
    'preview-runner.ts',
    outfile,
  );
}

interface EngineRun {
  seconds: number;
  done: number;
  rssMb: number;
}

async function engine(runner: string, dataDir: string, expected: number): Promise<EngineRun> {
  const r = await measure(process.execPath, [runner, dataDir, PASSWORD, String(JOBS)]);
  const result = JSON.parse(r.out) as {
    done: number;
    failed: number;
    elapsedMs: number;
    hwmKb: number;
    lastError?: string;
  };
  if (result.done !== expected || result.failed > 0) {
    throw new Error(
      `the engine made pictures of ${result.done} of ${expected} items (${result.failed} failed: ${result.lastError})`,
    );
  }
  return {
    seconds: result.elapsedMs / 1000,
    done: result.done,
    rssMb: Math.max(r.rssMb, result.hwmKb / 1024),
  };
}

/** The made pictures forgotten and removed, so the next round makes them all again. */
async function forgetPictures(dataDir: string): Promise<void> {
  const db = openDatabase(databasePath(dataDir));
  db.exec('DELETE FROM library_previews; DELETE FROM library_preview_state;');
  db.close();
  await rm(join(dataDir, 'previews'), { recursive: true, force: true });
}

// ---------------------------------------------------------------- the references

async function vipsThumbnails(files: string[], sizes: number[]): Promise<number> {
  const out = join(dir, 'ref-photos');
  await rm(out, { recursive: true, force: true });
  await mkdir(out, { recursive: true });
  const chunks = Array.from({ length: JOBS }, (_, j) => files.filter((_, i) => i % JOBS === j));
  const quality: Record<number, number> = { [THUMB]: 75, [PREVIEW]: 82 };
  return pool(
    chunks
      .filter((c) => c.length > 0)
      .map((chunk) => async () => {
        for (const size of sizes) {
          await measure('vipsthumbnail', [
            ...['-s', String(size), '-o', join(out, `%s-${size}.jpg[Q=${quality[size]}]`)],
            ...chunk,
          ]);
        }
      }),
    JOBS,
  );
}

function referenceFrameGraph(count: number): string {
  const fit =
    `scale=w='trunc(iw*sar/2)*2':h=ih,setsar=1,` +
    `scale=w='if(gte(iw,ih),min(${POSTER},iw),-2)':h='if(gte(iw,ih),-2,min(${POSTER},ih))'`;
  const chains = Array.from(
    { length: count },
    (_, i) => `[${i}:v:0]trim=end_frame=1,${fit},setpts=N[f${i}]`,
  );
  const labels = chains.map((_, i) => `[f${i}]`).join('');
  return (
    `${chains.join(';')};${labels}concat=n=${count}:v=1:a=0,split=2[a][b];` +
    `[a]select='eq(n,${Math.floor(count / 2)})'[poster];` +
    `[b]scale=${SPRITE_WIDTH}:-2,tile=${count}x1[sprite]`
  );
}

async function ffmpegPictures(ffmpeg: string, ffprobe: string, files: string[]): Promise<number> {
  const out = join(dir, 'ref-videos');
  await rm(out, { recursive: true, force: true });
  await mkdir(out, { recursive: true });
  return pool(
    files.map((file, n) => async () => {
      const probed = await measure(ffprobe, [
        ...['-v', 'error', '-show_entries', 'format=duration', '-of', 'csv=p=0', file],
      ]);
      const duration = Number(probed.out.trim());
      const points = Array.from(
        { length: SPRITE_FRAMES },
        (_, i) => ((i + 0.5) * duration) / SPRITE_FRAMES,
      );
      await measure(ffmpeg, [
        ...['-v', 'error', '-nostdin', '-y'],
        ...points.flatMap((at) => ['-ss', at.toFixed(3), '-i', file]),
        ...['-filter_complex', referenceFrameGraph(points.length)],
        ...['-map', '[poster]', '-frames:v', '1', '-q:v', '4', join(out, `${n}-poster.jpg`)],
        ...['-map', '[sprite]', '-frames:v', '1', '-q:v', '5', join(out, `${n}-sprite.jpg`)],
      ]);
    }),
    JOBS,
  );
}

// ---------------------------------------------------------------- the run

const per = (n: number, seconds: number, what: string) =>
  `${(n / seconds).toFixed(2)} ${what}/s (${seconds.toFixed(1)} s)`;

async function photos(runner: string): Promise<boolean> {
  const media = await makePhotos();
  const files = (await readdir(media)).sort().map((name) => join(media, name));
  console.log(`Protecting ${files.length} photos into a fresh library (untimed)…`);
  const dataDir = await protectedLibrary('photos', media);
  // Warm the cache for everyone, untimed: the plaintext for the reference.
  await Promise.all(files.slice(0, 2000).map((f) => readFile(f).then(() => undefined)));
  const engineFirst = await engine(runner, dataDir, files.length);
  const both = await vipsThumbnails(files, [PREVIEW, THUMB]);
  const thumbsOnly = await vipsThumbnails(files, [THUMB]);
  await forgetPictures(dataDir);
  // A second engine run after the reference, so neither is always first on the cache.
  const engineSecond = await engine(runner, dataDir, files.length);
  const engineSeconds = Math.min(engineFirst.seconds, engineSecond.seconds);
  const rss = Math.max(engineFirst.rssMb, engineSecond.rssMb);
  const ratio = files.length / engineSeconds / (files.length / both);
  console.log(`\nPhotos: ${files.length} JPEGs of 12 megapixels, ${JOBS} at once`);
  console.log(
    `  engine (thumbnail + preview, sealed)      ${per(files.length, engineSeconds, 'photos')}`,
  );
  console.log(
    `  vipsthumbnail -s ${PREVIEW} and -s ${THUMB}        ${per(files.length, both, 'photos')}`,
  );
  console.log(
    `  vipsthumbnail -s ${THUMB} alone (for scale)     ${per(files.length, thumbsOnly, 'photos')}`,
  );
  console.log(
    `ratio engine/vipsthumbnail (same pictures): ${ratio.toFixed(3)} (target >= ${PHOTO_TARGET})`,
  );
  console.log(
    `ratio engine/vipsthumbnail thumbnails alone: ${(thumbsOnly / engineSeconds).toFixed(3)} (for scale; the engine also makes the preview)`,
  );
  console.log(`engine peak RSS: ${rss.toFixed(0)} MB (target < ${RSS_TARGET_MB} MB)`);
  return ratio >= PHOTO_TARGET && rss < RSS_TARGET_MB;
}

async function videos(runner: string): Promise<boolean> {
  const { ffmpegPath, ffprobePath } = await locateFfmpeg();
  const media = await makeVideos(ffmpegPath);
  const files = (await readdir(media)).sort().map((name) => join(media, name));
  console.log(
    `Protecting ${files.length} clips into a fresh library, and reading their facts (untimed)…`,
  );
  const dataDir = await protectedLibrary('videos', media, true);
  const engineFirst = await engine(runner, dataDir, files.length);
  const reference = await ffmpegPictures(ffmpegPath, ffprobePath, files);
  await forgetPictures(dataDir);
  const engineSecond = await engine(runner, dataDir, files.length);
  const engineSeconds = Math.min(engineFirst.seconds, engineSecond.seconds);
  const ratio = reference / engineSeconds;
  console.log(
    `\nVideos: ${files.length} clips of ${VIDEO_SECONDS} s at ${VIDEO_SIZE}, ${JOBS} at once`,
  );
  console.log(
    `  engine (poster + sprite, sealed)          ${per(files.length, engineSeconds, 'clips')}`,
  );
  console.log(
    `  plain ffprobe + ffmpeg, same pictures      ${per(files.length, reference, 'clips')}`,
  );
  console.log(`ratio engine/ffmpeg: ${ratio.toFixed(3)} (target >= ${VIDEO_TARGET})`);
  console.log(
    `engine peak RSS: ${Math.max(engineFirst.rssMb, engineSecond.rssMb).toFixed(0)} MB (FFmpeg's own not counted)`,
  );
  return ratio >= VIDEO_TARGET;
}

async function main(): Promise<void> {
  await mkdir(dir, { recursive: true });
  const runner = await buildRunner();
  let ok = true;
  if (ONLY !== 'videos') ok = (await photos(runner)) && ok;
  if (ONLY !== 'photos') ok = (await videos(runner)) && ok;
  if (!ok) process.exitCode = 1;
}

await main();
