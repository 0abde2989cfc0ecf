// FFmpeg reads its input from a loopback HTTP server, never from a decrypted temp file:
// plaintext stays in memory between the vault and FFmpeg. HTTP with Range (rather than a
// pipe) lets the demuxer seek, so an MP4 whose index sits at the end still opens.
//
// The server answers only on 127.0.0.1, only at a random 128-bit path, and only to
// requests naming that exact host, so other local users, and web pages trying DNS
// rebinding, cannot read the plaintext.

import { randomBytes, timingSafeEqual } from 'node:crypto';
import type { FileHandle } from 'node:fs/promises';
import { open } from 'node:fs/promises';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { Readable } from 'node:stream';
import { KeepsakeError, fromFsError } from '../errors';
import type { VaultFile } from '../vault/vault-file';
import { listenOnLoopback } from './loopback-listen';

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

export interface LoopbackSource {
  /** `http://127.0.0.1:<port>/<secret>`: give it to FFmpeg with `-protocol_whitelist http,tcp`. */
  readonly url: string;
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

type Range = { start: number; end: number } | 'unsatisfiable' | undefined;

/**
 * One `bytes=` range (RFC 9110 §14.1.2) as [start, end), 'unsatisfiable', or undefined
 * when the header is absent or ignored. A multi-range request is ignored (the whole body
 * is sent with 200, as the RFC allows): FFmpeg never asks for one, and multipart bodies
 * are not worth the code. Malformed headers are ignored too, as the RFC says.
 */
export function parseRange(header: string | undefined, size: number): Range {
  if (header === undefined) return undefined;
  const match = /^\s*bytes\s*=\s*(\d*)\s*-\s*(\d*)\s*$/i.exec(header);
  if (!match) return undefined;
  const [, first = '', last = ''] = match;
  if (first === '' && last === '') return undefined;
  if (first === '') {
    // Suffix range: the last n bytes.
    const n = Number(last);
    if (n === 0 || size === 0) return 'unsatisfiable';
    return { start: Math.max(0, size - n), end: size };
  }
  const start = Number(first);
  if (last !== '' && Number(last) < start) return undefined;
  if (start >= size) return 'unsatisfiable';
  const end = last === '' ? size : Math.min(Number(last) + 1, size);
  return { start, end };
}

/**
 * Serves `source` at a fresh unguessable URL on 127.0.0.1 until close(). `onRequest` sees
 * the Range header of every request received, before any check (tests use it to prove
 * what FFmpeg asked for, and that it asked for nothing else).
 */
export async function serveLoopback(
  source: ByteSource,
  options: { onRequest?: (range: string | undefined) => void } = {},
): Promise<LoopbackSource> {
  const secret = Buffer.from(`/${randomBytes(16).toString('hex')}`);
  let bytesServed = 0;
  let firstError: unknown;
  let expectedHost = '';

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
    if (req.headers.host !== expectedHost) return reply(res, 403);
    const path = Buffer.from(req.url ?? '');
    if (path.length !== secret.length || !timingSafeEqual(path, secret)) return reply(res, 404);
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      return reply(res, 405, { Allow: 'GET, HEAD' });
    }

    const size = source.size;
    const parsed = parseRange(range, size);
    if (parsed === 'unsatisfiable') {
      return reply(res, 416, { 'Content-Range': `bytes */${size}` });
    }
    const { start, end } = parsed ?? { start: 0, end: size };
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
      body = source.stream(start, end);
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
  expectedHost = await listenOnLoopback(server);

  return {
    url: `http://${expectedHost}${secret.toString()}`,
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

/** A bodiless answer: the status says all a stranger needs to know. */
function reply(res: ServerResponse, status: number, headers: Record<string, string> = {}): void {
  res.writeHead(status, { ...headers, 'Content-Length': 0 });
  res.end();
}
