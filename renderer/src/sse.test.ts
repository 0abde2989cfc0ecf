import { describe, expect, it } from 'vitest';
import { backoffDelay, runSseStream, SseParser } from './sse';
import type { SseMessage } from './sse';

function parseAll(chunks: string[]): { messages: SseMessage[]; parser: SseParser } {
  const messages: SseMessage[] = [];
  const parser = new SseParser((m) => messages.push(m));
  for (const chunk of chunks) parser.push(chunk);
  return { messages, parser };
}

const STREAM =
  ': keep-alive\n\n' +
  'event: job\ndata: {"id":"j1","state":"running"}\n\n' +
  'event: job\r\ndata: {"id":"j2",\r\ndata: "state":"queued"}\r\nid: 7\r\n\r\n' +
  'data:no space\rretry: 2500\r\r' +
  'event: job\ndata\n\n' +
  'data: unfinished';

const EXPECTED: SseMessage[] = [
  { event: 'job', data: '{"id":"j1","state":"running"}' },
  { event: 'job', data: '{"id":"j2",\n"state":"queued"}', id: '7' },
  { event: 'message', data: 'no space', id: '7' },
  { event: 'job', data: '', id: '7' },
];

describe('SseParser', () => {
  it('parses events, comments, multi-line data, ids, retry and all three line ends', () => {
    const { messages, parser } = parseAll([STREAM]);
    expect(messages).toEqual(EXPECTED);
    expect(parser.retry).toBe(2500);
  });

  it('gives the same events however the stream is cut into chunks', () => {
    for (let cut = 1; cut < STREAM.length; cut++) {
      const { messages } = parseAll([STREAM.slice(0, cut), STREAM.slice(cut)]);
      expect(messages, `cut at ${cut}`).toEqual(EXPECTED);
    }
    // One character at a time, including a CRLF split between its CR and LF.
    expect(parseAll([...STREAM]).messages).toEqual(EXPECTED);
  });

  it('does not dispatch an event the stream never finished, and reset drops it', () => {
    const { messages, parser } = parseAll(['event: job\ndata: half']);
    expect(messages).toEqual([]);
    parser.reset();
    parser.push('\n\ndata: next\n\n');
    expect(messages).toEqual([{ event: 'message', data: 'next' }]);
  });
});

/** A response whose body delivers `chunks` one read at a time, then ends or fails. */
function streamResponse(chunks: string[], fail?: Error): Response {
  const encoder = new TextEncoder();
  const queue = [...chunks];
  const body = new ReadableStream<Uint8Array>({
    pull(controller) {
      const next = queue.shift();
      if (next !== undefined) controller.enqueue(encoder.encode(next));
      else if (fail) controller.error(fail);
      else controller.close();
    },
  });
  return new Response(body, { headers: { 'content-type': 'text/event-stream' } });
}

describe('runSseStream', () => {
  it('reconnects with growing backoff, resets it after a delivering connection, stops on abort', async () => {
    const controller = new AbortController();
    const delays: number[] = [];
    const messages: string[] = [];
    let opens = 0;
    let onOpens = 0;
    const script: (() => Promise<Response>)[] = [
      async () => streamResponse(['event: job\ndata: a\n\n']), // delivers, then ends
      async () => Promise.reject(new TypeError('fetch failed')), // engine away
      async () => new Response('{"code":"UNAUTHORIZED","message":"no"}', { status: 401 }),
      async () => streamResponse(['data: b\n\ndata: c'], new Error('reset')), // breaks mid-event
      async () => streamResponse(['data: d\n\n']),
    ];
    await runSseStream({
      signal: controller.signal,
      minDelayMs: 100,
      maxDelayMs: 350,
      open: () => {
        const next = script[opens++];
        if (!next) {
          controller.abort();
          return Promise.reject(new DOMException('aborted', 'AbortError'));
        }
        return next();
      },
      onOpen: () => onOpens++,
      onMessage: (m) => messages.push(m.data),
      sleep: async (ms) => {
        delays.push(ms);
      },
    });
    expect(messages).toEqual(['a', 'b', 'd']);
    expect(onOpens).toBe(3);
    // a delivered → 100; failure → 200; 401 → 350 (capped); b delivered → 100; d → 100.
    expect(delays).toEqual([100, 200, 350, 100, 100]);
  });

  it('honours the server retry hint when it is longer than the backoff', async () => {
    const controller = new AbortController();
    const delays: number[] = [];
    await runSseStream({
      signal: controller.signal,
      minDelayMs: 100,
      open: async () => streamResponse(['retry: 3000\ndata: x\n\n']),
      onMessage: () => {},
      sleep: async (ms) => {
        delays.push(ms);
        controller.abort();
      },
    });
    expect(delays).toEqual([3000]);
  });

  it('backoffDelay doubles from the minimum up to the cap', () => {
    expect([1, 2, 3, 4, 5, 6].map((n) => backoffDelay(n, 500, 10_000))).toEqual([
      500, 1000, 2000, 4000, 8000, 10_000,
    ]);
  });
});
