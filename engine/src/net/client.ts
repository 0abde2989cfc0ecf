// The typed client of the hardened server, used by the desktop engine (remote dispatch)
// and the CLI. Every request is signed; the connection trusts only the CA pinned at
// pairing. Types come from contract.ts, so client and server cannot drift apart.

import { createHash, randomBytes } from 'node:crypto';
import { open } from 'node:fs/promises';
import { Readable } from 'node:stream';
import { setTimeout as sleep } from 'node:timers/promises';
import { request, type Dispatcher } from 'undici';
import { ERROR_CODES, KeepsakeError, type ErrorCode } from '../core/errors';
import { openAtomic } from '../fs/atomic';
import { signedHeaders } from './signing';
import {
  SERVE_PATHS,
  type ApiErrorBody,
  type CreateJobBody,
  type Health,
  type JobKeysBody,
  type JobView,
  type UploadView,
} from './contract';
import { pinnedAgent } from './pinning';

export interface RemoteCredentials {
  url: string;
  clientId: string;
  /** Base64 HMAC key. */
  key: string;
  caCertPem: string;
  caFingerprint: string;
}

/** A code the server sent, if this engine knows it (a newer server may send others). */
function knownCode(code: unknown): ErrorCode {
  return typeof code === 'string' && Object.hasOwn(ERROR_CODES, code)
    ? (code as ErrorCode)
    : 'INTERNAL';
}

interface CallOptions {
  json?: unknown;
  body?: Buffer;
  /** The body's SHA-256, when already known (uploads hash while the last chunk flies). */
  bodySha256Hex?: string;
  headers?: Record<string, string>;
}

type Method = 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE' | 'HEAD';

/**
 * SHA-256 in 4 MiB slices with a turn of the event loop between them, so that hashing
 * the next upload chunk does not stall the sending of the current one.
 */
async function hashYielding(data: Buffer): Promise<string> {
  const hash = createHash('sha256');
  for (let at = 0; at < data.length; at += 4 * 1024 * 1024) {
    hash.update(data.subarray(at, at + 4 * 1024 * 1024));
    await new Promise((resolve) => setImmediate(resolve));
  }
  return hash.digest('hex');
}

const SLICE_BYTES = 1024 * 1024;

/**
 * How far this computer's clock may be from the server's before a refused timestamp is
 * put down to the clock. Closer than this, the refusal came from a server that restarted
 * after the request was signed (see replay-cache.ts), and signing it again is enough.
 */
const CLOCK_SLACK_SECONDS = 5;

export interface RemoteClientOptions {
  /** The clock requests are signed with, in ms (tests move it; default Date.now). */
  now?: () => number;
}

/**
 * A large body in slices: TLS encrypts a whole write before the first byte of it leaves,
 * so one 64 MiB write would keep the wire idle while it is encrypted, and the encrypting
 * idle while it is sent. Slices overlap the two, with backpressure between them.
 */
function* slices(data: Buffer): Generator<Buffer> {
  for (let at = 0; at < data.length; at += SLICE_BYTES) {
    yield data.subarray(at, at + SLICE_BYTES);
  }
}

export class RemoteClient {
  private readonly agent: Dispatcher;
  private readonly now: () => number;

  constructor(
    private readonly creds: RemoteCredentials,
    options: RemoteClientOptions = {},
  ) {
    this.agent = pinnedAgent(creds.caCertPem, creds.caFingerprint);
    this.now = options.now ?? Date.now;
  }

  /**
   * A CLOCK_SKEW refusal, explained from the server's own time (its Date header): how far
   * this computer's clock is off, or undefined when it is close enough that signing again
   * will do (or the server sent no date).
   */
  private clockProblem(date: unknown, message: string): KeepsakeError | undefined {
    const serverMs = typeof date === 'string' ? Date.parse(date) : NaN;
    if (Number.isNaN(serverMs)) return new KeepsakeError('CLOCK_SKEW', `server: ${message}`);
    // The header has whole seconds: the server's clock read somewhere in the next one.
    const offset = Math.round((this.now() - serverMs - 500) / 1000);
    if (Math.abs(offset) < CLOCK_SLACK_SECONDS) return undefined;
    return new KeepsakeError(
      'CLOCK_SKEW',
      `this computer's clock is ${Math.abs(offset)} s ${offset < 0 ? 'behind' : 'ahead of'} ` +
        `the server's (${this.creds.url}), too far for the server to accept its signed ` +
        'requests. Set the clock right (turn on automatic date and time); waiting jobs then ' +
        'carry on by themselves.',
    );
  }

  /**
   * Sends one signed request and returns the raw response. A nonce in the query makes every
   * signature unique: two identical requests in the same second would otherwise share a
   * signature and the second would be refused as a replay.
   */
  private async send(method: Method, path: string, options: CallOptions = {}) {
    const sep = path.includes('?') ? '&' : '?';
    const signedPath = `${path}${sep}nonce=${randomBytes(9).toString('base64url')}`;
    const body =
      options.json !== undefined ? Buffer.from(JSON.stringify(options.json)) : options.body;
    const headers: Record<string, string> = {
      ...signedHeaders(
        this.creds.clientId,
        this.creds.key,
        method,
        signedPath,
        options.bodySha256Hex ? { sha256Hex: options.bodySha256Hex } : (body ?? Buffer.alloc(0)),
        Math.floor(this.now() / 1000),
      ),
      ...options.headers,
    };
    if (options.json !== undefined) headers['content-type'] = 'application/json';
    if (body && body.length > SLICE_BYTES) headers['content-length'] = String(body.length);
    return request(new URL(signedPath, this.creds.url), {
      method,
      headers,
      body: body && body.length > SLICE_BYTES ? Readable.from(slices(body)) : body,
      dispatcher: this.agent,
    }).catch((err: unknown) => {
      if (err instanceof KeepsakeError) throw err;
      throw new KeepsakeError(
        'SERVER_UNREACHABLE',
        `cannot reach ${this.creds.url}: ${(err as Error).message}`,
        { cause: err },
      );
    });
  }

  /** One signed request, its JSON (or text) answer parsed; an error answer is thrown. */
  async call<T>(
    method: Method,
    path: string,
    options: CallOptions = {},
  ): Promise<{ status: number; headers: Record<string, string | string[] | undefined>; body: T }> {
    for (let attempt = 1; ; attempt += 1) {
      const res = await this.send(method, path, options);
      const text = await res.body.text();
      const parsed =
        text && String(res.headers['content-type']).includes('json') ? JSON.parse(text) : text;
      if (res.statusCode >= 400) {
        const e = parsed as ApiErrorBody;
        if (e?.code === 'CLOCK_SKEW') {
          const problem = this.clockProblem(res.headers.date, e.message);
          if (problem) throw problem;
          if (attempt === 1) {
            // Stamped before a server that crashed came back (replay-file.ts): a request
            // signed in the next whole second goes through.
            await sleep(1050 - (this.now() % 1000));
            continue;
          }
        }
        throw new KeepsakeError(knownCode(e?.code), `server: ${e?.message ?? text}`);
      }
      return { status: res.statusCode, headers: res.headers, body: parsed as T };
    }
  }

  /**
   * One signed request whose answer is bytes (a range of a file): the status, headers and
   * body as sent. An error answer is thrown, as `call` does.
   */
  async bytes(
    method: Method,
    path: string,
    headers: Record<string, string> = {},
  ): Promise<{
    status: number;
    headers: Record<string, string | string[] | undefined>;
    body: Buffer;
  }> {
    const res = await this.send(method, path, { headers });
    const body = Buffer.from(await res.body.arrayBuffer());
    if (res.statusCode >= 400) {
      const text = body.toString('utf8');
      let e: Partial<ApiErrorBody> = {};
      try {
        e = JSON.parse(text) as ApiErrorBody;
      } catch {
        // Not JSON: reported by its status.
      }
      throw new KeepsakeError(knownCode(e.code), `server: ${e.message ?? res.statusCode}`);
    }
    return { status: res.statusCode, headers: res.headers, body };
  }

  async health(): Promise<Health> {
    const res = await request(new URL(SERVE_PATHS.healthz, this.creds.url), {
      dispatcher: this.agent,
    });
    return (await res.body.json()) as Health;
  }

  async createUpload(size: number): Promise<UploadView> {
    return (await this.call<UploadView>('POST', SERVE_PATHS.uploads, { json: { size } })).body;
  }

  async upload(id: string): Promise<UploadView> {
    return (await this.call<UploadView>('GET', SERVE_PATHS.upload(id))).body;
  }

  /**
   * Sends a file in signed chunks from wherever the server says the upload stands, so a
   * broken connection costs at most one chunk.
   */
  async uploadFile(
    path: string,
    options: {
      chunkBytes?: number;
      onBytes?: (n: number) => void;
      existing?: string;
      /** Stops between chunks (a cancelled job). */
      signal?: AbortSignal;
    } = {},
  ): Promise<UploadView> {
    const handle = await open(path, 'r');
    try {
      const { size } = await handle.stat();
      let upload = options.existing
        ? await this.upload(options.existing)
        : await this.createUpload(size);
      // Two buffers: the next chunk is read and hashed (for its signature) while the
      // current one is on the wire and the server decrypts and stores it.
      const chunkBytes = Math.min(options.chunkBytes ?? 32 * 1024 * 1024, size);
      const buffers = [Buffer.alloc(chunkBytes), Buffer.alloc(chunkBytes)];
      const prepare = async (offset: number, i: number) => {
        const buffer = buffers[i % 2]!;
        const { bytesRead } = await handle.read(
          buffer,
          0,
          Math.min(chunkBytes, upload.size - offset),
          offset,
        );
        const part = buffer.subarray(0, bytesRead);
        return { offset, part, sha256Hex: await hashYielding(part) };
      };
      let i = 0;
      let next = upload.offset < upload.size ? prepare(upload.offset, i) : undefined;
      while (next) {
        const { offset, part, sha256Hex } = await next;
        options.signal?.throwIfAborted();
        const sending = this.call<undefined>('PATCH', SERVE_PATHS.upload(upload.id), {
          body: part,
          bodySha256Hex: sha256Hex,
          headers: {
            'content-type': 'application/offset+octet-stream',
            'upload-offset': String(offset),
          },
        });
        const end = offset + part.length;
        next = end < upload.size ? prepare(end, i + 1) : undefined;
        const res = await sending.catch(async (err: unknown) => {
          await next?.catch(() => undefined);
          throw err;
        });
        upload = { ...upload, offset: Number(res.headers['upload-offset']) };
        upload.complete = upload.offset === upload.size;
        options.onBytes?.(part.length);
        i += 1;
        // The server decides where the upload stands; a surprise means re-reading from there.
        if (upload.offset !== end) {
          await next?.catch(() => undefined);
          next = upload.offset < upload.size ? prepare(upload.offset, i) : undefined;
        }
      }
      return upload;
    } finally {
      await handle.close();
    }
  }

  async createJob(body: CreateJobBody): Promise<JobView> {
    return (await this.call<JobView>('POST', SERVE_PATHS.jobs, { json: body })).body;
  }

  async job(id: string): Promise<JobView> {
    return (await this.call<JobView>('GET', SERVE_PATHS.job(id))).body;
  }

  async jobs(): Promise<JobView[]> {
    return (await this.call<JobView[]>('GET', SERVE_PATHS.jobs)).body;
  }

  async cancel(id: string): Promise<JobView> {
    return (await this.call<JobView>('POST', SERVE_PATHS.jobCancel(id))).body;
  }

  async resendKeys(id: string, keys: JobKeysBody): Promise<void> {
    await this.call('PUT', SERVE_PATHS.jobKeys(id), { json: keys });
  }

  async deleteJob(id: string): Promise<void> {
    await this.call('DELETE', SERVE_PATHS.job(id));
  }

  /** Polls until the job finishes, reporting each change. */
  async waitFor(id: string, onChange?: (job: JobView) => void, intervalMs = 300): Promise<JobView> {
    let last = '';
    for (;;) {
      const job = await this.job(id);
      const text = JSON.stringify(job);
      if (text !== last) onChange?.(job);
      last = text;
      if (['succeeded', 'failed', 'cancelled'].includes(job.state)) return job;
      await new Promise((r) => setTimeout(r, intervalMs));
    }
  }

  /** Downloads one encrypted output to `dest`, atomically. */
  async downloadOutput(id: string, name: string, dest: string): Promise<number> {
    const res = await this.send('GET', SERVE_PATHS.jobOutput(id, name));
    if (res.statusCode !== 200) {
      const e = (await res.body.json().catch(() => ({}))) as Partial<ApiErrorBody>;
      if (e.code === 'CLOCK_SKEW') {
        const problem = this.clockProblem(res.headers.date, e.message ?? '');
        if (problem) throw problem;
      }
      throw new KeepsakeError(knownCode(e.code), `server: ${e.message ?? res.statusCode}`);
    }
    const out = await openAtomic(dest, { mode: 0o600 });
    let bytes = 0;
    try {
      for await (const part of res.body) {
        bytes += (part as Buffer).length;
        await out.handle.write(part as Buffer);
      }
      await out.commit();
    } catch (err) {
      await out.abort();
      throw err;
    }
    return bytes;
  }

  async close(): Promise<void> {
    await this.agent.close();
  }
}
