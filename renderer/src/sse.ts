// Server-Sent Events over fetch(): EventSource cannot send the bearer token, so the job
// stream is read with fetch() + ReadableStream and parsed here, following the WHATWG
// event-stream rules (fields, multi-line data, comments, CR/LF/CRLF line ends).

export interface SseMessage {
  /** `message` when the server named none. */
  event: string;
  data: string;
  id?: string;
}

/**
 * An incremental parser: feed it text in whatever pieces the network delivers and it
 * calls `onMessage` once per complete event.
 */
export class SseParser {
  private buffer = '';
  private event = '';
  private data: string[] = [];
  private hasData = false;
  private id: string | undefined;
  /** The server's `retry:` hint, in ms. */
  retry: number | undefined;
  lastEventId: string | undefined;
  private readonly onMessage: (message: SseMessage) => void;

  constructor(onMessage: (message: SseMessage) => void) {
    this.onMessage = onMessage;
  }

  push(chunk: string): void {
    this.buffer += chunk;
    for (;;) {
      const match = /\r\n|\r|\n/.exec(this.buffer);
      if (!match) return;
      // A lone CR at the very end may be the first half of a CRLF still to come.
      if (match[0] === '\r' && match.index === this.buffer.length - 1) return;
      const line = this.buffer.slice(0, match.index);
      this.buffer = this.buffer.slice(match.index + match[0].length);
      this.line(line);
    }
  }

  /** Drops a half-received event (the connection broke mid-event). */
  reset(): void {
    this.buffer = '';
    this.event = '';
    this.data = [];
    this.hasData = false;
    this.id = undefined;
  }

  private line(line: string): void {
    if (line === '') return this.dispatch();
    if (line.startsWith(':')) return; // a comment (keep-alive)
    const colon = line.indexOf(':');
    const field = colon === -1 ? line : line.slice(0, colon);
    let value = colon === -1 ? '' : line.slice(colon + 1);
    if (value.startsWith(' ')) value = value.slice(1);
    switch (field) {
      case 'event':
        this.event = value;
        break;
      case 'data':
        this.data.push(value);
        this.hasData = true;
        break;
      case 'id':
        if (!value.includes('\0')) this.id = value;
        break;
      case 'retry':
        if (/^\d+$/.test(value)) this.retry = Number(value);
        break;
      default:
        break; // unknown fields are ignored
    }
  }

  private dispatch(): void {
    if (this.id !== undefined) this.lastEventId = this.id;
    if (this.hasData) {
      const message: SseMessage = { event: this.event || 'message', data: this.data.join('\n') };
      if (this.lastEventId !== undefined) message.id = this.lastEventId;
      this.onMessage(message);
    }
    this.event = '';
    this.data = [];
    this.hasData = false;
    this.id = undefined;
  }
}

export interface SseStreamOptions {
  /** Opens the stream (e.g. client.openJobEvents); throws or returns a non-OK on failure. */
  open: (signal: AbortSignal) => Promise<Response>;
  onMessage: (message: SseMessage) => void;
  /** After each successful (re)connect: a chance to refetch what was missed. */
  onOpen?: () => void;
  /** When a connection fails or ends, before waiting to reconnect. */
  onError?: (err: unknown, attempt: number) => void;
  signal: AbortSignal;
  /** First reconnect delay; doubles per failed attempt up to maxDelayMs. */
  minDelayMs?: number;
  maxDelayMs?: number;
  /** For tests. */
  sleep?: (ms: number, signal: AbortSignal) => Promise<void>;
}

export function backoffDelay(attempt: number, minMs: number, maxMs: number): number {
  return Math.min(maxMs, minMs * 2 ** Math.max(0, attempt - 1));
}

/**
 * Reads the stream until `signal` aborts, reconnecting with exponential backoff whenever
 * the connection fails or ends. A connection that delivered an event resets the backoff.
 */
export async function runSseStream(options: SseStreamOptions): Promise<void> {
  const { signal } = options;
  const minMs = options.minDelayMs ?? 500;
  const maxMs = options.maxDelayMs ?? 15_000;
  const sleep = options.sleep ?? abortableSleep;
  let attempt = 0;
  while (!signal.aborted) {
    let delivered = false;
    const parser = new SseParser((message) => {
      delivered = true;
      options.onMessage(message);
    });
    try {
      const res = await options.open(signal);
      if (!res.ok || !res.body) throw new Error(`event stream answered HTTP ${res.status}`);
      options.onOpen?.();
      const reader = res.body.getReader();
      const decoder = new TextDecoder();
      // Cancelling the reader ends a read that an aborted fetch would otherwise leave hanging.
      const cancel = () => void reader.cancel().catch(() => {});
      signal.addEventListener('abort', cancel, { once: true });
      try {
        for (;;) {
          const { value, done } = await reader.read();
          if (done || signal.aborted) break;
          parser.push(decoder.decode(value, { stream: true }));
        }
      } finally {
        signal.removeEventListener('abort', cancel);
        reader.releaseLock();
      }
      if (signal.aborted) return;
      throw new Error('event stream ended');
    } catch (err) {
      if (signal.aborted) return;
      attempt = delivered ? 1 : attempt + 1;
      options.onError?.(err, attempt);
      const hinted = parser.retry;
      await sleep(Math.max(hinted ?? 0, backoffDelay(attempt, minMs, maxMs)), signal);
    }
  }
}

function abortableSleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(done, ms);
    signal.addEventListener('abort', done, { once: true });
    function done() {
      clearTimeout(timer);
      signal.removeEventListener('abort', done);
      resolve();
    }
  });
}
