// npm run bench:proxy — playback and proxying against nginx, in one run.
//
//   1. The engine runs as `keepsake desktop` in its own process. Through its API the
//      benchmark creates a vault, adds a generated clip, encrypts it and runs
//      `hls-playback`: a real encrypted HLS ladder in the vault.
//   2. Reference: nginx (Debian package) serves the same segments as plain files on a
//      loopback port. The segments are fetched through /play, so the bytes are equal.
//   3. wrk (or autocannon when wrk is missing) requests every segment in turn, first
//      from nginx, then through /play (decrypting on the fly): requests per second,
//      target ratio >= 0.50.
//   4. When the engine has the direct proxy, `/proxy/stream?d=<nginx URL>` against the
//      same URL fetched directly, one request at a time, alternating BENCH_ROUNDS times:
//      req/s ratio (target >= 0.6) and p99 latency added (target < 3 ms, issue 20).
//      For scale, each round also measures a bare Node relay (bench/bare-relay.ts: raw
//      sockets, no HTTP library, no checks) on the same URLs: the floor for any relay
//      written in Node on this machine, and how far the engine is from it.
//
//   BENCH_SECONDS  per measurement (default 10)   BENCH_CLIP  clip seconds (default 60)
//   BENCH_ROUNDS   direct/proxied pairs (default 3)
//   BENCH_DIR      working folder (bench/out/proxy)

import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import autocannon from 'autocannon';
import { locateFfmpeg } from '../engine/src/ffmpeg/locate';

const root = fileURLToPath(new URL('..', import.meta.url));
const CLI = join(root, 'engine/bin/keepsake.mjs');
const SECONDS = Number(process.env.BENCH_SECONDS ?? 10);
const CLIP_SECONDS = Number(process.env.BENCH_CLIP ?? 60);
const dir = resolve(process.env.BENCH_DIR ?? join(root, 'bench/out/proxy'));
const CONNECTIONS = 10;
const TARGET_RATIO = 0.5;
const TARGET_P99_MS = 3;
/** Requests per second through /proxy/stream against nginx's, one connection each. */
const TARGET_PROXY_RATIO = 0.6;
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3);

interface Engine {
  child: ChildProcess;
  origin: string;
  token: string;
}

async function startEngine(dataDir: string): Promise<Engine> {
  const child = spawn(process.execPath, [CLI, 'desktop', '--data-dir', dataDir, '--port', '0'], {
    stdio: ['ignore', 'pipe', 'inherit'],
    env: { ...process.env, KEEPSAKE_HOME: dataDir },
  });
  const line = await new Promise<string>((resolvePromise, reject) => {
    let out = '';
    child.stdout!.on('data', (d: Buffer) => {
      out += d.toString();
      if (out.includes('\n')) resolvePromise(out.split('\n')[0]!);
    });
    child.once('exit', (code) => reject(new Error(`engine exited (${code})`)));
  });
  const m = /(http:\/\/127\.0\.0\.1:\d+)\/#token=([\w-]+)/.exec(line);
  if (!m) throw new Error(`unexpected ready line: ${line}`);
  return { child, origin: m[1]!, token: m[2]! };
}

async function api<T>(engine: Engine, method: string, path: string, body?: unknown): Promise<T> {
  const res = await fetch(`${engine.origin}${path}`, {
    method,
    headers: {
      authorization: `Bearer ${engine.token}`,
      ...(body === undefined ? {} : { 'content-type': 'application/json' }),
    },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await res.text();
  if (!res.ok) throw new Error(`${method} ${path}: ${res.status} ${text}`);
  return (text ? JSON.parse(text) : undefined) as T;
}

async function until<T>(fn: () => Promise<T>, ok: (v: T) => boolean): Promise<T> {
  for (;;) {
    const v = await fn();
    if (ok(v)) return v;
    await new Promise((r) => setTimeout(r, 250));
  }
}

/** Every URI a playlist names, resolved against it (HLS from our own preset: no tags with URIs). */
function urisOf(playlist: string, base: URL): URL[] {
  return playlist
    .split(/\r?\n/)
    .filter((l) => l && !l.startsWith('#'))
    .map((l) => new URL(l, base));
}

async function startNginx(rootDir: string): Promise<{ port: number; stop: () => void }> {
  const nginx = ['/usr/sbin/nginx', '/usr/bin/nginx'].find((p) => existsSync(p));
  if (!nginx) throw new Error('nginx is missing: apt-get install -y nginx-light wrk');
  const port = 20000 + Math.floor(Math.random() * 20000);
  const conf = join(dir, 'nginx.conf');
  const prefix = join(dir, 'nginx');
  await mkdir(join(prefix, 'logs'), { recursive: true });
  // A stock static-file setup: worker per core, sendfile, keep-alive; logs off so disk
  // writes do not count against nginx.
  await writeFile(
    conf,
    `worker_processes auto;
pid ${prefix}/nginx.pid;
error_log ${prefix}/logs/error.log warn;
daemon off;
events { worker_connections 1024; }
http {
  include /etc/nginx/mime.types;
  access_log off;
  sendfile on;
  tcp_nopush on;
  keepalive_requests 100000;
  client_body_temp_path ${prefix}/body;
  proxy_temp_path ${prefix}/proxy;
  fastcgi_temp_path ${prefix}/fastcgi;
  uwsgi_temp_path ${prefix}/uwsgi;
  scgi_temp_path ${prefix}/scgi;
  server {
    listen 127.0.0.1:${port};
    root ${rootDir};
  }
}
`,
  );
  const child = spawn(nginx, ['-c', conf, '-p', prefix], { stdio: 'inherit' });
  for (let i = 0; i < 50; i++) {
    if (
      await fetch(`http://127.0.0.1:${port}/`).then(
        () => true,
        () => false,
      )
    )
      break;
    await new Promise((r) => setTimeout(r, 100));
  }
  return { port, stop: () => child.kill('SIGQUIT') };
}

/** bench/bare-relay.ts in a process of its own, as the engine runs in one. */
async function startBareRelay(upstreamPort: number): Promise<{ origin: string; stop: () => void }> {
  const child = spawn(
    process.execPath,
    ['--import', 'tsx', join(root, 'bench/bare-relay.ts'), String(upstreamPort)],
    { stdio: ['ignore', 'pipe', 'inherit'] },
  );
  const port = await new Promise<string>((resolvePromise, reject) => {
    child.stdout!.once('data', (d: Buffer) => resolvePromise(d.toString().trim()));
    child.once('exit', (code) => reject(new Error(`the bare relay exited (${code})`)));
  });
  return { origin: `http://127.0.0.1:${port}`, stop: () => child.kill() };
}

interface Load {
  rps: number;
  p50Ms: number;
  p99Ms: number;
  errors: number;
}

/**
 * Requests the URLs in turn for SECONDS from `connections` connections: with wrk when
 * installed (its C client keeps up with nginx), else autocannon.
 */
async function load(
  urls: string[],
  headers: Record<string, string> = {},
  connections = CONNECTIONS,
): Promise<Load> {
  const wrk = spawnSync('sh', ['-c', 'command -v wrk'], { encoding: 'utf8' }).stdout.trim();
  if (wrk) {
    const script = join(dir, 'paths.lua');
    const paths = urls.map((u) => new URL(u)).map((u) => u.pathname + u.search);
    await writeFile(
      script,
      `local paths = {${paths.map((p) => JSON.stringify(p)).join(',')}}
local i = 0
request = function()
  i = i % #paths + 1
  return wrk.format("GET", paths[i])
end
`,
    );
    const origin = new URL(urls[0]!).origin;
    const r = spawnSync(
      wrk,
      [
        `-t${Math.min(2, connections)}`,
        `-c${connections}`,
        `-d${SECONDS}s`,
        '--latency',
        '-s',
        script,
        ...Object.entries(headers).flatMap(([k, v]) => ['-H', `${k}: ${v}`]),
        origin,
      ],
      { encoding: 'utf8' },
    );
    const rps = Number(/Requests\/sec:\s+([\d.]+)/.exec(r.stdout)?.[1]);
    const scale = { us: 0.001, ms: 1, s: 1000 } as const;
    const percentile = (p: number): number => {
      const m = new RegExp(`${p}%\\s+([\\d.]+)(us|ms|s)`).exec(r.stdout);
      return m ? Number(m[1]) * scale[m[2] as keyof typeof scale] : NaN;
    };
    const errors = Number(/Non-2xx or 3xx responses: (\d+)/.exec(r.stdout)?.[1] ?? 0);
    return {
      rps,
      p50Ms: percentile(50),
      p99Ms: percentile(99),
      errors,
    };
  }
  let i = 0;
  const result = await autocannon({
    url: new URL(urls[0]!).origin,
    connections,
    duration: SECONDS,
    headers,
    requests: [
      {
        setupRequest: (req) => {
          const u = new URL(urls[i++ % urls.length]!);
          return { ...req, path: u.pathname + u.search };
        },
      },
    ],
  });
  return {
    rps: result.requests.average,
    p50Ms: result.latency.p50,
    p99Ms: result.latency.p99,
    errors: result.non2xx,
  };
}

async function main(): Promise<void> {
  await rm(dir, { recursive: true, force: true });
  await mkdir(dir, { recursive: true });
  must('node', [join(root, 'engine/scripts/build.mjs')]);

  // --- A real encrypted HLS ladder, made through the engine's API. ---------------------
  const media = join(dir, 'media');
  await mkdir(media, { recursive: true });
  const { ffmpegPath } = await locateFfmpeg();
  must(ffmpegPath, [
    '-v',
    'error',
    '-f',
    'lavfi',
    '-i',
    `testsrc2=size=1280x720:rate=25:duration=${CLIP_SECONDS}`,
    '-f',
    'lavfi',
    '-i',
    `sine=frequency=440:sample_rate=48000:duration=${CLIP_SECONDS}`,
    '-c:v',
    'libx264',
    '-preset',
    'veryfast',
    '-c:a',
    'aac',
    '-shortest',
    join(media, 'tape.mp4'),
  ]);
  // The direct proxy may fetch from the benchmark's nginx on loopback, and nothing else.
  await mkdir(join(dir, 'data'), { recursive: true });
  await writeFile(
    join(dir, 'data', 'config.json'),
    JSON.stringify({
      proxyAllow: [{ host: '127.0.0.1', schemes: ['http'], allowPrivate: ['127.0.0.1/32'] }],
    }),
  );
  const engine = await startEngine(join(dir, 'data'));
  let nginx: { port: number; stop: () => void } | undefined;
  let stopBare: (() => void) | undefined;
  try {
    await api(engine, 'POST', '/v1/vault', { password: 'bench lantern orchard' });
    const folder = await api<{ id: string }>(engine, 'POST', '/v1/library', { path: media });
    await api(engine, 'POST', `/v1/library/${folder.id}/encrypt`);
    await until(
      () => api<{ encrypted: number }[]>(engine, 'GET', '/v1/library'),
      (l) => l[0]!.encrypted === 1,
    );
    const [file] = await api<{ id: string }[]>(engine, 'GET', `/v1/library/${folder.id}/files`);
    console.log(`Encoding a ${CLIP_SECONDS} s 720p clip with hls-playback…`);
    const job = await api<{ id: string }>(engine, 'POST', '/v1/jobs', {
      fileId: file!.id,
      preset: 'hls-playback',
    });
    const done = await until(
      () => api<{ state: string; playUrl?: string }>(engine, 'GET', `/v1/jobs/${job.id}`),
      (j) => !['queued', 'running'].includes(j.state),
    );
    if (done.state !== 'succeeded' || !done.playUrl) throw new Error(`job ${done.state}`);

    // --- The same files, plain, for nginx. ------------------------------------------------
    const master = new URL(`${engine.origin}${done.playUrl}`);
    const playBase = new URL('.', master);
    const plainRoot = join(dir, 'plain');
    const segments: string[] = [];
    const fetchTo = async (url: URL): Promise<string> => {
      const rel = url.pathname.slice(playBase.pathname.length);
      const bytes = Buffer.from(await (await fetch(url)).arrayBuffer());
      await mkdir(dirname(join(plainRoot, rel)), { recursive: true });
      await writeFile(join(plainRoot, rel), bytes);
      return bytes.toString('utf8');
    };
    for (const variant of urisOf(await fetchTo(master), master)) {
      for (const segment of urisOf(await fetchTo(variant), variant)) {
        await fetchTo(segment);
        segments.push(segment.pathname.slice(playBase.pathname.length));
      }
    }
    nginx = await startNginx(plainRoot);
    const nginxBase = `http://127.0.0.1:${nginx.port}/`;
    console.log(`${segments.length} segments; ${CONNECTIONS} connections, ${SECONDS} s each`);

    const reference = await load(segments.map((s) => nginxBase + s));
    const play = await load(segments.map((s) => playBase.href + s));
    const ratio = play.rps / reference.rps;
    console.log(
      `nginx, plain files:        ${reference.rps.toFixed(0)} req/s  p99 ${reference.p99Ms.toFixed(1)} ms` +
        `\n/play, decrypting:         ${play.rps.toFixed(0)} req/s  p99 ${play.p99Ms.toFixed(1)} ms` +
        `  (errors ${play.errors})` +
        `\nratio ${ratio.toFixed(2)} (target >= ${TARGET_RATIO})  ${ratio >= TARGET_RATIO ? 'MET' : 'MISSED'}`,
    );

    // --- The direct proxy, when the engine has one. ----------------------------------------
    const probe = await fetch(
      `${engine.origin}/proxy/stream?d=${encodeURIComponent(nginxBase + segments[0])}`,
      { headers: { authorization: `Bearer ${engine.token}` } },
    );
    if (probe.status === 404 && (await probe.text()).includes('ROUTE_NOT_FOUND')) {
      console.log('direct proxy: not in this engine yet, skipped');
      return;
    }
    if (!probe.ok) throw new Error(`direct proxy: ${probe.status} ${await probe.text()}`);
    // Latency, not throughput: one request at a time, so queueing does not count. The
    // machine is often shared, so direct and proxied runs alternate (ROUNDS pairs) and
    // each pair's ratio is reported with the load average; the engine's CPU time per
    // proxied request (from /proc, Linux only) does not depend on what else is running.
    const directUrls = segments.map((s) => nginxBase + s);
    const proxiedUrls = segments.map(
      (s) => `${engine.origin}/proxy/stream?d=${encodeURIComponent(nginxBase + s)}`,
    );
    const bare = await startBareRelay(nginx.port);
    const bareUrls = segments.map(
      (s) => `${bare.origin}/proxy/stream?d=${encodeURIComponent(nginxBase + s)}`,
    );
    const sample = await fetch(bareUrls[0]!).then(async (r) => Buffer.from(await r.arrayBuffer()));
    const plain = await fetch(directUrls[0]!).then(async (r) => Buffer.from(await r.arrayBuffer()));
    if (!sample.equals(plain)) throw new Error('the bare relay changed the bytes');
    stopBare = bare.stop;
    const pairs: { ratio: number; floor: number; addedP50: number; addedP99: number }[] = [];
    for (let round = 1; round <= ROUNDS; round++) {
      const loadavg = existsSync('/proc/loadavg')
        ? (await readFile('/proc/loadavg', 'utf8')).split(' ').slice(0, 3).join(' ')
        : 'n/a';
      const direct = await load(directUrls, {}, 1);
      const cpu0 = await cpuMs(engine.child.pid);
      const proxied = await load(proxiedUrls, { authorization: `Bearer ${engine.token}` }, 1);
      const cpu1 = await cpuMs(engine.child.pid);
      const floor = await load(bareUrls, {}, 1);
      const perRequest =
        cpu0 === undefined || cpu1 === undefined
          ? 'n/a'
          : `${(((cpu1 - cpu0) / (proxied.rps * SECONDS)) * 1000).toFixed(0)} µs`;
      pairs.push({
        ratio: proxied.rps / direct.rps,
        floor: floor.rps / direct.rps,
        addedP50: proxied.p50Ms - direct.p50Ms,
        addedP99: proxied.p99Ms - direct.p99Ms,
      });
      console.log(
        `round ${round} (load ${loadavg})` +
          `\n  direct from nginx:       ${direct.rps.toFixed(0)} req/s  p50 ${direct.p50Ms.toFixed(2)} ms  p99 ${direct.p99Ms.toFixed(1)} ms` +
          `\n  through /proxy/stream:   ${proxied.rps.toFixed(0)} req/s  p50 ${proxied.p50Ms.toFixed(2)} ms  p99 ${proxied.p99Ms.toFixed(1)} ms` +
          `  (errors ${proxied.errors}; engine CPU ${perRequest} per request)` +
          `\n  bare Node relay:         ${floor.rps.toFixed(0)} req/s  p50 ${floor.p50Ms.toFixed(2)} ms  p99 ${floor.p99Ms.toFixed(1)} ms` +
          `\n  ratio ${pairs.at(-1)!.ratio.toFixed(2)} (bare relay ${pairs.at(-1)!.floor.toFixed(2)})  p50 added ${pairs.at(-1)!.addedP50.toFixed(2)} ms  p99 added ${pairs.at(-1)!.addedP99.toFixed(1)} ms`,
      );
    }
    const proxyRatio = median(pairs.map((p) => p.ratio));
    const added = median(pairs.map((p) => p.addedP99));
    console.log(
      `median of ${ROUNDS}: ratio ${proxyRatio.toFixed(2)} (target >= ${TARGET_PROXY_RATIO})  ${proxyRatio >= TARGET_PROXY_RATIO ? 'MET' : 'MISSED'}` +
        `\n              bare Node relay ${median(pairs.map((p) => p.floor)).toFixed(2)} of direct; the engine ${(proxyRatio / median(pairs.map((p) => p.floor))).toFixed(2)} of the bare relay` +
        `\n              p50 added ${median(pairs.map((p) => p.addedP50)).toFixed(2)} ms` +
        `\n              p99 added ${added.toFixed(1)} ms (target < ${TARGET_P99_MS} ms)  ${added < TARGET_P99_MS ? 'MET' : 'MISSED'}`,
    );
  } finally {
    stopBare?.();
    nginx?.stop();
    engine.child.kill('SIGTERM');
  }
}

/** User + system CPU time of a process in ms, from /proc (undefined elsewhere). */
async function cpuMs(pid: number | undefined): Promise<number | undefined> {
  if (pid === undefined || !existsSync(`/proc/${pid}/stat`)) return undefined;
  // Fields after the command name: state is the first, utime and stime the 12th and 13th.
  const fields = (await readFile(`/proc/${pid}/stat`, 'utf8')).split(') ')[1]!.split(' ');
  const ticks = Number(fields[11]) + Number(fields[12]);
  return ticks * 10; // USER_HZ is 100 on Linux
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

function must(cmd: string, args: string[]): string {
  const r = spawnSync(cmd, args, { encoding: 'utf8', maxBuffer: 1 << 26 });
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')} failed: ${r.stderr}`);
  return r.stdout;
}

main().catch((err: unknown) => {
  console.error(err);
  process.exitCode = 1;
});
