// Who is asking, and may they: the signed-client gate of the hardened server.
//
// Order for each request: the client address (X-Forwarded-For only from trusted
// proxies), then the HMAC signature (timestamp window, constant-time compare, replay
// cache), then the credential's allowed CIDRs, then the route's scopes. Every refusal is
// a KeepsakeError with a code, and the caller writes it to the audit log.

import type { FastifyRequest } from 'fastify';
import { KeepsakeError } from '../core/errors';
import type { Credential, CredentialStore } from '../net/credentials';
import { clientAddress, normalizeIp, parseCidrs, type CidrSet } from '../net/cidr';
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

export function createAuthGate(
  credentials: CredentialStore,
  options: {
    trustedProxies: string[];
    windowSeconds?: number;
    /** Kept across configuration reloads: a fresh cache would accept recent replays. */
    replay?: ReplayCache;
  },
): AuthGate {
  const trusted: CidrSet = parseCidrs(options.trustedProxies);
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
  // A connection's peer never changes: it is normalised and checked against the trusted
  // proxies once per connection, not on every request it carries.
  const peers = new WeakMap<object, { peer: string | undefined; proxy: boolean }>();
  const address = (request: FastifyRequest) => {
    const socket = request.socket;
    let known = peers.get(socket);
    if (!known) {
      const peer =
        socket.remoteAddress === undefined ? undefined : normalizeIp(socket.remoteAddress);
      known = { peer, proxy: peer !== undefined && trusted.has(peer) };
      peers.set(socket, known);
    }
    if (!known.proxy) return known.peer ?? 'unknown';
    return (
      clientAddress(socket.remoteAddress, request.headers['x-forwarded-for'], trusted) ?? 'unknown'
    );
  };
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
