// The plugins either server can register (health, docs, error handling), on a plain
// Fastify app on port 0 without any of the hardened server's guard, as the desktop engine
// would register them.

import swagger from '@fastify/swagger';
import Fastify, { type FastifyInstance } from 'fastify';
import { afterEach, describe, expect, it } from 'vitest';
import { ENGINE_VERSION } from '../core/version';
import type { Health } from '../net/contract';
import { docsRoutes } from './docs-routes';
import { errorHandlingPlugin } from './error-handling';
import { healthRoutes } from './health-routes';

let app: FastifyInstance | undefined;
afterEach(async () => {
  await app?.close();
  app = undefined;
});

async function appWith(health: () => Promise<Health>): Promise<string> {
  app = Fastify();
  await app.register(errorHandlingPlugin, { logError: () => undefined });
  await app.register(swagger, { openapi: { info: { title: 'test', version: '0' } } });
  await app.register(healthRoutes, { health });
  await app.register(docsRoutes);
  return app.listen({ host: '127.0.0.1', port: 0 });
}

describe('shared routes on a plain app', () => {
  it('answers liveness, health (503 when failing) and version', async () => {
    let health: Health = { status: 'ok', reasons: [] };
    const url = await appWith(async () => health);
    expect(await (await fetch(`${url}/live`)).json()).toEqual({ ok: true });
    const ok = await fetch(`${url}/healthz`);
    expect(ok.status).toBe(200);
    health = {
      status: 'failing',
      reasons: [{ reason: 'disk', severity: 'error', message: 'the disk is full' }],
    };
    const failing = await fetch(`${url}/healthz`);
    expect(failing.status).toBe(503);
    expect(await failing.json()).toEqual(health);
    const version = (await (await fetch(`${url}/version`)).json()) as { version: string };
    expect(version.version).toBe(ENGINE_VERSION);
  });

  it('publishes the OpenAPI document and the docs pages of the routes it has', async () => {
    const url = await appWith(async () => ({ status: 'ok', reasons: [] }));
    const spec = (await (await fetch(`${url}/v1/openapi.json`)).json()) as {
      paths: Record<string, unknown>;
    };
    expect(Object.keys(spec.paths)).toEqual(expect.arrayContaining(['/healthz', '/version']));
    // Hidden routes stay out of the document.
    expect(Object.keys(spec.paths)).not.toContain('/live');
    const endpoints = await fetch(`${url}/v1/docs/endpoints`);
    expect(endpoints.headers.get('content-type')).toMatch(/^text\/plain/);
    expect(await endpoints.text()).toMatch(/GET +\/healthz/);
    const missing = await fetch(`${url}/v1/docs/nope`);
    expect(missing.status).toBe(404);
    expect(((await missing.json()) as { code: string }).code).toBe('ROUTE_NOT_FOUND');
  });
});
