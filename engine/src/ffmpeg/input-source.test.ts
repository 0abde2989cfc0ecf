// The loopback source over real sockets: Range semantics as FFmpeg uses them, the guards
// that keep other local clients out, byte-exact vault reads, and failures that must reach
// FFmpeg as errors (never as a short file).

import { randomBytes } from 'node:crypto';
import { mkdir, readFile, truncate, writeFile } from 'node:fs/promises';
import { request, type IncomingHttpHeaders, type RequestOptions } from 'node:http';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { isKeepsakeError } from '../core/errors';
import { freshDir, TEST_SCRYPT } from '../testing/tmp';
import { CHUNK_SIZE, PREFIX_SIZE, SEALED_CHUNK_SIZE } from '../vault/chunked';
import { createVault } from '../vault/keyring';
import { VaultFile, writeVaultFile } from '../vault/vault-file';
import { parseRange } from '../core/byte-range';
import {
  plainByteSource,
  serveLoopback,
  vaultByteSource,
  type ByteSource,
  type ToolInput,
} from './input-source';

interface Reply {
  status: number;
  headers: IncomingHttpHeaders;
  body: Buffer;
}

/** A request to the source as FFmpeg sends it: to its proxy, with the proxy's password. */
function proxied(lb: ToolInput, options: FetchOptions = {}): RequestOptions {
  const proxy = new URL(lb.env.http_proxy!);
  const password = `${decodeURIComponent(proxy.username)}:${decodeURIComponent(proxy.password)}`;
  return {
    host: proxy.hostname,
    port: proxy.port,
    path: options.path ?? lb.url,
    method: options.method ?? 'GET',
    headers: {
      ...(options.auth === false
        ? {}
        : {
            'Proxy-Authorization': `Basic ${Buffer.from(options.auth ?? password).toString('base64')}`,
          }),
      ...options.headers,
    },
    agent: false,
  };
}

interface FetchOptions {
  method?: string;
  headers?: Record<string, string>;
  /** The request target; the source's URL (absolute-form) by default. */
  path?: string;
  /** `user:password` for the proxy; false for none. */
  auth?: string | false;
}

/** One request on its own connection; rejects when the server resets it. */
function fetchRaw(lb: ToolInput, options: FetchOptions = {}): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const req = request(proxied(lb, options), (res) => {
      const parts: Buffer[] = [];
      res.on('data', (part: Buffer) => parts.push(part));
      res.on('error', reject);
      res.on('aborted', () => reject(new Error('response aborted')));
      res.on('end', () =>
        resolve({
          status: res.statusCode ?? 0,
          headers: res.headers,
          body: Buffer.concat(parts),
        }),
      );
    });
    req.on('error', reject);
    req.end();
  });
}

async function plainFixture(size: number) {
  const dir = await freshDir();
  const data = randomBytes(size);
  const path = join(dir, 'clip.bin');
  await writeFile(path, data);
  return { dir, data, path, source: await plainByteSource(path) };
}

async function vaultFixture(size: number) {
  const dir = await freshDir();
  const { vault } = await createVault(join(dir, 'vault'), 'pw', {
    scrypt: TEST_SCRYPT,
    recovery: false,
  });
  const data = randomBytes(size);
  const path = join(dir, 'clip.ksv');
  await writeVaultFile(Readable.from([data]), path, vault, {
    name: 'clip.mp4',
    size,
    mtimeMs: 0,
    mediaType: 'video/mp4',
  });
  return { dir, vault, data, path };
}

/** Counts streams opened and closed, to show that dropped connections leak none. */
function tracked(inner: ByteSource) {
  const counts = { opened: 0, closed: 0 };
  const source: ByteSource = {
    size: inner.size,
    stream(start, end) {
      const stream = inner.stream(start, end);
      counts.opened++;
      stream.on('close', () => counts.closed++);
      return stream;
    },
    close: () => inner.close(),
  };
  return { source, counts };
}

async function until(condition: () => boolean, timeoutMs = 3000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

describe('parseRange', () => {
  it.each([
    ['bytes=0-9', { start: 0, end: 10 }],
    ['bytes=10-', { start: 10, end: 100 }],
    ['bytes=90-500', { start: 90, end: 100 }],
    ['bytes=-5', { start: 95, end: 100 }],
    ['bytes=-500', { start: 0, end: 100 }],
    ['BYTES = 1 - 2', { start: 1, end: 3 }],
    ['bytes=100-', 'unsatisfiable'],
    ['bytes=-0', 'unsatisfiable'],
    ['bytes=5-2', undefined],
    ['bytes=0-1,5-6', undefined],
    ['items=0-1', undefined],
    ['bytes=-', undefined],
    [undefined, undefined],
  ])('%s of 100 bytes → %j', (header, expected) => {
    expect(parseRange(header, 100)).toEqual(expected);
  });

  it('finds nothing satisfiable in an empty source', () => {
    expect(parseRange('bytes=0-', 0)).toBe('unsatisfiable');
    expect(parseRange('bytes=-1', 0)).toBe('unsatisfiable');
  });
});

describe('serveLoopback', () => {
  it('answers Range requests as FFmpeg expects', async () => {
    const { data, source } = await plainFixture(1000);
    const ranges: (string | undefined)[] = [];
    const lb = await serveLoopback(source, { onRequest: (range) => ranges.push(range) });
    // The URL a command line shows names no secret; the password is in the environment.
    expect(lb.url).toBe('http://keepsake.invalid/media');
    expect(lb.env.http_proxy).toMatch(/^http:\/\/keepsake:[0-9a-f]{32}@127\.0\.0\.1:\d+$/);

    const whole = await fetchRaw(lb);
    expect(whole.status).toBe(200);
    expect(whole.headers['accept-ranges']).toBe('bytes');
    expect(whole.headers['content-length']).toBe('1000');
    expect(whole.headers['content-type']).toBe('application/octet-stream');
    expect(whole.body.equals(data)).toBe(true);

    const middle = await fetchRaw(lb, { headers: { Range: 'bytes=10-19' } });
    expect(middle.status).toBe(206);
    expect(middle.headers['content-range']).toBe('bytes 10-19/1000');
    expect(middle.headers['content-length']).toBe('10');
    expect(middle.body.equals(data.subarray(10, 20))).toBe(true);

    const open = await fetchRaw(lb, { headers: { Range: 'bytes=990-' } });
    expect(open.status).toBe(206);
    expect(open.body.equals(data.subarray(990))).toBe(true);

    const suffix = await fetchRaw(lb, { headers: { Range: 'bytes=-7' } });
    expect(suffix.status).toBe(206);
    expect(suffix.headers['content-range']).toBe('bytes 993-999/1000');
    expect(suffix.body.equals(data.subarray(993))).toBe(true);

    const clamped = await fetchRaw(lb, { headers: { Range: 'bytes=995-5000' } });
    expect(clamped.headers['content-range']).toBe('bytes 995-999/1000');

    for (const range of ['bytes=1000-', 'bytes=-0']) {
      const beyond = await fetchRaw(lb, { headers: { Range: range } });
      expect(beyond.status).toBe(416);
      expect(beyond.headers['content-range']).toBe('bytes */1000');
      expect(beyond.body.length).toBe(0);
    }

    // Multi-range and malformed headers are ignored: the whole body, with 200.
    for (const range of ['bytes=0-1,5-6', 'bytes=9-3']) {
      const ignored = await fetchRaw(lb, { headers: { Range: range } });
      expect(ignored.status).toBe(200);
      expect(ignored.body.equals(data)).toBe(true);
    }

    const head = await fetchRaw(lb, { method: 'HEAD', headers: { Range: 'bytes=0-99' } });
    expect(head.status).toBe(206);
    expect(head.headers['content-length']).toBe('100');
    expect(head.body.length).toBe(0);

    expect(ranges).toContain('bytes=-7');
    expect(lb.bytesServed).toBe(1000 + 10 + 10 + 7 + 5 + 2 * 1000);
    expect(lb.error).toBeUndefined();
    await lb.close();
    await source.close();
  });

  it('turns away requests without the password, other targets and methods, saying nothing', async () => {
    const { source } = await plainFixture(100);
    const lb = await serveLoopback(source);
    const port = new URL(lb.env.http_proxy!).port;
    const challenge = { 'proxy-authenticate': 'Basic realm="keepsake"' };
    const cases: [FetchOptions, number, Record<string, string>?][] = [
      // What a reader of FFmpeg's command line knows: the URL, but not the password.
      [{ auth: false }, 407, challenge],
      [{ auth: false, path: '/media', headers: { Host: 'keepsake.invalid' } }, 407, challenge],
      [{ auth: 'keepsake:0123456789abcdef0123456789abcdef' }, 407, challenge],
      [{ auth: 'keepsake:' }, 407, challenge],
      // The password, but for some other target.
      [{ path: '/media' }, 404],
      [{ path: 'http://keepsake.invalid/media?a=1' }, 404],
      [{ path: 'http://keepsake.invalid/MEDIA' }, 404],
      [{ path: 'http://keepsake.invalid/../etc/passwd' }, 404],
      [{ path: `http://127.0.0.1:${port}/media` }, 404],
      [{ path: 'http://evil.example/media' }, 404],
      [{ method: 'POST' }, 405],
      [{ method: 'PUT' }, 405],
    ];
    for (const [options, status, headers = {}] of cases) {
      const reply = await fetchRaw(lb, options);
      expect({ options, status: reply.status, body: reply.body.length }).toEqual({
        options,
        status,
        body: 0,
      });
      expect(reply.headers).toMatchObject(headers);
    }
    expect(lb.bytesServed).toBe(0);
    await lb.close();
    await source.close();
  });

  it('serves a vault file byte for byte at any range', async () => {
    const { vault, data, path } = await vaultFixture(5 * CHUNK_SIZE + 123);
    const file = await VaultFile.open(path, { vault });
    const source = vaultByteSource(file);
    const lb = await serveLoopback(source);
    await fc.assert(
      fc.asyncProperty(fc.nat(data.length - 1), fc.nat(data.length - 1), async (x, y) => {
        const [a, b] = x <= y ? [x, y] : [y, x];
        const reply = await fetchRaw(lb, { headers: { Range: `bytes=${a}-${b}` } });
        expect(reply.status).toBe(206);
        expect(reply.body.equals(data.subarray(a, b + 1))).toBe(true);
      }),
      { numRuns: 50 },
    );
    expect((await fetchRaw(lb)).body.equals(data)).toBe(true);
    expect(lb.error).toBeUndefined();
    await lb.close();
    // close() left the source open: the caller owns it.
    expect((await file.read(0, 10)).equals(data.subarray(0, 10))).toBe(true);
    await source.close();
  });

  it('resets the connection on a corrupt chunk and remembers PAYLOAD_CORRUPT', async () => {
    const { vault, data, path } = await vaultFixture(4 * CHUNK_SIZE);
    const stored = await readFile(path);
    const payloadAt = 9 + stored.readUInt32BE(5);
    stored[payloadAt + PREFIX_SIZE + 2 * SEALED_CHUNK_SIZE + 100]! ^= 0x01;
    await writeFile(path, stored);

    const source = vaultByteSource(await VaultFile.open(path, { vault }));
    const lb = await serveLoopback(source);
    // Chunks before the damage still read fine.
    const early = await fetchRaw(lb, { headers: { Range: `bytes=0-${CHUNK_SIZE - 1}` } });
    expect(early.body.equals(data.subarray(0, CHUNK_SIZE))).toBe(true);
    expect(lb.error).toBeUndefined();

    await expect(fetchRaw(lb)).rejects.toThrow();
    expect(isKeepsakeError(lb.error, 'PAYLOAD_CORRUPT')).toBe(true);
    expect(String(lb.error)).toContain('clip.ksv');
    // The first error stays the one reported, whatever follows.
    const first = lb.error;
    const again = { Range: `bytes=${2 * CHUNK_SIZE}-${2 * CHUNK_SIZE + 9}` };
    await expect(fetchRaw(lb, { headers: again })).rejects.toThrow();
    expect(lb.error).toBe(first);
    await lb.close();
    await source.close();
  });

  it('takes dropped connections (FFmpeg seeking) calmly and stops their streams', async () => {
    const { source: plain } = await plainFixture(16 * 1024 * 1024);
    const { source, counts } = tracked(plain);
    const lb = await serveLoopback(source);
    for (let i = 0; i < 3; i++) {
      await new Promise<void>((resolve, reject) => {
        const req = request(proxied(lb), (res) => {
          res.once('data', () => {
            req.destroy();
            resolve();
          });
        });
        req.on('error', (err) => (req.destroyed ? undefined : reject(err)));
        req.end();
      });
    }
    await until(() => counts.closed === 3);
    expect(counts.opened).toBe(3);
    expect(lb.bytesServed).toBeLessThan(16 * 1024 * 1024);
    expect(lb.error).toBeUndefined();
    // The shared file handle survived the dropped streams.
    expect((await fetchRaw(lb, { headers: { Range: 'bytes=0-3' } })).body.length).toBe(4);
    await lb.close();
    await plain.close();
  });

  it('close() drops open connections and stops listening', async () => {
    const { source: plain } = await plainFixture(16 * 1024 * 1024);
    const { source, counts } = tracked(plain);
    const lb = await serveLoopback(source);
    // A client that reads one chunk and then stalls, holding the connection open.
    const stalled = new Promise<void>((resolve) => {
      const req = request(proxied(lb), (res) => {
        res.once('data', () => {
          res.pause();
          resolve();
        });
        res.on('error', () => undefined);
      });
      req.on('error', () => undefined);
      req.end();
    });
    await stalled;
    await lb.close();
    await until(() => counts.closed === counts.opened);
    await expect(fetchRaw(lb)).rejects.toMatchObject({ code: 'ECONNREFUSED' });
    await plain.close();
  });
});

describe('plainByteSource', () => {
  it('reads ranges of a file and keeps its handle across dropped streams', async () => {
    const { data, source } = await plainFixture(300_000);
    const first = source.stream(0, 300_000);
    first.destroy();
    const parts: Buffer[] = [];
    for await (const part of source.stream(5, 299_990)) parts.push(part as Buffer);
    expect(Buffer.concat(parts).equals(data.subarray(5, 299_990))).toBe(true);
    expect(() => source.stream(0, 300_001)).toThrow(
      expect.objectContaining({ code: 'RANGE_NOT_SATISFIABLE' }),
    );
    await source.close();
  });

  it('refuses folders and missing files', async () => {
    const dir = await freshDir();
    await mkdir(join(dir, 'folder'));
    await expect(plainByteSource(join(dir, 'folder'))).rejects.toMatchObject({
      code: 'SOURCE_UNREADABLE',
    });
    await expect(plainByteSource(join(dir, 'missing.mp4'))).rejects.toMatchObject({
      code: 'NOT_FOUND',
    });
  });

  it('reports a file that shrank while served as an error, not a short body', async () => {
    const { path, source } = await plainFixture(100_000);
    const lb = await serveLoopback(source);
    await truncate(path, 50_000);
    await expect(fetchRaw(lb)).rejects.toThrow();
    expect(isKeepsakeError(lb.error, 'SOURCE_UNREADABLE')).toBe(true);
    await lb.close();
    await source.close();
  });
});
