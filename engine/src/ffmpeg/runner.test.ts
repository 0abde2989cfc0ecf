import { createServer, type Server } from 'node:http';
import { readFile, readdir, writeFile } from 'node:fs/promises';
import type { AddressInfo } from 'node:net';
import { execFileSync, spawn } from 'node:child_process';
import { join } from 'node:path';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { isKeepsakeError } from '../core/errors';
import { freshDir } from '../testing/tmp';
import { locateFfmpeg } from './locate';
import { boxedArgs, parseProgressBlock, runFfmpeg, type Progress } from './runner';

let ffmpegPath: string;
const servers: Server[] = [];

beforeAll(async () => {
  ffmpegPath = (await locateFfmpeg()).ffmpegPath;
});

afterEach(() => {
  for (const s of servers.splice(0)) s.closeAllConnections();
});

/** A generated test pattern, `seconds` long, as FFmpeg input args (no file needed). */
const lavfi = (seconds: number, realtime = false) => [
  ...(realtime ? ['-re'] : []),
  '-f',
  'lavfi',
  '-i',
  `testsrc=size=160x120:rate=25:duration=${seconds}`,
];

async function caught(promise: Promise<unknown>): Promise<unknown> {
  return promise.then(
    () => undefined,
    (e: unknown) => e,
  );
}

/** Is a process with this exact argv marker still alive? */
function ffmpegAlive(marker: string): boolean {
  const out = execFileSync('ps', ['-eo', 'args'], { encoding: 'utf8' });
  return out.split('\n').some((line) => line.includes(marker) && !line.startsWith('ps '));
}

describe('runFfmpeg', () => {
  it('reports rising progress and ends at 100 %', async () => {
    const dir = await freshDir();
    const seen: Progress[] = [];
    await runFfmpeg([...lavfi(3), '-c:v', 'libx264', '-preset', 'ultrafast', 'out.mp4'], {
      ffmpegPath,
      cwd: dir,
      durationSeconds: 3,
      threads: 1,
      onProgress: (p) => seen.push(p),
    });
    expect(await readdir(dir)).toEqual(['out.mp4']);
    expect(seen.at(-1)).toMatchObject({ percent: 100, etaSeconds: 0 });
    const percents = seen.map((p) => p.percent);
    expect([...percents].sort((a, b) => a - b)).toEqual(percents);
    expect(seen.at(-1)!.outTimeSeconds).toBeGreaterThan(2.5);
  });

  it('cancel stops FFmpeg with SIGTERM and says so', async () => {
    const dir = await freshDir();
    const controller = new AbortController();
    const marker = `cancel-${Date.now()}.mkv`;
    const run = runFfmpeg([...lavfi(60, true), '-c:v', 'libx264', marker], {
      ffmpegPath,
      cwd: dir,
      durationSeconds: 60,
      signal: controller.signal,
      onProgress: (p) => {
        if (p.outTimeSeconds > 0.3) controller.abort();
      },
    });
    const err = await caught(run);
    expect(isKeepsakeError(err, 'JOB_CANCELLED'), String(err)).toBe(true);
    expect(ffmpegAlive(marker)).toBe(false);
  });

  it('SIGKILL follows when FFmpeg ignores SIGTERM past the grace period', async () => {
    // A script that ignores SIGTERM stands in for a wedged FFmpeg: the point is the escalation.
    const dir = await freshDir();
    const wedged = join(dir, 'wedged.sh');
    await writeFile(wedged, "#!/bin/sh\ntrap '' TERM\nwhile true; do /bin/sleep 0.1; done\n", {
      mode: 0o755,
    });
    const controller = new AbortController();
    const started = Date.now();
    setTimeout(() => controller.abort(), 200);
    const err = await caught(
      runFfmpeg([], {
        ffmpegPath: wedged,
        cwd: dir,
        durationSeconds: 1,
        graceMs: 300,
        signal: controller.signal,
      }),
    );
    expect(isKeepsakeError(err, 'JOB_CANCELLED')).toBe(true);
    expect(Date.now() - started).toBeLessThan(5000);
  });

  it('kills a run that passes its wall-clock cap', async () => {
    const dir = await freshDir();
    const err = await caught(
      runFfmpeg([...lavfi(60, true), '-f', 'null', '-'], {
        ffmpegPath,
        cwd: dir,
        durationSeconds: 60,
        timeoutMs: 800,
      }),
    );
    expect(isKeepsakeError(err, 'JOB_TIMEOUT')).toBe(true);
    expect(String(err)).toMatch(/limit/);
  });

  it('kills a run whose input stops arriving (stall)', async () => {
    // Serves a little of an MPEG-TS stream, then holds the connection open and silent.
    const dir = await freshDir();
    execFileSync(ffmpegPath, [
      '-v',
      'error',
      ...lavfi(10),
      '-c:v',
      'libx264',
      '-preset',
      'ultrafast',
      join(dir, 'in.ts'),
    ]);
    const bytes = await readFile(join(dir, 'in.ts'));
    const server = createServer((_req, res) => {
      res.writeHead(200, { 'content-type': 'video/mp2t' });
      res.write(bytes.subarray(0, Math.floor(bytes.length / 3)));
    });
    servers.push(server);
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const port = (server.address() as AddressInfo).port;
    const err = await caught(
      runFfmpeg(
        [
          '-protocol_whitelist',
          'http,tcp',
          '-f',
          'mpegts',
          '-i',
          `http://127.0.0.1:${port}/in.ts`,
          '-f',
          'null',
          '-',
        ],
        { ffmpegPath, cwd: dir, durationSeconds: 10, stallMs: 1500 },
      ),
    );
    server.close();
    expect(isKeepsakeError(err, 'JOB_TIMEOUT'), String(err)).toBe(true);
    expect(String(err)).toMatch(/no progress/);
  });

  it('a failing command reports FFmpeg’s own error', async () => {
    const dir = await freshDir();
    const err = await caught(
      runFfmpeg([...lavfi(1), '-c:v', 'no-such-encoder', 'out.mkv'], {
        ffmpegPath,
        cwd: dir,
        durationSeconds: 1,
      }),
    );
    expect(isKeepsakeError(err, 'FFMPEG_FAILED')).toBe(true);
    expect(String(err)).toMatch(/no-such-encoder/);
  });
});

describe('boxedArgs and parseProgressBlock', () => {
  it('puts the caps after the last input and the report options first', () => {
    expect(boxedArgs(['-f', 'mov', '-i', 'http://x', '-c', 'copy', 'o.mkv'], 2)).toEqual([
      '-loglevel',
      'error',
      '-nostats',
      '-progress',
      'pipe:1',
      '-f',
      'mov',
      '-max_pixels',
      '200000000',
      '-threads',
      '2',
      '-i',
      'http://x',
      '-threads',
      '2',
      '-filter_threads',
      '2',
      '-filter_complex_threads',
      '2',
      '-c',
      'copy',
      'o.mkv',
    ]);
  });

  it('leaves an input that names its own decoder threads alone', () => {
    const args = ['-threads', '1', '-i', 'a.ts', '-i', 'b.wav', '-f', 'null', '-'];
    expect(boxedArgs(args, 4).slice(5)).toEqual([
      ...['-threads', '1', '-max_pixels', '200000000', '-i', 'a.ts'],
      ...['-max_pixels', '200000000', '-threads', '4', '-i', 'b.wav'],
      ...['-threads', '4', '-filter_threads', '4', '-filter_complex_threads', '4'],
      ...['-f', 'null', '-'],
    ]);
  });

  it('caps the encoders that keep thread pools of their own', () => {
    const encode = (codec: string) => ['-i', 'in.mkv', '-c:v', codec, 'out.mkv'];
    expect(boxedArgs(encode('libx265'), 2)).toEqual(
      expect.arrayContaining(['-x265-params', 'pools=2']),
    );
    expect(boxedArgs(encode('libsvtav1'), 1)).toEqual(
      expect.arrayContaining(['-svtav1-params', 'lp=1']),
    );
    expect(boxedArgs(encode('libx264'), 1)).not.toContain('-x265-params');
    expect(boxedArgs(encode('libx265'), undefined)).not.toContain('-x265-params');
  });

  it.each(['libx265', 'libsvtav1'])(
    'keeps %s to about one core when capped at one thread',
    (codec) => {
      const args = [
        ...['-v', 'error', '-f', 'lavfi', '-i', 'testsrc2=size=640x360:rate=25:duration=4'],
        ...['-c:v', codec, '-preset', codec === 'libsvtav1' ? '8' : 'fast', '-f', 'null', '-'],
      ];
      // bash's `times` gives the CPU time FFmpeg used (its children's line).
      const started = process.hrtime.bigint();
      const out = execFileSync(
        'bash',
        ['-c', '"$0" "$@" >/dev/null 2>&1; times', ffmpegPath, ...boxedArgs(args, 1)],
        {
          encoding: 'utf8',
        },
      );
      const wall = Number(process.hrtime.bigint() - started) / 1e9;
      const seconds = (t: string) => {
        const [, m, s] = /(\d+)m([\d.]+)s/.exec(t)!;
        return Number(m) * 60 + Number(s);
      };
      const [user, sys] = out.trim().split('\n')[1]!.split(/\s+/).map(seconds);
      // Uncapped, both encoders kept the two cores busy: 1.7x the wall time in CPU.
      expect(user! + sys!).toBeGreaterThan(0.3);
      expect(user! + sys!).toBeLessThan(1.25 * wall);
    },
  );

  it('keeps a capped FFmpeg to its threads: decoder, filters and encoder', async () => {
    const dir = await freshDir('threads');
    const clip = join(dir, 'clip.mp4');
    execFileSync(ffmpegPath, [
      ...['-v', 'error', '-f', 'lavfi', '-i', 'testsrc=size=1280x720:rate=25:duration=4'],
      ...['-c:v', 'libx264', '-preset', 'ultrafast', clip],
    ]);
    const peakThreads = async (threads: number | undefined) => {
      const args = ['-i', clip, '-vf', 'scale=640:-2', '-c:v', 'libx264', '-f', 'null', '-'];
      const child = spawn(ffmpegPath, boxedArgs(args, threads), { stdio: 'ignore' });
      const exited = new Promise((done) => child.once('exit', done));
      let peak = 0;
      let running = true;
      void exited.then(() => (running = false));
      while (running) {
        const tasks = await readdir(`/proc/${child.pid}/task`).catch(() => []);
        peak = Math.max(peak, tasks.length);
        await new Promise((r) => setTimeout(r, 20));
      }
      return peak;
    };
    // Uncapped, the decoder and x264 each take a thread per core (and more);
    // capped at one, FFmpeg's main thread and at most one helper remain.
    const capped = await peakThreads(1);
    expect(capped).toBeGreaterThan(0);
    expect(capped).toBeLessThanOrEqual(2);
    expect(await peakThreads(undefined)).toBeGreaterThan(capped);
  });

  it('computes percent, speed and ETA; only "end" reaches 100', () => {
    const block = new Map([
      ['out_time_us', '30000000'],
      ['fps', '50.5'],
      ['speed', '2.5x'],
      ['progress', 'continue'],
    ]);
    expect(parseProgressBlock(block, 60)).toEqual({
      percent: 50,
      outTimeSeconds: 30,
      fps: 50.5,
      speed: 2.5,
      etaSeconds: 12,
    });
    block.set('out_time_us', '61000000');
    expect(parseProgressBlock(block, 60)!.percent).toBe(99.9);
    block.set('progress', 'end');
    expect(parseProgressBlock(block, 60)).toMatchObject({ percent: 100, etaSeconds: 0 });
    expect(parseProgressBlock(new Map([['out_time_us', 'N/A']]), 60)).toBeUndefined();
  });
});
