// Who is asking, and may they: the signed-client gate of the hardened server.
//
// Order for each request: the client address (Fastify's trustProxy walks X-Forwarded-For
// for the trusted proxies: see trustProxyFor), then the HMAC signature (timestamp window, constant-time compare, replay
// cache), then the credential's allowed CIDRs, then the route's scopes. Every refusal is
// a KeepsakeError with a code, and the caller writes it to the audit log.

import type { FastifyRequest } from 'fastify';
import { KeepsakeError } from '../core/errors';
import type { Credential, CredentialStore } from '../net/credentials';
import { normalizeIp, parseCidrs, type CidrSet } from '../net/cidr';
import { ReplayCache } from '../net/replay-cache';
import { hasScopes, type Role } from '../net/roles';
import { checkSignedHeaders, verifyRequest } from '../net/signing';

export interface Caller {
  clientId: string;
  name: string;
  role: Role;
  address: string;
}

export interface AuthGate {
  /** The request's client address, as the audit log and rate limits see it. */
  address(request: FastifyRequest): string;
  /**
   * Verifies the signature over `body` (the raw bytes, or their SHA-256 for streams).
   * The timestamp window is measured from when the request arrived, so a long streamed
   * upload is not refused for the time its body took.
   */
  authenticate(
    request: FastifyRequest,
    body: Buffer | { sha256Hex: string },
    scopes: readonly string[],
    arrivedAtMs?: number,
  ): Caller;
  /**
   * Everything that can be checked before the body is read: the signature headers, the
   * timestamp window, a credential by that id, and its address ranges. Returns the
   * claimed client (not yet proven: only the signature over the body proves it).
   */
  precheck(request: FastifyRequest): { clientId: string; role: Role };
}

// A connection's peer never changes: it is normalised once per connection, not on every
// request it carries.
const peers = new WeakMap<object, string>();
function peerOf(socket: FastifyRequest['socket']): string {
  let peer = peers.get(socket);
  if (peer === undefined) {
    const raw = socket.remoteAddress;
    peer = (raw === undefined ? undefined : normalizeIp(raw)) ?? 'unknown';
    peers.set(socket, peer);
  }
  return peer;
}

/** The request's client address in canonical form (normalizeIp), 'unknown' without one. */
export function clientAddressOf(request: FastifyRequest): string {
  // request.ip is the socket peer, or what trustProxy (trustProxyFor) found behind it.
  const ip = request.ip;
  if (ip === request.socket.remoteAddress) return peerOf(request.socket);
  // A malformed entry reached on the walk stands for no one: the peer is the client.
  return normalizeIp(ip) ?? peerOf(request.socket);
}

export function createAuthGate(
  credentials: CredentialStore,
  options: {
    windowSeconds?: number;
    /** Kept across configuration reloads: a fresh cache would accept recent replays. */
    replay?: ReplayCache;
  },
): AuthGate {
  const replay =
    options.replay ?? new ReplayCache({ ttlSeconds: 2 * (options.windowSeconds ?? 30) });
  // Parsed once per distinct list, not on every request.
  const parsed = new Map<string, CidrSet>();
  const allowedFrom = (cidrs: readonly string[]): CidrSet => {
    const key = cidrs.join(',');
    let set = parsed.get(key);
    if (!set) parsed.set(key, (set = parseCidrs(cidrs)));
    return set;
  };
  const address = clientAddressOf;
  const allowedAddress = (credential: Credential, from: string) => {
    if (credential.cidrs.length > 0 && !allowedFrom(credential.cidrs).has(from)) {
      throw new KeepsakeError(
        'FORBIDDEN',
        `credential "${credential.name}" may not be used from ${from}`,
      );
    }
  };
  return {
    address,
    precheck(request) {
      const { clientId } = checkSignedHeaders(request.headers, undefined, options.windowSeconds);
      // A client id is not a secret (it travels in every request, the key never does):
      // refusing an unknown one before its body is read lets no one hold memory with
      // requests that could never verify.
      const credential = credentials.lookup(clientId)?.credential;
      if (!credential) {
        throw new KeepsakeError(
          'UNAUTHORIZED',
          'request signature refused: the signature does not match (unknown client, wrong key, or altered request)',
        );
      }
      allowedAddress(credential, address(request));
      return { clientId, role: credential.role };
    },
    authenticate(request, body, scopes, arrivedAtMs) {
      const now = Math.floor((arrivedAtMs ?? Date.now()) / 1000);
      let credential: Credential | undefined;
      verifyRequest(
        { method: request.method, path: request.url, headers: request.headers, body, now },
        (id) => {
          const found = credentials.lookup(id);
          credential = found?.credential;
          return found?.key;
        },
        replay,
        { windowSeconds: options.windowSeconds },
      );
      if (!credential) throw new KeepsakeError('UNAUTHORIZED', 'the credential was revoked');
      const clientId = credential.clientId;
      const from = address(request);
      allowedAddress(credential, from);
      if (!hasScopes(credential.role, scopes)) {
        throw new KeepsakeError(
          'FORBIDDEN',
          `role ${credential.role} lacks the scope${scopes.length > 1 ? 's' : ''} ${scopes.join(', ')}`,
        );
      }
      credentials.touch(clientId);
      return { clientId, name: credential.name, role: credential.role, address: from };
    },
  };
}

/**
 * Fastify's `trustProxy` for the configured proxies: the client address is the socket
 * peer, or, only when that peer is a trusted proxy, the right-most X-Forwarded-For entry
 * that is not itself a trusted proxy (every entry trusted: the left-most). Entries are
 * trustworthy only from the right up to the first untrusted one; what is left of it was
 * written by the client and never read. IPv4-mapped IPv6 and IPv4 compare alike (CidrSet),
 * and a malformed entry reached on the walk gives the socket peer (AuthGate.address).
 */
export function trustProxyFor(trustedProxies: readonly string[]) {
  if (trustedProxies.length === 0) return false;
  const trusted: CidrSet = parseCidrs(trustedProxies);
  return (address: string) => trusted.has(address);
}
