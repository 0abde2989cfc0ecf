// What each role of a server credential may do. A request names the scopes it needs
// (a preset declares its own); the credential's role must hold every one of them.

import { KeepsakeError } from '../core/errors';

export const ROLES = ['admin', 'client', 'worker', 'viewer'] as const;
export type Role = (typeof ROLES)[number];

/** Every scope the server knows. A scope missing here is held by no role, not even admin. */
export const SCOPES = [
  'jobs:read',
  'jobs:run',
  'jobs:cancel',
  'uploads:write',
  'results:read',
  'presets:read',
  'audit:read',
  'users:manage',
  'worker:lease',
  'proxy:read',
] as const;
export type Scope = (typeof SCOPES)[number];

const frozen = (scopes: readonly Scope[]): readonly string[] => Object.freeze([...scopes]);

export const ROLE_SCOPES: Readonly<Record<Role, readonly string[]>> = Object.freeze({
  admin: frozen(SCOPES),
  client: frozen([
    'jobs:read',
    'jobs:run',
    'jobs:cancel',
    'uploads:write',
    'results:read',
    'presets:read',
    'proxy:read',
  ]),
  // A worker leases jobs through the worker API only (http/serve/workers.ts): it cannot
  // act as a client, not even to list jobs or presets.
  worker: frozen(['worker:lease']),
  viewer: frozen(['jobs:read', 'presets:read']),
});

export function isRole(value: unknown): value is Role {
  return typeof value === 'string' && (ROLES as readonly string[]).includes(value);
}

export function parseRole(value: string): Role {
  if (!isRole(value)) {
    throw new KeepsakeError('USAGE', `unknown role "${value}" (known: ${ROLES.join(', ')})`);
  }
  return value;
}

export function isScope(value: unknown): value is Scope {
  return typeof value === 'string' && (SCOPES as readonly string[]).includes(value);
}

/**
 * True when `role` holds every scope in `needed`. Fails closed: an unknown role or a
 * misspelt scope is refused rather than waved through.
 */
export function hasScopes(role: Role, needed: readonly string[]): boolean {
  if (!isRole(role)) return false;
  const held = ROLE_SCOPES[role];
  return needed.every((scope) => held.includes(scope));
}
