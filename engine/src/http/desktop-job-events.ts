// Live progress for every job on the desktop API (GET /v1/jobs/events): `job` events
// whenever one changes (`deleted` when one goes), at most one per job per interval.
// Polling the queue here (not in each browser) sees changes made by any process, e.g.
// `keepsake job cancel`.

import type { FastifyReply, FastifyRequest } from 'fastify';
import type { JobSnapshot } from '../jobs/queue';
import type { DesktopJob } from '../net/desktop-contract';
import type { DesktopSession } from '../session/session';

const ACTIVE = ['queued', 'running'] as const;

export interface JobEventsOptions {
  session: DesktopSession;
  /** A job as the API shows it. */
  view: (job: JobSnapshot) => DesktopJob;
  /** How often the queue is looked at for changes. */
  intervalMs: number;
}

/** Streams until the client goes or the vault is locked. */
export async function streamJobEvents(
  request: FastifyRequest,
  reply: FastifyReply,
  options: JobEventsOptions,
): Promise<void> {
  const { session, view } = options;
  const engine = session.requireEngine();
  reply.hijack();
  const res = reply.raw;
  // Hijacked, so the server's onSend headers do not apply: the stream sets its own, and
  // a first comment goes out at once so the client knows it is connected.
  res.writeHead(200, {
    'content-type': 'text/event-stream; charset=utf-8',
    'cache-control': 'no-store',
    'x-content-type-options': 'nosniff',
    'referrer-policy': 'no-referrer',
    connection: 'keep-alive',
  });
  res.write(': connected\n\n');
  let closed = false;
  request.raw.on('close', () => (closed = true));
  // What each job looked like when last sent. The first pass is a snapshot of the
  // active and the most recent jobs, so a job that finished between the client's list
  // and this stream opening is not missed.
  const last = new Map<string, string>();
  let beat = 0;
  try {
    while (!closed && session.currentVault()) {
      const active = await engine.queue.list({ states: [...ACTIVE], limit: 10_000 });
      const recent = await engine.queue.list({ limit: 20 });
      const candidates = new Map<string, JobSnapshot>([...recent, ...active].map((j) => [j.id, j]));
      // Jobs sent while active that are no longer: fetch their final state.
      for (const id of last.keys()) {
        if (candidates.has(id)) continue;
        const job = await engine.queue.get(id).catch(() => undefined);
        if (job) {
          candidates.set(id, job);
        } else {
          last.delete(id);
          res.write(`event: deleted\ndata: ${JSON.stringify({ id })}\n\n`);
        }
      }
      for (const job of candidates.values()) {
        const data = JSON.stringify(view(job));
        if (last.get(job.id) === data) continue;
        last.set(job.id, data);
        res.write(`event: job\ndata: ${data}\n\n`);
      }
      // A job outside the active and recent lists has been sent in its final state.
      const watched = new Set([...active, ...recent].map((j) => j.id));
      for (const id of last.keys()) if (!watched.has(id)) last.delete(id);
      // A comment now and then keeps proxies and idle timers from closing the stream.
      if (++beat % 30 === 0) res.write(': keep-alive\n\n');
      await new Promise((r) => setTimeout(r, options.intervalMs));
    }
  } catch {
    // The vault was locked (the queue closed) mid-read: the stream ends; the client
    // reconnects and is told to unlock.
  }
  res.end();
}
