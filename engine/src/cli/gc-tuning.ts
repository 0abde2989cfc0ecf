// Garbage-collector setting for the long-running engine processes (desktop, serve, proxy).
//
// Streaming media through Node allocates a fresh 64 KiB socket buffer per read, hundreds
// of megabytes a second of short-lived external memory. With an engine heap of ~20 MB,
// V8's heuristics then start incremental marking again as soon as the last full
// collection ends: bench:proxy measured 140–330 full collections in 10 s and a 99th
// percentile of 15–17 ms for `/proxy/stream`. Without incremental marking the young
// generation reclaims those buffers, full collections happen when the old generation
// actually fills (1–6 in the same run), and the 99th percentile drops to about 4 ms.
// The price is that a full collection, when one comes, is one pause instead of slices.
//
// KEEPSAKE_GC=default leaves V8's defaults alone (for comparisons).

import { setFlagsFromString } from 'node:v8';

export function tuneGarbageCollector(env: NodeJS.ProcessEnv = process.env): boolean {
  if (env.KEEPSAKE_GC === 'default') return false;
  setFlagsFromString('--no-incremental-marking');
  return true;
}
