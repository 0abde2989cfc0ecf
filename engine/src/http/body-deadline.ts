// Request bodies on the hardened server must keep arriving: a body that stops for
// `idleSeconds`, or that averages less than `minBytesPerSecond` once `graceSeconds` have
// passed, is cut off with BODY_TIMEOUT (408). Without this, a caller could open hundreds
// of connections and dribble bodies forever, holding memory and upload locks.
//
// The raw request is relayed into a stream of our own rather than piped: a timeout must
// end in a 408 answer (sent with `connection: close`), not in a destroyed socket that
// answers nothing.

import type { IncomingMessage } from 'node:http';
import { Transform, type TransformCallback } from 'node:stream';
import { KeepsakeError } from '../core/errors';

export interface BodyDeadline {
  /** Longest pause between two pieces of a body. */
  idleSeconds: number;
  /** Slowest average accepted once the grace period is over. */
  minBytesPerSecond: number;
  /** Time a body has before its average rate counts (TLS and TCP start slowly). */
  graceSeconds: number;
}

/** How often the deadline is checked: often enough to cut off within a second of it. */
const CHECK_MS = 250;

class Relay extends Transform {
  /** Fastify compares what arrived with Content-Length through this. */
  receivedEncodedLength = 0;

  override _transform(chunk: Buffer, _enc: BufferEncoding, done: TransformCallback) {
    this.receivedEncodedLength += chunk.length;
    done(null, chunk);
  }
}

/**
 * The body of `raw` as a stream that fails with BODY_TIMEOUT when the body stalls or
 * crawls. Destroying the returned stream stops reading `raw` (its connection is closed
 * once the answer has been sent).
 */
export function watchBody(
  raw: IncomingMessage,
  limits: BodyDeadline,
  now: () => number = Date.now,
): Transform {
  const relay = new Relay();
  const started = now();
  let lastByteAt = started;
  let received = 0;
  let finished = false;
  // Time the body waited on us (the disk behind the consumer was slow), not on the
  // client: it counts neither as a pause nor against the rate.
  let heldSince: number | undefined;
  let heldMs = 0;

  const stop = () => {
    if (finished) return;
    finished = true;
    clearInterval(timer);
    raw.off('data', onData);
    raw.off('end', onEnd);
    raw.off('error', onError);
    raw.off('aborted', onAborted);
    relay.off('drain', onDrain);
  };
  const onData = (chunk: Buffer) => {
    received += chunk.length;
    lastByteAt = now();
    if (!relay.write(chunk)) {
      raw.pause();
      heldSince = now();
    }
  };
  const onDrain = () => {
    if (heldSince !== undefined) {
      const t = now();
      heldMs += t - heldSince;
      lastByteAt = Math.max(lastByteAt, t);
      heldSince = undefined;
    }
    raw.resume();
  };
  const onEnd = () => {
    stop();
    relay.end();
  };
  const onError = (err: Error) => {
    stop();
    relay.destroy(err);
  };
  const onAborted = () => onError(new Error('the client closed the connection mid-body'));
  const fail = (message: string) => {
    stop();
    // No more of this body is read; the 408 goes out with `connection: close`.
    raw.pause();
    relay.destroy(new KeepsakeError('BODY_TIMEOUT', message));
  };
  const timer = setInterval(() => {
    if (heldSince !== undefined) return; // waiting on us, not on the client
    const t = now();
    if (t - lastByteAt >= limits.idleSeconds * 1000) {
      fail(`the request body stopped arriving for ${limits.idleSeconds} s`);
      return;
    }
    const elapsed = (t - started - heldMs) / 1000;
    if (elapsed >= limits.graceSeconds && received / elapsed < limits.minBytesPerSecond) {
      fail(
        `the request body arrived at ${Math.round(received / elapsed)} bytes/s; ` +
          `at least ${limits.minBytesPerSecond} bytes/s are needed`,
      );
    }
  }, CHECK_MS);
  timer.unref();

  raw.on('data', onData);
  raw.on('end', onEnd);
  raw.on('error', onError);
  raw.on('aborted', onAborted);
  relay.on('drain', onDrain);
  // The consumer gave up (a refused chunk): stop reading and stop the clock.
  relay.on('close', () => {
    if (!finished) {
      stop();
      raw.pause();
    }
  });
  return relay;
}
