// The shared error plugin on a plain Fastify app (as the desktop engine would register it):
// registry errors keep their status, the unexpected is INTERNAL without its text, unknown
// routes are ROUTE_NOT_FOUND, and every answer is shown to onError.

import Fastify from 'fastify';
import { describe, expect, it } from 'vitest';
import { KeepsakeError } from '../core/errors';
import type { ApiErrorBody as ApiError } from '../net/contract';
import { errorHandlingPlugin } from './error-handling';

describe('errorHandlingPlugin', () => {
  it('answers {code, message} with the registry status and shows each answer to onError', async () => {
    const logged: unknown[] = [];
    const seen: ApiError[] = [];
    const app = Fastify();
    await app.register(errorHandlingPlugin, {
      logError: (err) => logged.push(err),
      onError: (_request, body) => seen.push(body),
      notFound: (method, path) => `nothing at ${method} ${path}`,
    });
    // Registered in a child scope: the handlers still apply (fastify-plugin).
    await app.register(async (scope) => {
      scope.get('/refused', async () => {
        throw new KeepsakeError('FORBIDDEN', 'not for you');
      });
      scope.get('/broken', async () => {
        throw new Error('secret detail');
      });
    });
    const url = await app.listen({ host: '127.0.0.1', port: 0 });
    try {
      const refused = await fetch(`${url}/refused`);
      expect(refused.status).toBe(403);
      expect(await refused.json()).toEqual({ code: 'FORBIDDEN', message: 'not for you' });

      const broken = await fetch(`${url}/broken`);
      expect(broken.status).toBe(500);
      const body = (await broken.json()) as ApiError;
      expect(body.code).toBe('INTERNAL');
      expect(body.message).not.toMatch(/secret detail/);
      expect(logged).toHaveLength(1);

      const missing = await fetch(`${url}/nowhere?x=1`);
      expect(missing.status).toBe(404);
      expect(await missing.json()).toEqual({
        code: 'ROUTE_NOT_FOUND',
        message: 'nothing at GET /nowhere',
      });
      expect(seen.map((b) => b.code)).toEqual(['FORBIDDEN', 'INTERNAL', 'ROUTE_NOT_FOUND']);
    } finally {
      await app.close();
    }
  });
});
