// One request to an upstream through undici's handler API, and what is done with its
// answer: headers joined, error codes read, a body that will not be passed on dropped.

import type { Readable } from 'node:stream';
import { util, type Agent, type Dispatcher } from 'undici';
import { UpstreamBody, type Abort } from './upstream-body';

export function joinHeaders(
  raw: Record<string, string | string[] | undefined>,
): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [name, value] of Object.entries(raw)) {
    if (value === undefined) continue;
    out[name.toLowerCase()] = Array.isArray(value) ? value.join(', ') : value;
  }
  return out;
}

export interface RawResponse {
  statusCode: number;
  headers: Record<string, string | string[] | undefined>;
  body: UpstreamBody;
}

/**
 * One request through undici's handler API, settled once the headers are in; the body
 * stays paused until someone reads or pipes it (upstream-body.ts says why not
 * `agent.request`). Any of `signals` aborts it, before or after the headers.
 */
export function dispatch(
  agent: Agent,
  options: Dispatcher.DispatchOptions,
  signals: readonly AbortSignal[],
  onBytes: ((bytes: number) => void) | undefined,
): Promise<RawResponse> {
  return new Promise((resolve, reject) => {
    let body: UpstreamBody | undefined;
    let abort: Abort | undefined;
    const reason = () => signals.find((s) => s.aborted)?.reason as Error | undefined;
    const onAbort = () => abort?.(reason());
    const settled = () => signals.forEach((s) => s.removeEventListener('abort', onAbort));
    signals.forEach((s) => s.addEventListener('abort', onAbort, { once: true }));
    agent.dispatch(options, {
      onConnect(cut) {
        const why = reason();
        if (why) cut(why);
        else abort = cut;
      },
      onHeaders(statusCode, raw, resume) {
        if (statusCode < 200) return true; // 1xx: the real answer follows
        body = new UpstreamBody(onBytes);
        body.attach(resume, (why) => abort?.(why));
        resolve({ statusCode, headers: util.parseHeaders(raw), body });
        return false;
      },
      onData: (chunk) => body?.chunk(chunk) ?? false,
      onComplete() {
        settled();
        body?.complete();
      },
      onError(err) {
        settled();
        if (body) body.fail(err);
        else reject(err);
      },
    });
  });
}

export function errorCode(err: unknown): string {
  const e = err as { code?: unknown; cause?: { code?: unknown } } | null;
  if (typeof e?.code === 'string') return e.code;
  if (typeof e?.cause?.code === 'string') return e.cause.code;
  return err instanceof Error ? err.name : 'UNKNOWN';
}

/**
 * Drops a response body that will not be passed on: a small remainder is read so the
 * connection can be reused, a large one is cut. Never leaves an unhandled 'error'.
 */
export async function discardBody(body: Readable): Promise<void> {
  body.on('error', () => {});
  const dump = (body as Readable & { dump?: (o: { limit: number }) => Promise<void> }).dump;
  try {
    if (dump) await dump.call(body, { limit: 64 * 1024 });
    else body.destroy();
  } catch {
    body.destroy();
  }
}
