// The desktop side of pairing (see pairing.ts): learn the server's CA from the TLS
// handshake, prove knowledge of the code bound to that CA, check the server's proof, and
// keep the credential with the CA pinned.

import { X509Certificate } from 'node:crypto';
import { connect, type DetailedPeerCertificate } from 'node:tls';
import { request } from 'undici';
import { KeepsakeError } from '../core/errors';
import { SERVE_PATHS, type ApiErrorBody } from './contract';
import { pairingRequest } from './pairing';
import { fingerprintOf } from './fingerprint';
import { pinnedAgent } from './pinning';

/** A paired server, as pairing yields it and remote/remotes.ts keeps it (key sealed). */
export interface Remote {
  name: string;
  url: string;
  clientId: string;
  /** Base64 HMAC key. */
  key: string;
  caCertPem: string;
  caFingerprint: string;
  pairedAt: number;
}

const TIMEOUT_MS = 15_000;

/** The root of the chain the server presents (its own CA), as PEM with its fingerprint. */
export async function fetchServerCa(
  url: string,
): Promise<{ caCertPem: string; caFingerprint: string }> {
  const target = new URL(url);
  if (target.protocol !== 'https:') {
    throw new KeepsakeError(
      'USAGE',
      `a Keepsake server is reached over https://, not ${target.protocol}`,
    );
  }
  const host = target.hostname.replace(/^\[|\]$/g, '');
  const chain = await new Promise<DetailedPeerCertificate>((resolve, reject) => {
    // Not verified here on purpose: this is how the CA is learnt. The pairing MACs bind
    // the code to exactly this CA, and every later connection is pinned to it.
    const socket = connect({
      host,
      port: Number(target.port || 443),
      servername: /^[\d.:]+$/.test(host) ? undefined : host,
      rejectUnauthorized: false,
      timeout: TIMEOUT_MS,
    });
    socket.once('secureConnect', () => {
      const cert = socket.getPeerCertificate(true);
      socket.end();
      resolve(cert);
    });
    socket.once('timeout', () => socket.destroy(new Error('timed out')));
    socket.once('error', (err) =>
      reject(new KeepsakeError('SERVER_NOT_TRUSTED', `cannot reach ${url}: ${err.message}`)),
    );
  });
  let root = chain;
  for (
    let hops = 0;
    root.issuerCertificate && root.issuerCertificate !== root && hops < 8;
    hops++
  ) {
    if (root.issuerCertificate.fingerprint256 === root.fingerprint256) break;
    root = root.issuerCertificate;
  }
  const caCertPem = new X509Certificate(root.raw).toString();
  return { caCertPem, caFingerprint: fingerprintOf(caCertPem) };
}

/** Pairs with the server at `url` using the one-time `code`; returns the remote to save. */
export async function pairWithServer(
  url: string,
  code: string,
  name: string,
  remoteName: string,
): Promise<Remote> {
  const { caCertPem, caFingerprint } = await fetchServerCa(url);
  const { body, checkProof } = pairingRequest(code, name, caFingerprint);
  // From here on the connection must chain to that CA (and match the host name).
  const agent = pinnedAgent(caCertPem, caFingerprint);
  try {
    const res = await request(new URL(SERVE_PATHS.pair, url), {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(body),
      dispatcher: agent,
    });
    const answer = (await res.body.json()) as
      { clientId: string; key: string; proof: string } | ApiErrorBody;
    if (res.statusCode !== 200 || !('proof' in answer)) {
      const e = answer as ApiErrorBody;
      throw new KeepsakeError(e.code ?? 'UNAUTHORIZED', `pairing refused: ${e.message}`);
    }
    if (!checkProof(answer.proof)) {
      throw new KeepsakeError(
        'SERVER_NOT_TRUSTED',
        'the server could not prove it issued this pairing code; the connection may be intercepted',
      );
    }
    return {
      name: remoteName,
      url: new URL(url).origin,
      clientId: answer.clientId,
      key: answer.key,
      caCertPem,
      caFingerprint,
      pairedAt: Date.now(),
    };
  } finally {
    await agent.close();
  }
}
