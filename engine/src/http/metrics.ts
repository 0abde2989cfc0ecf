// Prometheus metrics of one server (its own registry, so several servers in one process,
// as in tests, do not mix their counts).

import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import { BULL_STATES, BullmqJobQueue } from '../jobs/bullmq-queue';
import type { JobQueue, JobState } from '../jobs/queue';
import type { Health, WorkerStatus } from '../net/contract';
import { createProxyMetrics, type ProxyMetrics } from '../proxy/proxy-metrics';

export interface ServeMetrics {
  registry: Registry;
  /** The stream proxy's counters (proxy/proxy-metrics.ts). */
  proxy: ProxyMetrics;
  requests: Counter<'method' | 'route' | 'status'>;
  latency: Histogram<'method' | 'route'>;
  jobDuration: Histogram<'preset' | 'state'>;
  bytesEncrypted: Counter;
  bytesUploaded: Counter;
}

const STATES: JobState[] = ['queued', 'running', 'succeeded', 'failed', 'cancelled'];

export function createMetrics(
  queue: JobQueue,
  health: () => Promise<Health>,
  workers: () => WorkerStatus[] = () => [],
): ServeMetrics {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry, prefix: 'keepsake_' });
  const requests = new Counter({
    name: 'keepsake_http_requests_total',
    help: 'HTTP requests by method, route and status',
    labelNames: ['method', 'route', 'status'] as const,
    registers: [registry],
  });
  const latency = new Histogram({
    name: 'keepsake_http_request_duration_seconds',
    help: 'HTTP request latency',
    labelNames: ['method', 'route'] as const,
    buckets: [0.001, 0.005, 0.01, 0.02, 0.05, 0.1, 0.5, 1, 5],
    registers: [registry],
  });
  const jobDuration = new Histogram({
    name: 'keepsake_job_duration_seconds',
    help: 'Wall-clock time of finished jobs',
    labelNames: ['preset', 'state'] as const,
    buckets: [1, 5, 15, 60, 300, 900, 3600, 4 * 3600],
    registers: [registry],
  });
  const bytesEncrypted = new Counter({
    name: 'keepsake_bytes_encrypted_total',
    help: 'Bytes of job output encrypted',
    registers: [registry],
  });
  const bytesUploaded = new Counter({
    name: 'keepsake_bytes_uploaded_total',
    help: 'Bytes of (encrypted) uploads accepted',
    registers: [registry],
  });
  new Gauge({
    name: 'keepsake_jobs',
    help: 'Jobs by state',
    labelNames: ['state'] as const,
    registers: [registry],
    async collect() {
      const counts = await queue.counts();
      for (const state of STATES) this.set({ state }, counts[state]);
    },
  });
  new Gauge({
    name: 'health_reason',
    help: 'Current health findings (1 = present), by reason and severity',
    labelNames: ['reason', 'severity'] as const,
    registers: [registry],
    async collect() {
      this.reset();
      for (const r of (await health()).reasons)
        this.set({ reason: r.reason, severity: r.severity }, 1);
    },
  });
  if (queue instanceof BullmqJobQueue) {
    // The pool's queue as BullMQ sees it (SQLite's counts above are the records').
    new Gauge({
      name: 'keepsake_queue_depth',
      help: 'Jobs in the BullMQ queue by its state (Redis)',
      labelNames: ['state'] as const,
      registers: [registry],
      async collect() {
        const counts = await queue.bullCounts().catch(() => undefined);
        this.reset();
        if (counts) for (const state of BULL_STATES) this.set({ state }, counts[state]);
      },
    });
    new Gauge({
      name: 'keepsake_queue_redis_up',
      help: '1 when the job queue’s Redis answers',
      registers: [registry],
      async collect() {
        this.set((await queue.redisReachable()) ? 1 : 0);
      },
    });
  }
  // The pool's workers, by the name each was paired under (since this server started).
  new Counter({
    name: 'keepsake_worker_jobs_total',
    help: 'Jobs a pool worker finished (done) or failed, outputs refused included',
    labelNames: ['worker', 'outcome'] as const,
    registers: [registry],
    collect() {
      this.reset();
      for (const w of workers()) {
        this.inc({ worker: w.name, outcome: 'done' }, w.done);
        this.inc({ worker: w.name, outcome: 'failed' }, w.failed);
      }
    },
  });
  new Gauge({
    name: 'keepsake_worker_running',
    help: 'Jobs a pool worker runs now',
    labelNames: ['worker'] as const,
    registers: [registry],
    collect() {
      this.reset();
      for (const w of workers()) this.set({ worker: w.name }, w.running.length);
    },
  });
  new Gauge({
    name: 'keepsake_worker_last_heartbeat_seconds',
    help: 'When a pool worker last sent a heartbeat (Unix time)',
    labelNames: ['worker'] as const,
    registers: [registry],
    collect() {
      this.reset();
      for (const w of workers()) this.set({ worker: w.name }, w.lastHeartbeat / 1000);
    },
  });
  const proxy = createProxyMetrics(registry);
  return { registry, requests, latency, jobDuration, bytesEncrypted, bytesUploaded, proxy };
}
