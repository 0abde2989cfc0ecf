// FFmpeg reads its input from a loopback HTTP server, never from a decrypted temp file:
// plaintext stays in memory between the vault and FFmpeg. HTTP with Range (rather than a
// pipe) lets the demuxer seek, so an MP4 whose index sits at the end still opens.
//
// Other local users must not read the plaintext, and a command line is world-readable
// (/proc/<pid>/cmdline, ps). So the URL FFmpeg is given names no secret: FFmpeg reaches the
// server as its HTTP proxy (`http_proxy` in its environment, which only its own user can
// read), and the server answers only requests carrying that proxy URL's random 128-bit
// password, which FFmpeg sends after the 407 challenge (checked with FFmpeg 5.1, the npm
// 4.x FFmpeg and its FFprobe). On Linux each connection must also come from a socket of
// our own user (loopback-peer.ts), checked once it has given the password and before
// anything but the 407 is said. The server listens only on 127.0.0.1, and a web page
// (DNS rebinding) can send neither a proxy request nor the password.

import { randomBytes, timingSafeEqual } from 'node:crypto';
import type { FileHandle } from 'node:fs/promises';
import { open } from 'node:fs/promises';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { Readable } from 'node:stream';
import { parseRange } from '../core/byte-range';
import { KeepsakeError, fromFsError } from '../core/errors';
import type { VaultFile } from '../vault/vault-file';
import { allowPeer, listenOnLoopback } from './loopback-listen';

/** Plaintext bytes that can be read at any offset. */
export interface ByteSource {
  readonly size: number;
  /** Bytes [start, end); the stream fails rather than end early. */
  stream(start: number, end: number): Readable;
  close(): Promise<void>;
}

export function vaultByteSource(file: VaultFile): ByteSource {
  return {
    size: file.size,
    stream: (start, end) => file.rangeStream(start, end),
    close: () => file.close(),
  };
}

/** A plain file, opened read-only: the source of an encode that does not come from a vault. */
export async function plainByteSource(path: string): Promise<ByteSource> {
  let handle: FileHandle;
  try {
    handle = await open(path, 'r');
  } catch (err) {
    throw fromFsError(err, path, 'read');
  }
  let size: number;
  try {
    const info = await handle.stat();
    if (!info.isFile()) {
      throw new KeepsakeError('SOURCE_UNREADABLE', 'not a regular file', { file: path });
    }
    size = info.size;
  } catch (err) {
    await handle.close();
    throw fromFsError(err, path, 'read');
  }
  return {
    size,
    stream(start, end) {
      if (!Number.isInteger(start) || !Number.isInteger(end) || start < 0 || start > end) {
        throw new KeepsakeError('RANGE_NOT_SATISFIABLE', `range [${start}, ${end}) is invalid`, {
          file: path,
        });
      }
      if (end > size) {
        throw new KeepsakeError(
          'RANGE_NOT_SATISFIABLE',
          `range [${start}, ${end}) is outside 0..${size}`,
          { file: path },
        );
      }
      return Readable.from(readRange(handle, path, start, end), { objectMode: false });
    },
    close: () => handle.close(),
  };
}

const READ_SIZE = 256 * 1024;

// Positional reads on the shared handle, not handle.createReadStream(): destroying such a
// stream (as a dropped connection does) closes the handle under every other request.
async function* readRange(
  handle: FileHandle,
  path: string,
  start: number,
  end: number,
): AsyncGenerator<Buffer> {
  for (let position = start; position < end;) {
    const buffer = Buffer.alloc(Math.min(READ_SIZE, end - position));
    let bytesRead: number;
    try {
      ({ bytesRead } = await handle.read(buffer, 0, buffer.length, position));
    } catch (err) {
      throw fromFsError(err, path, 'read');
    }
    if (bytesRead === 0) {
      throw new KeepsakeError('SOURCE_UNREADABLE', 'the file shrank while it was read', {
        file: path,
      });
    }
    position += bytesRead;
    yield buffer.subarray(0, bytesRead);
  }
}

/** What FFmpeg or FFprobe needs to read a loopback source: a URL and its environment. */
export interface ToolInput {
  /** A URL naming no secret: give it to FFmpeg with `-protocol_whitelist http,tcp`. */
  readonly url: string;
  /** The tool's environment must include these (the proxy and its password). */
  readonly env: Readonly<Record<string, string>>;
  /**
   * Input options the tool must be given before `-i url` (none unless the source was
   * served in slices: see `sliceBytes`).
   */
  readonly readArgs?: readonly string[];
}

/**
 * What FFmpeg needs to read a source served in slices: at the end of a slice it asks for
 * the rest at once (one retry per read, no wait). A source that fails (a corrupt chunk)
 * fails the retry too, and FFmpeg then gives up on that read, as it does without slices.
 */
const SLICED_READ_ARGS = ['-reconnect', '1', '-reconnect_delay_max', '0'] as const;

/** The host every loopback URL names; `.invalid` never resolves, so only the proxy serves it. */
export const LOOPBACK_HOST = 'keepsake.invalid';
const MEDIA_PATH = '/media';
/** Where small documents served beside the media live (`<url>/docs/<name>`). */
const DOCS_PATH = '/docs/';
const DOC_NAME = /^[a-z0-9-]{1,32}(\/[a-z0-9-]{1,32})?$/;
const PROXY_USER = 'keepsake';

export interface LoopbackSource extends ToolInput {
  /** The base URL of the documents given to serveLoopback: `<docsUrl>/<name>`. */
  readonly docsUrl: string;
  /** Body bytes sent so far, over all requests. */
  readonly bytesServed: number;
  /**
   * The first error the source raised while streaming (e.g. PAYLOAD_CORRUPT), or
   * undefined. FFmpeg only sees a reset connection, logs it and (without `-xerror`) still
   * exits 0 with frames missing, so a job must check this after FFmpeg exits, whatever
   * its exit code, and report this error instead.
   */
  readonly error: unknown;
  /** Stops the server and drops open connections; the ByteSource stays open (caller owns it). */
  close(): Promise<void>;
}

/**
 * Serves `source` at a fresh unguessable URL on 127.0.0.1 until close(). `onRequest` sees
 * the Range header of every request received, before any check (tests use it to prove
 * what FFmpeg asked for, and that it asked for nothing else). `documents` are small texts
 * served beside it, behind the same password, at `docsUrl/<name>` (a job's FFmetadata:
 * what must not appear on FFmpeg's command line reaches it this way).
 */
export async function serveLoopback(
  source: ByteSource,
  options: {
    onRequest?: (range: string | undefined) => void;
    documents?: Readonly<Record<string, string>>;
    /**
     * Answer an open-ended range (`bytes=N-`, which is how FFmpeg asks after a seek) with
     * at most this many bytes. A tool that seeks often (the library's pictures: ten
     * points in a video) drops each answer after reading a little of it, and by then the
     * server has decrypted and pushed megabytes into the loopback socket's buffers: 92 MB
     * served for an 18 MB clip. With slices the waste per seek is one slice. The tool
     * must be given `readArgs`, or it takes the end of a slice for the end of the file.
     */
    sliceBytes?: number;
  } = {},
): Promise<LoopbackSource> {
  const documents = new Map<string, ByteSource>();
  for (const [name, text] of Object.entries(options.documents ?? {})) {
    if (!DOC_NAME.test(name)) {
      throw new KeepsakeError('INTERNAL', `a loopback document cannot be named "${name}"`);
    }
    documents.set(name, bufferByteSource(Buffer.from(text, 'utf8')));
  }
  const password = randomBytes(16).toString('hex');
  const expectedAuth = Buffer.from(
    `Basic ${Buffer.from(`${PROXY_USER}:${password}`).toString('base64')}`,
  );
  let bytesServed = 0;
  let firstError: unknown;

  const fail = (res: ServerResponse, err: unknown) => {
    firstError ??= err;
    // A reset, not a clean close: FFmpeg then reports a read error instead of taking a
    // short body for the end of the file.
    if (res.socket) res.socket.resetAndDestroy();
    else res.destroy();
  };

  const handle = (req: IncomingMessage, res: ServerResponse) => {
    const range = req.headers.range;
    options.onRequest?.(range);
    const auth = Buffer.from(req.headers['proxy-authorization'] ?? '');
    if (auth.length !== expectedAuth.length || !timingSafeEqual(auth, expectedAuth)) {
      return reply(res, 407, { 'Proxy-Authenticate': 'Basic realm="keepsake"' });
    }
    // Another user's socket is dropped here, before it is told anything more.
    if (!allowPeer(req.socket)) return;
    const target = loopbackTarget(req.url);
    const served =
      target === MEDIA_PATH
        ? source
        : target?.startsWith(DOCS_PATH)
          ? documents.get(target.slice(DOCS_PATH.length))
          : undefined;
    if (!served) return reply(res, 404);
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      return reply(res, 405, { Allow: 'GET, HEAD' });
    }

    const size = served.size;
    const parsed = parseRange(range, size);
    if (parsed === 'unsatisfiable') {
      return reply(res, 416, { 'Content-Range': `bytes */${size}` });
    }
    const { start, end } = sliced(parsed, range, size, options.sliceBytes);
    const headers: Record<string, string | number> = {
      'Content-Type': 'application/octet-stream',
      'Content-Length': end - start,
      'Accept-Ranges': 'bytes',
      'Cache-Control': 'no-store',
    };
    if (parsed) headers['Content-Range'] = `bytes ${start}-${end - 1}/${size}`;
    res.writeHead(parsed ? 206 : 200, headers);
    if (req.method === 'HEAD' || start === end) {
      res.end();
      return;
    }

    let body: Readable;
    try {
      body = served.stream(start, end);
    } catch (err) {
      return fail(res, err);
    }
    let sent = 0;
    body.on('data', (chunk: Buffer) => {
      sent += chunk.length;
      bytesServed += chunk.length;
    });
    body.on('error', (err) => fail(res, err));
    body.on('end', () => {
      if (sent === end - start) res.end();
      else {
        fail(
          res,
          new KeepsakeError('TRUNCATED', `the source ended after ${sent} of ${end - start} bytes`),
        );
      }
    });
    // FFmpeg seeks by dropping a connection and opening another: that is no error, but
    // the source stream must stop reading (and decrypting) at once.
    res.on('close', () => body.destroy());
    body.pipe(res, { end: false });
  };

  const server = createServer(handle);
  const hostPort = await listenOnLoopback(server, 'by-handler');

  return {
    url: `http://${LOOPBACK_HOST}${MEDIA_PATH}`,
    readArgs: options.sliceBytes ? SLICED_READ_ARGS : [],
    docsUrl: `http://${LOOPBACK_HOST}${DOCS_PATH.slice(0, -1)}`,
    env: {
      http_proxy: `http://${PROXY_USER}:${password}@${hostPort}`,
      // The output sink is reached directly, never through this proxy.
      no_proxy: '127.0.0.1',
    },
    get bytesServed() {
      return bytesServed;
    },
    get error() {
      return firstError;
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

/** The bytes to send for a request: its range, cut to one slice when it is open-ended. */
function sliced(
  parsed: { start: number; end: number } | undefined,
  header: string | undefined,
  size: number,
  sliceBytes: number | undefined,
): { start: number; end: number } {
  const { start, end } = parsed ?? { start: 0, end: size };
  // Only a range that asked for "the rest" is cut: a 206 whose Content-Range ends early
  // is an answer the client can read; a 200 without a Range header must be whole.
  if (!parsed || !sliceBytes || !/^\s*bytes\s*=\s*\d+\s*-\s*$/i.test(header ?? '')) {
    return { start, end };
  }
  return { start, end: Math.min(end, start + sliceBytes) };
}

/**
 * The path a proxy request names (absolute-form, as FFmpeg sends it), when it names our
 * host and nothing else (no query); undefined for anything else.
 */
function loopbackTarget(target: string | undefined): string | undefined {
  if (!target?.startsWith('http://')) return undefined;
  try {
    const url = new URL(target);
    return url.hostname === LOOPBACK_HOST && url.search === '' ? url.pathname : undefined;
  } catch {
    return undefined;
  }
}

/** Bytes in memory, served like a file. */
function bufferByteSource(bytes: Buffer): ByteSource {
  return {
    size: bytes.length,
    stream: (start, end) => Readable.from([bytes.subarray(start, end)], { objectMode: false }),
    close: () => Promise.resolve(),
  };
}

/** A bodiless answer: the status says all a stranger needs to know. */
function reply(res: ServerResponse, status: number, headers: Record<string, string> = {}): void {
  res.writeHead(status, { ...headers, 'Content-Length': 0 });
  res.end();
}
