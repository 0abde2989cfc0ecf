// FFmpeg writes its outputs into a loopback HTTP sink, never into a folder: each output
// file (a video, an image, every HLS segment and playlist) arrives as one PUT or POST and
// is encrypted on the way in, so decrypted media never touches a disk, whatever the OS.
// (The mirror image of input-source.ts, which feeds FFmpeg its decrypted input.)
//
// A vault file's header states the plaintext size, and the payload's key is bound to the
// header, so a file cannot be sealed before its size is known, and FFmpeg sends chunked
// bodies of unknown length. So a body is held in memory while it is small (segments,
// playlists, images); a larger one is spooled to disk encrypted under a key that lives
// only in this process (a killed engine leaves unreadable bytes), then sealed into its
// vault file once complete. Each output is sealed atomically: a playlist FFmpeg rewrites
// replaces the earlier version, and a cut upload leaves nothing under its name.
//
// FFmpeg does not wait for our answer to a write (its HTTP client never reads it), so a
// failure here cannot fail FFmpeg: the job must check `error` after FFmpeg exits and call
// settle() to wait for the last uploads to be sealed.
//
// Like the input, the sink answers only on 127.0.0.1, only under a random 128-bit path,
// and only to requests naming that exact host. FFmpeg's writes cannot carry a password
// from its environment (it never reads the answer to a write, so never sees a proxy's
// 407), so the path is on FFmpeg's command line: on Linux the sink therefore also drops
// every connection from another user's socket (loopback-listen.ts). For that check to
// see FFmpeg's own socket, FFmpeg must still hold it when we accept the connection; a
// small output is otherwise sent and closed before, and a closed socket has no owner
// any more. So the sink's URL carries a (public) user name and password: FFmpeg then
// sends `Expect: 100-continue` with every write (FFmpeg 4.x and 5.x do, when a URL has
// credentials) and waits for our 100 before sending the body, and a connection whose
// client is already gone when accepted can be refused like another user's.

import { randomBytes, timingSafeEqual } from 'node:crypto';
import { createReadStream, createWriteStream } from 'node:fs';
import { mkdir, rm } from 'node:fs/promises';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { dirname, join } from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { KeepsakeError } from '../core/errors';
import { hexId } from '../core/ids';
import { DecryptStream, EncryptStream } from '../vault/chunked-stream';
import type { Vault } from '../vault/keyring';
import { mediaTypeFor } from '../vault/media-type';
import { writeVaultFile } from '../vault/vault-file';
import { listenOnLoopback } from './loopback-listen';

/** One output, sealed into `<dir>/<name>.ksv`. */
export interface SealedOutput {
  name: string;
  path: string;
  /** Plaintext bytes. */
  size: number;
  /** Bytes on disk. */
  storedSize: number;
}

export interface OutputSink {
  /** `http://keepsake:continue@127.0.0.1:<port>/<secret>`: FFmpeg writes `<url>/<name>`. */
  readonly url: string;
  /** The first failure to receive or seal an output, or undefined. */
  readonly error: unknown;
  /** Waits for every upload under way, then returns the outputs sealed so far, by name. */
  settle(): Promise<ReadonlyMap<string, SealedOutput>>;
  /** Stops the server and drops open connections (an upload cut short leaves nothing). */
  close(): Promise<void>;
}

export interface SinkOptions {
  /** Where the sealed outputs go (the job's staging folder). */
  dir: string;
  vault: Vault;
  /** Bodies up to this size are held in memory; larger ones are spooled, encrypted. */
  memoryLimit?: number;
  /**
   * A rewrite of the output named, before it is sealed (the engine's own metadata in a
   * WebP, which FFmpeg cannot write); undefined keeps it as written. It sees the body as
   * it arrives, then rewrites a second read of it, so bodies too large to hold in memory
   * (spooled) pass through it too.
   */
  finish?: (name: string) => BodyRewrite | undefined;
  /** Called for each upload received, before any check (tests). */
  onRequest?: (method: string | undefined, path: string | undefined) => void;
}

/** A streaming rewrite of one body (ffmpeg/webp-metadata.ts's WebpRewrite is one). */
export interface BodyRewrite {
  /** Every byte of the body as it arrives, in order. */
  see(part: Buffer): void;
  /**
   * Once the whole body was seen: the size of the rewritten body (throws or rejects to
   * refuse it). A promise when the rewrite must first be made to be measured (an AVIF).
   */
  size(): number | Promise<number>;
  /** The rewritten body, from the body's bytes read again in order. */
  rewrite(body: AsyncIterable<Buffer> | Iterable<Buffer>): AsyncIterable<Buffer>;
}

/** Output names FFmpeg may use: a few plain path segments, nothing that climbs. */
const NAME = /^(?:[A-Za-z0-9_-][A-Za-z0-9._-]{0,99}\/){0,3}[A-Za-z0-9_-][A-Za-z0-9._-]{0,99}$/;

export const SPOOL_DIR = '.spool';
/** Not a secret: credentials in a URL make FFmpeg wait for `100 Continue` (see above). */
const EXPECT_CONTINUE = 'keepsake:continue';
const DEFAULT_MEMORY_LIMIT = 16 * 1024 * 1024;

export function validOutputName(name: string): boolean {
  return NAME.test(name) && !name.split('/').some((part) => part.endsWith('.'));
}

export async function serveOutputSink(options: SinkOptions): Promise<OutputSink> {
  const secret = `/${randomBytes(16).toString('hex')}`;
  const prefix = Buffer.from(`${secret}/`);
  const memoryLimit = options.memoryLimit ?? DEFAULT_MEMORY_LIMIT;
  // Spools are readable only by this process: the key is never written down.
  const spoolKey = randomBytes(32);
  const sealed = new Map<string, SealedOutput>();
  const inFlight = new Set<Promise<void>>();
  /** Per name, the last upload: a re-upload is sealed only after the one before it. */
  const lastByName = new Map<string, Promise<void>>();
  let firstError: unknown;
  let expectedHost = '';

  const receive = async (
    name: string,
    req: IncomingMessage,
    previous: Promise<void>,
  ): Promise<void> => {
    const chunks = req[Symbol.asyncIterator]() as AsyncIterator<Buffer>;
    const rewrite = options.finish?.(name);
    const held: Buffer[] = [];
    let heldBytes = 0;
    let ended = false;
    while (heldBytes <= memoryLimit) {
      const next = await chunks.next();
      if (next.done) {
        ended = true;
        break;
      }
      rewrite?.see(next.value);
      held.push(next.value);
      heldBytes += next.value.length;
    }
    const dest = join(options.dir, `${name}.ksv`);
    await mkdir(dirname(dest), { recursive: true, mode: 0o700 });
    if (ended) {
      await previous.catch(() => undefined);
      if (rewrite) {
        const size = await rewrite.size();
        await seal(name, dest, Readable.from(rewrite.rewrite(held), { objectMode: false }), size);
        // The plaintext as FFmpeg wrote it does not linger until the next GC.
        for (const part of held) part.fill(0);
      } else {
        await seal(name, dest, Readable.from(held, { objectMode: false }), heldBytes);
      }
      return;
    }
    // Too large to hold: spool the body encrypted, learn its size, then seal it.
    const spoolDir = join(options.dir, SPOOL_DIR);
    await mkdir(spoolDir, { recursive: true, mode: 0o700 });
    const spool = join(spoolDir, hexId(8));
    const context = Buffer.from(spool);
    let size = 0;
    async function* body(): AsyncGenerator<Buffer> {
      for (const part of held.splice(0)) {
        size += part.length;
        yield part;
      }
      for (let next = await chunks.next(); !next.done; next = await chunks.next()) {
        rewrite?.see(next.value);
        size += next.value.length;
        yield next.value;
      }
    }
    try {
      await pipeline(
        Readable.from(body(), { objectMode: false }),
        new EncryptStream(spoolKey, context),
        createWriteStream(spool, { flags: 'wx', mode: 0o600 }),
      );
      const ciphertext = createReadStream(spool);
      const plain = new DecryptStream(spoolKey, context);
      ciphertext.on('error', (err) => plain.destroy(err));
      await previous.catch(() => undefined);
      const decrypted = ciphertext.pipe(plain);
      if (rewrite) {
        const rewritten = await rewrite.size();
        const body = Readable.from(rewrite.rewrite(decrypted), { objectMode: false });
        // A failure to read the spool back fails the seal, not the process.
        body.on('error', () => decrypted.destroy());
        await seal(name, dest, body, rewritten);
      } else {
        await seal(name, dest, decrypted, size);
      }
    } finally {
      await rm(spool, { force: true });
    }
  };

  const seal = async (name: string, dest: string, body: Readable, size: number) => {
    const meta = { name, size, mtimeMs: Date.now(), mediaType: mediaTypeFor(name) };
    const written = await writeVaultFile(body, dest, options.vault, meta, { overwrite: true });
    sealed.set(name, { name, path: dest, size, storedSize: written.storedSize });
  };

  const handle = (req: IncomingMessage, res: ServerResponse) => {
    options.onRequest?.(req.method, req.url);
    if (req.headers.host !== expectedHost) return reply(res, 403);
    const path = Buffer.from(req.url ?? '');
    if (path.length <= prefix.length || !timingSafeEqual(path.subarray(0, prefix.length), prefix)) {
      return reply(res, 404);
    }
    if (req.method !== 'PUT' && req.method !== 'POST') {
      return reply(res, 405, { Allow: 'PUT, POST' });
    }
    const name = path.subarray(prefix.length).toString();
    if (!validOutputName(name)) return reply(res, 400);

    const upload = receive(name, req, lastByName.get(name) ?? Promise.resolve()).then(
      () => reply(res, 201),
      (err: unknown) => {
        // A connection cut short (FFmpeg cancelled or killed) is no sink failure: it leaves
        // nothing under the name, and the job already knows why FFmpeg stopped.
        if (!req.complete) {
          res.destroy();
          return;
        }
        firstError ??= err;
        reply(res, 500);
      },
    );
    lastByName.set(name, upload);
    inFlight.add(upload);
    void upload.finally(() => inFlight.delete(upload));
  };

  const server = createServer(handle);
  // FFmpeg half-closes its connection as soon as it has sent a body, without waiting for
  // our answer, while the body may still sit unread in our buffers (we read it only as
  // fast as it can be encrypted). Node's HTTP server then aborts the request and throws
  // the rest away, unless told to allow half-open connections: the request is then read
  // to its end, and a connection FFmpeg drops before the end of a body still aborts.
  // (Not in Node's typings; the sink tests fail if Node ever drops it.)
  (server as unknown as { httpAllowHalfOpen: boolean }).httpAllowHalfOpen = true;
  expectedHost = await listenOnLoopback(server);

  return {
    url: `http://${EXPECT_CONTINUE}@${expectedHost}${secret}`,
    get error() {
      return firstError;
    },
    async settle() {
      while (inFlight.size > 0) await Promise.all([...inFlight]);
      return sealed;
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

function reply(res: ServerResponse, status: number, headers: Record<string, string> = {}): void {
  if (res.headersSent || res.destroyed) return;
  res.writeHead(status, { ...headers, 'Content-Length': 0 });
  res.end();
}

/** The sink's failure as the job reports it. */
export function sinkFailure(err: unknown): KeepsakeError {
  return err instanceof KeepsakeError
    ? err
    : new KeepsakeError('INTERNAL', `an output could not be sealed: ${String(err)}`);
}
