// The contract between the proxy's front ends (the direct `/proxy/stream` route and the
// host-routed proxy with HLS rewriting) and the one module that fetches from upstreams
// with the address checks. Front ends depend on this shape only, so the fetcher's
// policy (allowlist, connect-time IP checks, redirects, retries) lives in one place.

import type { Readable } from 'node:stream';

export interface UpstreamTimeouts {
  /** TCP + TLS handshake. */
  connectMs: number;
  /** Longest silence while reading headers or body. */
  readMs: number;
  /** Whole request, headers included (not the body stream). */
  requestMs: number;
}

export interface UpstreamRequest {
  url: URL;
  method: 'GET' | 'HEAD';
  /** Already filtered through the request-header allowlist; lower-case names. */
  headers: Record<string, string>;
  signal?: AbortSignal;
  timeouts?: Partial<UpstreamTimeouts>;
  /** Verify the upstream's TLS certificate (default true). */
  verifyTls?: boolean;
}

export interface UpstreamResponse {
  /** The final URL after redirects (playlists resolve relative URIs against it). */
  url: URL;
  status: number;
  /** Lower-case names; repeated headers joined with ", ". */
  headers: Record<string, string>;
  body: Readable;
}

export type UpstreamFetch = (request: UpstreamRequest) => Promise<UpstreamResponse>;
