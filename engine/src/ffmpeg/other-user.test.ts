// Another local user against a running job: as `nobody`, it watches for the FFmpeg and
// FFprobe processes the engine starts, reads whatever of them the system shows other
// users (command line, environment, the socket table), and tries every way in that this
// gives it: to fetch the decrypted input (directly, or through the loopback server as a
// proxy, with or without a password) and to post a forged output into the sink. It must
// get no byte of media and plant nothing. On the code before the fix, the input's secret
// URL was on FFmpeg's command line and the fetch returned the whole plaintext.

import { spawn } from 'node:child_process';
import { chmod, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { submitJob } from '../jobs/worker';
import type { Job } from '../jobs/queue';
import { NOBODY, nobodyCannotRunNode } from '../testing/as-nobody';
import { testEngine } from '../testing/engine';
import { makeClip } from '../testing/media';
import { encryptFile } from '../vault/file-ops';

const isLinuxRoot = process.platform === 'linux' && process.getuid?.() === 0;

/** The attacker, run as nobody with plain Node (no checkout needed). */
const ATTACKER = String.raw`
const fs = require('node:fs');
const http = require('node:http');
const net = require('node:net');
const victim = Number(process.argv[2]);
const seen = new Set();
const log = (entry) => process.stdout.write(JSON.stringify(entry) + '\n');

function children() {
  const found = [];
  for (const pid of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(pid) || seen.has(pid)) continue;
    try {
      const stat = fs.readFileSync('/proc/' + pid + '/stat', 'latin1');
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      if (ppid !== victim) continue;
      const argv = fs.readFileSync('/proc/' + pid + '/cmdline', 'latin1').split('\0');
      if (!argv.some((a) => /ff(mpeg|probe)$/.test(a))) continue;
      seen.add(pid);
      found.push({ pid, argv });
    } catch {}
  }
  return found;
}

function loopbackListeners() {
  const ports = [];
  for (const table of ['/proc/net/tcp', '/proc/net/tcp6']) {
    let text = '';
    try { text = fs.readFileSync(table, 'latin1'); } catch { continue; }
    for (const line of text.split('\n').slice(1)) {
      const f = line.trim().split(/\s+/);
      if (f[3] === '0A' && /0100007F:/.test(f[1]) && f[7] === '0') {
        ports.push(parseInt(f[1].split(':')[1], 16));
      }
    }
  }
  return [...new Set(ports)];
}

function attempt(what, options, body) {
  return new Promise((resolve) => {
    let bytes = 0;
    let status = 0;
    let head = Buffer.alloc(0);
    const done = (error) => { log({ what, status, bytes, head: head.toString('hex'), error }); resolve(); };
    const req = http.request({ ...options, agent: false, timeout: 3000 }, (res) => {
      status = res.statusCode;
      res.on('data', (d) => {
        if (status < 200 || status >= 300) return;
        bytes += d.length;
        if (head.length < 64) head = Buffer.concat([head, d]).subarray(0, 64);
      });
      res.on('end', () => done());
      res.on('error', (e) => done(e.code || e.message));
    });
    req.on('timeout', () => req.destroy(new Error('timeout')));
    req.on('error', (e) => done(e.code || e.message));
    req.end(body);
  });
}

async function attack(child) {
  let environ = 'readable';
  try { fs.readFileSync('/proc/' + child.pid + '/environ'); } catch (e) { environ = e.code; }
  log({ what: 'environ', pid: child.pid, environ, argv: child.argv });
  const urls = child.argv.filter((a) => a.startsWith('http://'));
  const creds = [undefined, ...urls.map((u) => new URL(u)).filter((u) => u.password)];
  for (const raw of urls) {
    const url = new URL(raw);
    const target = { host: url.hostname, port: url.port || 80, path: url.pathname };
    if (url.hostname === '127.0.0.1') {
      await attempt('get ' + raw, { ...target, headers: { Host: url.host, Range: 'bytes=0-' } });
      // The sink takes <its secret prefix>/<any name>.
      const prefix = url.pathname.split('/')[1];
      const put = { ...target, method: 'PUT', path: '/' + prefix + '/forged.txt', headers: { Host: url.host } };
      await attempt('put ' + raw, put, 'forged by nobody');
      // Sent and closed at once: no answer is needed to plant an output.
      await new Promise((resolve) => {
        const s = net.connect(Number(target.port), '127.0.0.1', () => {
          s.end('PUT /' + prefix + '/forged-closed.txt HTTP/1.1\r\nHost: ' + url.host + '\r\nContent-Length: 6\r\n\r\nforged', resolve);
        });
        s.on('error', resolve);
      });
      log({ what: 'put-and-close ' + raw });
    }
    // A URL whose host is not loopback is reached through some proxy: try every loopback
    // listener of root as that proxy, without a password and with any in sight.
    for (const port of loopbackListeners()) {
      for (const cred of creds) {
        const headers = { Host: url.host, Range: 'bytes=0-' };
        if (cred) headers['Proxy-Authorization'] = 'Basic ' + Buffer.from(cred.username + ':' + cred.password).toString('base64');
        await attempt('proxy-get ' + raw + ' via ' + port, { host: '127.0.0.1', port, path: raw, headers });
      }
    }
  }
}

const stop = Date.now() + Number(process.argv[3]);
(async () => {
  while (Date.now() < stop) {
    const found = children();
    await Promise.all(found.map(attack));
    await new Promise((r) => setTimeout(r, 2));
  }
  log({ what: 'end' });
})();
`;

interface Entry {
  what: string;
  status?: number;
  bytes?: number;
  /** The first bytes of a 2xx answer's body, in hex. */
  head?: string;
  error?: string;
  environ?: string;
  argv?: string[];
}

describe('another local user against a running job', () => {
  // Root-only: the attacker must be another user (nobody), and only root can start it so.
  // Linux-only: the attacker reads /proc as the attacker did. Skipped too when
  // nobody cannot run this Node binary (one under /root).
  it.skipIf(!isLinuxRoot || nobodyCannotRunNode() !== undefined)(
    'as nobody, reads FFmpeg and FFprobe command lines, tries input and sink: gets no media byte and plants nothing',
    async () => {
      const { dir, vault, engine } = await testEngine();
      const attackerDir = await mkdtemp(join(tmpdir(), 'keepsake-attacker-'));
      try {
        await chmod(attackerDir, 0o755);
        const script = join(attackerDir, 'attack.cjs');
        await writeFile(script, ATTACKER, { mode: 0o644 });
        const clip = await makeClip(dir, 'clip.mp4', { seconds: 6, size: '640x480' });
        const input = join(dir, 'clip.mp4.ksv');
        await encryptFile(clip, input, vault);

        const attacker = spawn(process.execPath, [script, String(process.pid), '60000'], {
          uid: NOBODY,
          gid: NOBODY,
          stdio: ['ignore', 'pipe', 'pipe'],
        });
        let out = '';
        attacker.stdout.setEncoding('utf8').on('data', (t: string) => (out += t));
        attacker.stderr.setEncoding('utf8').on('data', (t: string) => (out += t));
        const ended = new Promise((resolve) => attacker.on('close', resolve));

        const job = await submitJob(engine.queue, {
          preset: 'hls-playback',
          params: {},
          input: { kind: 'vault', path: input },
          outputDir: engine.outputRoot,
        });
        const finished = new Promise<Job>((resolve) =>
          engine.worker.on('finished', (j: Job) => j.id === job.id && resolve(j)),
        );
        await engine.worker.start();
        const done = await finished;
        // Let attempts on the last processes finish, then stop the attacker.
        await new Promise((r) => setTimeout(r, 1500));
        attacker.kill('SIGKILL');
        await ended;
        await engine.close();

        const entries = out
          .split('\n')
          .filter((l) => l.startsWith('{'))
          .map((l) => JSON.parse(l) as Entry);
        const seen = entries.filter((e) => e.what === 'environ');
        const tries = entries.filter((e) => e.what !== 'environ' && e.what !== 'end');
        // It saw both tools and tried: the test attacked something.
        expect(seen.some((e) => e.argv?.some((a) => a.endsWith('ffprobe')))).toBe(true);
        expect(seen.some((e) => e.argv?.some((a) => a.endsWith('ffmpeg')))).toBe(true);
        expect(tries.length).toBeGreaterThan(0);
        // Environments are private to their user.
        expect(seen.map((e) => e.environ)).not.toContain('readable');
        // Nothing of ours answered: neither the input (directly, or as a proxy) nor the sink.
        // Other servers on this machine's loopback may answer the attacker's proxy
        // requests with their own pages; none of those is media.
        const plain = await readFile(clip);
        const ok = (e: Entry) => (e.status ?? 0) >= 200 && (e.status ?? 0) < 300;
        const ours = tries.filter(
          (e) =>
            ok(e) &&
            (!e.what.startsWith('proxy-get') ||
              e.status === 206 ||
              (e.head !== undefined &&
                e.head !== '' &&
                plain.includes(Buffer.from(e.head, 'hex')))),
        );
        expect(ours, JSON.stringify(ours)).toEqual([]);
        // Nothing planted: the job's outputs are the preset's own.
        expect(done.state, done.lastError?.message).toBe('succeeded');
        expect(done.outputs.map((o) => o.name).filter((n) => n.includes('forged'))).toEqual([]);
      } finally {
        await rm(attackerDir, { recursive: true, force: true });
      }
    },
    120_000,
  );
});
