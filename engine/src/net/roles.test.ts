import { describe, expect, it } from 'vitest';
import { isKeepsakeError } from '../core/errors';
import { PRESETS } from '../presets';
import { hasScopes, isScope, parseRole, ROLE_SCOPES, ROLES, SCOPES, type Role } from './roles';

describe('roles', () => {
  it('gives admin every scope and the other roles what their work needs', () => {
    expect([...ROLE_SCOPES.admin].sort()).toEqual([...SCOPES].sort());
    expect(hasScopes('client', ['jobs:run', 'uploads:write', 'results:read'])).toBe(true);
    expect(hasScopes('client', ['users:manage'])).toBe(false);
    expect(hasScopes('client', ['audit:read'])).toBe(false);
    expect(hasScopes('worker', ['worker:lease'])).toBe(true);
    expect(hasScopes('worker', ['jobs:read'])).toBe(false);
    expect(hasScopes('worker', ['jobs:run'])).toBe(false);
    expect(hasScopes('viewer', ['jobs:read', 'presets:read'])).toBe(true);
    expect(hasScopes('viewer', ['jobs:cancel'])).toBe(false);
    expect(hasScopes('viewer', [])).toBe(true);
  });

  it('only admin manages users or reads the audit log', () => {
    const holders = (scope: string) => ROLES.filter((r) => hasScopes(r, [scope]));
    expect(holders('users:manage')).toEqual(['admin']);
    expect(holders('audit:read')).toEqual(['admin']);
    expect(holders('worker:lease')).toEqual(['admin', 'worker']);
  });

  it('fails closed on unknown scopes and roles', () => {
    expect(hasScopes('admin', ['jobs:rnu'])).toBe(false);
    expect(hasScopes('root' as Role, [])).toBe(false);
    expect(hasScopes('root' as Role, ['jobs:read'])).toBe(false);
  });

  it('cannot be widened at run time', () => {
    expect(() => (ROLE_SCOPES.viewer as string[]).push('users:manage')).toThrow();
    expect(() => {
      (ROLE_SCOPES as Record<Role, readonly string[]>).viewer = SCOPES;
    }).toThrow();
    expect(hasScopes('viewer', ['users:manage'])).toBe(false);
  });

  it('knows every scope a preset asks for, and clients may run every preset', () => {
    for (const preset of PRESETS) {
      for (const scope of preset.scopes)
        expect(isScope(scope), `${preset.name}: ${scope}`).toBe(true);
      expect(hasScopes('client', preset.scopes), preset.name).toBe(true);
      expect(hasScopes('viewer', preset.scopes), preset.name).toBe(false);
    }
  });

  it('parses a role name or refuses it with USAGE', () => {
    expect(parseRole('worker')).toBe('worker');
    let caught: unknown;
    try {
      parseRole('Admin');
    } catch (err) {
      caught = err;
    }
    expect(isKeepsakeError(caught, 'USAGE')).toBe(true);
    expect(String(caught)).toMatch(/known: admin, client, worker, viewer/);
  });
});
