// Prometheus counters of the stream proxy, registered in the host server's registry so
// they appear in its /metrics next to everything else.

import { Counter, Gauge } from 'prom-client';
import type { Registry } from 'prom-client';
import type { UpstreamEvents } from './upstream-fetch';

export type ProxyOutcome =
  | 'ok'
  | 'upstream_4xx'
  | 'bad_request'
  | 'unauthorized'
  | 'refused'
  | 'busy'
  | 'upstream_failed'
  | 'aborted'
  | 'error';

export interface ProxyMetrics {
  requests: Counter<'outcome'>;
  /** Body bytes sent to clients. */
  bytesOut: Counter;
  upstreamErrors: Counter<'reason'>;
  retries: Counter;
  active: Gauge;
  /** Pass as `events` to createUpstreamFetch so its retries and errors are counted. */
  upstreamEvents: UpstreamEvents;
}

export function createProxyMetrics(registry: Registry): ProxyMetrics {
  const registers = [registry];
  const requests = new Counter({
    name: 'keepsake_proxy_requests_total',
    help: 'Stream proxy requests by outcome',
    labelNames: ['outcome'] as const,
    registers,
  });
  const bytesOut = new Counter({
    name: 'keepsake_proxy_bytes_sent_total',
    help: 'Upstream body bytes the proxy passed on to clients',
    registers,
  });
  const upstreamErrors = new Counter({
    name: 'keepsake_proxy_upstream_errors_total',
    help: 'Failed upstream attempts (network errors and 5xx), by reason',
    labelNames: ['reason'] as const,
    registers,
  });
  const retries = new Counter({
    name: 'keepsake_proxy_retries_total',
    help: 'Upstream attempts repeated after a failure',
    registers,
  });
  const active = new Gauge({
    name: 'keepsake_proxy_active_streams',
    help: 'Stream proxy responses in progress',
    registers,
  });
  return {
    requests,
    bytesOut,
    upstreamErrors,
    retries,
    active,
    upstreamEvents: {
      retry: () => retries.inc(),
      // Reasons are error codes or 'status NNN': a small, bounded label set.
      upstreamError: (reason) => upstreamErrors.inc({ reason: reason.slice(0, 40) }),
      bodyBytes: (bytes) => bytesOut.inc(bytes),
    },
  };
}
