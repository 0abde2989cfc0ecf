// Request bodies on the hardened server, for real (HTTPS on a loopback port): a body that
// stalls or crawls is cut off with 408, callers that cannot name a credential hold no
// memory and no upload lock, and the body is never read before that check.

import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { connect as tlsConnect } from 'node:tls';
import { afterEach, describe, expect, it } from 'vitest';
import { testScratch } from '../testing/media';
import { freshDir } from '../testing/tmp';
import { signedHeaders } from '../net/signing';
import { RemoteClient } from '../net/client';
import { startServe, type RunningServer } from './serve';
import { parseServeConfig } from '../http/serve-config';

const running: RunningServer[] = [];
afterEach(async () => {
  await Promise.all(running.splice(0).map((s) => s.close()));
});

async function server(overrides: Record<string, unknown> = {}) {
  const s = await startServe({
    config: parseServeConfig({ port: 0, ...overrides }),
    dataDir: join(await freshDir(), 'server'),
    kek: randomBytes(32),
    scratch: await testScratch(),
    logError: () => undefined,
    worker: { pollMs: 50, heartbeatMs: 100 },
  });
  running.push(s);
  return s;
}

function clientFor(s: RunningServer, name: string) {
  const issued = s.credentials.add(name, 'client');
  const client = new RemoteClient({
    url: s.url,
    clientId: issued.clientId,
    key: issued.key,
    caCertPem: s.tls.caCertPem,
    caFingerprint: s.caFingerprint,
  });
  return { ...issued, client };
}

interface Answer {
  status: number;
  text: string;
  /** Milliseconds from the request head to the answer (or to the connection closing). */
  afterMs: number;
}

/**
 * A request whose body is sent by `feed` at its own pace, over a raw TLS connection:
 * what a slow or hostile client does. Resolves with the answer, or status 0 if the
 * connection closed without one.
 */
function slowRequest(
  s: RunningServer,
  method: string,
  path: string,
  headers: Record<string, string>,
  feed: (write: (b: Buffer) => void) => void,
): { answer: Promise<Answer>; close: () => void } {
  let socket: ReturnType<typeof tlsConnect>;
  const answer = new Promise<Answer>((resolve) => {
    const started = Date.now();
    let text = '';
    socket = tlsConnect(
      { host: '127.0.0.1', port: s.port, ca: s.tls.caCertPem, servername: 'localhost' },
      () => {
        const head = Object.entries({ host: `127.0.0.1:${s.port}`, ...headers })
          .map(([k, v]) => `${k}: ${v}`)
          .join('\r\n');
        socket.write(`${method} ${path} HTTP/1.1\r\n${head}\r\n\r\n`);
        feed((b) => {
          if (!socket.destroyed) socket.write(b);
        });
      },
    );
    socket.on('data', (d: Buffer) => {
      text += d.toString('latin1');
      if (/\r\n\r\n[\s\S]*\}/.test(text)) {
        resolve({ status: Number(text.split(' ')[1]), text, afterMs: Date.now() - started });
      }
    });
    socket.on('error', () => undefined);
    socket.on('close', () =>
      resolve({
        status: Number(text.split(' ')[1] ?? 0) || 0,
        text,
        afterMs: Date.now() - started,
      }),
    );
  });
  return { answer, close: () => socket.destroy() };
}

/** The answer, or status -1 if none came within `ms` (a server that waits forever). */
const within = (answer: Promise<Answer>, ms: number) =>
  Promise.race([
    answer,
    new Promise<Answer>((r) => setTimeout(() => r({ status: -1, text: '', afterMs: ms }), ms)),
  ]);

describe('request bodies on keepsake serve', () => {
  it('cuts off a stalled body and a crawling body with 408 within the deadline', async () => {
    const s = await server({
      bodyTimeouts: { idleSeconds: 1, graceSeconds: 1.5, minBytesPerSecond: 2000 },
    });
    const { clientId, key } = clientFor(s, 'alice');
    const json = Buffer.from(JSON.stringify({ size: 1000 }).padEnd(4000, ' '));
    const headersFor = () => ({
      ...signedHeaders(clientId, key, 'POST', '/v1/uploads', json),
      'content-type': 'application/json',
      'content-length': String(json.length),
    });

    // A tenth of the body, then nothing.
    const stalled = slowRequest(s, 'POST', '/v1/uploads', headersFor(), (write) =>
      write(json.subarray(0, 400)),
    );
    // Ten bytes every 100 ms: never idle, but 100 bytes/s against 2000 required.
    let timer: NodeJS.Timeout | undefined;
    const crawling = slowRequest(s, 'POST', '/v1/uploads', headersFor(), (write) => {
      let at = 0;
      timer = setInterval(() => {
        write(json.subarray(at, at + 10));
        at += 10;
      }, 100);
    });
    try {
      const [a, b] = await Promise.all([
        within(stalled.answer, 6000),
        within(crawling.answer, 6000),
      ]);
      expect(a.status, a.text).toBe(408);
      expect(a.text).toContain('"code":"BODY_TIMEOUT"');
      expect(a.text).toMatch(/stopped arriving for 1 s/);
      expect(a.text.toLowerCase()).toContain('connection: close');
      expect(a.afterMs).toBeLessThan(2500);
      expect(b.status, b.text).toBe(408);
      expect(b.text).toMatch(/at least 2000 bytes\/s/);
      expect(b.afterMs).toBeLessThan(3500);
    } finally {
      clearInterval(timer);
      stalled.close();
      crawling.close();
    }
    // The audit log says what happened.
    const refusals = s.audit.query({}).filter((e) => e.detail?.startsWith('BODY_TIMEOUT'));
    expect(refusals).toHaveLength(2);
  });

  it('many stalled unsigned bodies do not hold server memory', async () => {
    const s = await server();
    // The attacker is another process, so that only the server's memory is measured here.
    const connections = 150;
    const attacker = `
      const tls = require('node:tls');
      const [port, n] = process.argv.slice(1).map(Number);
      const body = Buffer.alloc(1024 * 1024 - 1, 0x20);
      let settled = 0;
      for (let i = 0; i < n; i++) {
        const socket = tls.connect({ host: '127.0.0.1', port, rejectUnauthorized: false }, () => {
          socket.write('POST /v1/jobs HTTP/1.1\\r\\nhost: 127.0.0.1:' + port +
            '\\r\\ncontent-type: application/json\\r\\ncontent-length: 1048576\\r\\n\\r\\n');
          socket.write(body, () => { if (++settled === n) console.log('sent'); });
        });
        socket.on('error', () => undefined);
        socket.on('close', () => { if (++settled === n) console.log('sent'); });
      }
      setInterval(() => undefined, 1000);
    `;
    const before = process.memoryUsage();
    let peakBuffers = before.arrayBuffers;
    let peakRss = before.rss;
    const sampler = setInterval(() => {
      const m = process.memoryUsage();
      peakBuffers = Math.max(peakBuffers, m.arrayBuffers);
      peakRss = Math.max(peakRss, m.rss);
    }, 50);
    const child = spawn(process.execPath, ['-e', attacker, String(s.port), String(connections)], {
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    try {
      await new Promise<void>((resolve) => {
        const done = setTimeout(resolve, 8000);
        child.stdout.on('data', () => (clearTimeout(done), resolve()));
      });
      // Let the server do whatever it would do with what it was sent.
      await new Promise((r) => setTimeout(r, 1500));
    } finally {
      clearInterval(sampler);
      child.kill('SIGKILL');
    }
    const grewBuffers = peakBuffers - before.arrayBuffers;
    const grewRss = peakRss - before.rss;
    console.log(
      `${connections} stalled unsigned 1 MiB bodies: server buffers +${(grewBuffers / 2 ** 20).toFixed(1)} MiB, rss +${(grewRss / 2 ** 20).toFixed(1)} MiB`,
    );
    // Reading them all would hold ~150 MiB; refusing at the headers holds a few.
    expect(grewBuffers).toBeLessThan(24 * 2 ** 20);
  }, 30_000);

  it('holds at most 16 unverified JSON bodies per credential', async () => {
    const s = await server();
    const { clientId, client } = clientFor(s, 'alice');
    // Someone who knows alice's id (not a secret) but not her key: 20 stalled bodies.
    const forged = Array.from({ length: 20 }, () =>
      slowRequest(
        s,
        'POST',
        '/v1/uploads',
        {
          ...signedHeaders(clientId, randomBytes(32).toString('base64'), 'POST', '/v1/uploads'),
          'content-type': 'application/json',
          'content-length': String(1024 * 1024 - 1),
        },
        (write) => write(Buffer.alloc(64 * 1024, 0x20)),
      ),
    );
    try {
      const answers = await Promise.all(forged.map((f) => within(f.answer, 2500)));
      const statuses = answers.map((a) => a.status);
      expect(statuses.filter((st) => st === 503)).toHaveLength(4);
      expect(statuses.filter((st) => st === -1)).toHaveLength(16); // still waiting
    } finally {
      for (const f of forged) f.close();
    }
    // Once they are gone, alice is served again.
    await new Promise((r) => setTimeout(r, 300));
    expect((await client.createUpload(10)).size).toBe(10);
    await client.close();
  });

  it('refuses a pairing body larger than a pairing request before reading it', async () => {
    const s = await server();
    const big = slowRequest(
      s,
      'POST',
      '/v1/pair',
      { 'content-type': 'application/json', 'content-length': String(1024 * 1024 - 1) },
      (write) => write(Buffer.from('{"name":"')),
    );
    try {
      const answer = await within(big.answer, 3000);
      expect(answer.status, answer.text).toBe(413);
    } finally {
      big.close();
    }
  });

  it('a stalled unsigned PATCH does not block the owner’s chunk', async () => {
    const s = await server();
    const { clientId, client } = clientFor(s, 'alice');
    const upload = await client.createUpload(20);
    const path = `/v1/uploads/${upload.id}`;
    const chunk = Buffer.from('0123456789abcdefghij');
    const stalled = slowRequest(
      s,
      'PATCH',
      path,
      {
        'content-type': 'application/offset+octet-stream',
        'upload-offset': '0',
        'content-length': '20',
      },
      (write) => write(chunk.subarray(0, 5)),
    );
    // Someone who knows the owner's id but not the key: their forged chunk stalls too.
    const forged = slowRequest(
      s,
      'PATCH',
      path,
      {
        ...signedHeaders(clientId, randomBytes(32).toString('base64'), 'PATCH', path, chunk),
        'content-type': 'application/offset+octet-stream',
        'upload-offset': '0',
        'content-length': '20',
      },
      (write) => write(chunk.subarray(0, 5)),
    );
    try {
      const unsigned = await within(stalled.answer, 3000);
      expect(unsigned.status).toBe(401);
      await new Promise((r) => setTimeout(r, 200));
      const started = Date.now();
      const ok = await client.call('PATCH', path, {
        body: chunk,
        headers: { 'content-type': 'application/offset+octet-stream', 'upload-offset': '0' },
      });
      expect(ok.headers['upload-offset']).toBe('20');
      expect(Date.now() - started).toBeLessThan(2000);
      // The forged chunk gave way to the verified one.
      expect((await within(forged.answer, 3000)).status).toBe(409);
      expect((await client.upload(upload.id)).complete).toBe(true);
    } finally {
      stalled.close();
      forged.close();
      await client.close();
    }
  });

  it('the systemd unit caps the service memory (MemoryMax) below a throttle (MemoryHigh)', async () => {
    const unit = await readFile(
      new URL('../../../security/keepsake.service', import.meta.url),
      'utf8',
    );
    const bytes = (name: string) => {
      const m = new RegExp(`^${name}=(\\d+)([KMGT])?$`, 'm').exec(unit);
      if (!m) return undefined;
      return Number(m[1]) * 1024 ** ' KMGT'.indexOf(m[2] ?? ' ');
    };
    expect(bytes('MemoryMax')).toBeGreaterThanOrEqual(2 * 1024 ** 3);
    expect(bytes('MemoryHigh')).toBeLessThan(bytes('MemoryMax')!);
    expect(unit).toMatch(/^MemorySwapMax=0$/m);
  });
});
