// The server's TLS settings, and the leaf's renewal while the server runs.

import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { SecureContextOptions } from 'node:tls';
import { ensureServerTls, type TlsFiles, type TlsOptions } from './server-ca';
import { TLS_FILE_NAMES } from './tls-keys';

const DEFAULT_RENEW_INTERVAL_MS = 12 * 3_600_000;

/**
 * The server's TLS settings besides its certificate: TLS 1.2 at least, AEAD suites only,
 * AES-128-GCM first (as strong in practice, and about 30 % cheaper than AES-256 on large
 * uploads, which the server decrypts at full speed).
 */
export const SERVER_TLS_OPTIONS = {
  minVersion: 'TLSv1.2',
  ciphers: [
    'TLS_AES_128_GCM_SHA256',
    'TLS_AES_256_GCM_SHA384',
    'TLS_CHACHA20_POLY1305_SHA256',
    'ECDHE-ECDSA-AES128-GCM-SHA256',
    'ECDHE-RSA-AES128-GCM-SHA256',
    'ECDHE-ECDSA-AES256-GCM-SHA384',
    'ECDHE-RSA-AES256-GCM-SHA384',
    'ECDHE-ECDSA-CHACHA20-POLY1305',
    'ECDHE-RSA-CHACHA20-POLY1305',
  ].join(':'),
  honorCipherOrder: true,
} as const;

/**
 * What the server presents: its leaf, then its CA. Clients that pinned the CA need no
 * more, but a client pairing for the first time learns the CA from this chain.
 */
export function certificateChain(files: Pick<TlsFiles, 'certPem' | 'caCertPem'>): string {
  return `${files.certPem.trimEnd()}\n${files.caCertPem.trimEnd()}\n`;
}

/**
 * Re-runs ensureServerTls every intervalMs and, when the leaf changed, calls
 * server.setSecureContext({cert, key}) (node:https / tls Server) so new connections get
 * the new leaf without a restart. Returns a stop function.
 *
 * The server must have been started with the leaf now in `dir` (what ensureServerTls
 * returned). Node's setSecureContext resets every option not passed to it, so hardening
 * options (minVersion, ciphers, …) must be given again in `contextOptions`. A failed check
 * goes to `onError` (default: a process warning) and is retried at the next interval.
 */
export function keepLeafFresh(
  server: { setSecureContext(o: SecureContextOptions & { cert: string; key: string }): void },
  dir: string,
  options: TlsOptions & {
    intervalMs?: number;
    onRenew?: (files: TlsFiles) => void;
    onError?: (err: unknown) => void;
    contextOptions?: Omit<SecureContextOptions, 'cert' | 'key'>;
  },
): () => void {
  const {
    intervalMs = DEFAULT_RENEW_INTERVAL_MS,
    onRenew,
    onError = warn,
    contextOptions,
    ...tlsOptions
  } = options;
  let installed: Promise<string | undefined> = readFile(
    join(dir, TLS_FILE_NAMES.cert),
    'utf8',
  ).catch(() => undefined);
  let busy = false;
  let stopped = false;
  const check = async () => {
    // A slow check (key generation, a slow disk) must not overlap the next one.
    if (busy || stopped) return;
    busy = true;
    try {
      const files = await ensureServerTls(dir, tlsOptions);
      if (stopped || files.certPem === (await installed)) return;
      server.setSecureContext({
        ...contextOptions,
        cert: certificateChain(files),
        key: files.keyPem,
      });
      installed = Promise.resolve(files.certPem);
      onRenew?.(files);
    } catch (err) {
      onError(err);
    } finally {
      busy = false;
    }
  };
  const timer = setInterval(() => void check(), intervalMs);
  timer.unref();
  return () => {
    stopped = true;
    clearInterval(timer);
  };
}

function warn(err: unknown): void {
  const detail = err instanceof Error ? err.message : String(err);
  process.emitWarning(`could not renew the TLS certificate: ${detail}`);
}
