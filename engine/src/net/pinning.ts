// The client's side of the server's TLS: it trusts only the CA it pinned at pairing, and
// only while that CA's fingerprint is the one it paired with.

import { X509Certificate } from 'node:crypto';
import { checkServerIdentity } from 'node:tls';
import type { DetailedPeerCertificate, PeerCertificate } from 'node:tls';
import { Agent } from 'undici';
import { KeepsakeError } from '../core/errors';
import { normalizeFingerprint } from './fingerprint';

/**
 * For clients: an undici Agent (undici package) that trusts ONLY the pinned CA PEM, and
 * additionally checks the presented chain's CA fingerprint equals `fingerprint` (refuse
 * otherwise with a clear error). Hostname verification stays on.
 */
export function pinnedAgent(caCertPem: string, fingerprint: string): Agent {
  const pinned = normalizeFingerprint(fingerprint);
  try {
    new X509Certificate(caCertPem);
  } catch (err) {
    throw new KeepsakeError('USAGE', 'the pinned CA is not a PEM certificate', { cause: err });
  }
  return new Agent({
    connect: {
      // `ca` replaces Node's bundled roots: only the pinned CA can vouch for a server.
      ca: caCertPem,
      rejectUnauthorized: true,
      checkServerIdentity: (hostname: string, cert: PeerCertificate) =>
        checkServerIdentity(hostname, cert) ??
        checkPinnedRoot(cert as DetailedPeerCertificate, pinned),
    },
  });
}

// Node calls checkServerIdentity only after the chain verified against `ca`, with the
// chain as built by OpenSSL; its root must be the very certificate the client paired with.
function checkPinnedRoot(leaf: DetailedPeerCertificate, pinned: string): Error | undefined {
  let cert = leaf;
  // The root's issuerCertificate is itself; the depth cap only guards against a cycle.
  for (let depth = 0; depth < 10; depth += 1) {
    const issuer = cert.issuerCertificate as DetailedPeerCertificate | undefined;
    if (!issuer || issuer === cert) break;
    cert = issuer;
  }
  if (cert.fingerprint256 === pinned) return undefined;
  return new KeepsakeError(
    'SERVER_NOT_TRUSTED',
    `the server's certificate authority (SHA-256 ${cert.fingerprint256}) is not the one this ` +
      `client paired with (SHA-256 ${pinned}); refusing to connect. Pair again if the server ` +
      'was reinstalled.',
  );
}
