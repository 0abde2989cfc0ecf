// The body deadline on its own: time a body spends waiting on the server (a slow disk
// behind the consumer) is not the client's stall. The cut-offs themselves are tested
// against a real server in serve-bodies.test.ts.

import type { IncomingMessage } from 'node:http';
import { PassThrough } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { watchBody } from './body-deadline';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('watchBody', () => {
  it('does not cut off a body that waits on a slow consumer', async () => {
    const raw = new PassThrough();
    const body = watchBody(raw as unknown as IncomingMessage, {
      idleSeconds: 0.5,
      graceSeconds: 0,
      minBytesPerSecond: 1000,
    });
    let failed: unknown;
    body.on('error', (err) => (failed = err));
    // The client sends everything at once; nobody reads for 1.5 s (the disk is busy).
    raw.write(Buffer.alloc(1024 * 1024));
    await sleep(1500);
    expect(failed).toBeUndefined();
    raw.end();
    let received = 0;
    for await (const chunk of body) received += (chunk as Buffer).length;
    expect(received).toBe(1024 * 1024);
    expect(failed).toBeUndefined();
  });

  it('cuts off a body whose client stops sending', async () => {
    const raw = new PassThrough();
    const body = watchBody(raw as unknown as IncomingMessage, {
      idleSeconds: 0.5,
      graceSeconds: 10,
      minBytesPerSecond: 0,
    });
    body.resume();
    raw.write(Buffer.alloc(10));
    const err = await new Promise((resolve) => body.on('error', resolve));
    expect(err).toMatchObject({ code: 'BODY_TIMEOUT' });
  });
});
