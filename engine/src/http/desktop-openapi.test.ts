// The desktop engine's /v1/openapi.json against what it really registered: every /v1 route
// comes from the route table (net/desktop-route-table.ts) and appears in the document with
// its parameters, query, body and each response, the error body included.

import { randomBytes } from 'node:crypto';
import type { RouteOptions } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DESKTOP_ROUTES } from '../net/desktop-route-table';
import { DesktopSession } from '../session/session';
import { TEST_SCRYPT, freshDir } from '../testing/tmp';
import { desktopRoutes } from './desktop-routes';
import { desktopVaultRoutes } from './desktop-vault-routes';
import { startEmbeddedServer, type EmbeddedServer } from './embedded';

interface Operation {
  parameters?: { in: string; name: string; required?: boolean }[];
  requestBody?: { content: Record<string, { schema: unknown }> };
  responses: Record<string, { content?: Record<string, { schema: unknown }> }>;
  tags?: string[];
}
interface Document {
  openapi: string;
  paths: Record<string, Record<string, Operation>>;
  components: { schemas?: Record<string, unknown> };
}

let server: EmbeddedServer;
let session: DesktopSession;
const registered: RouteOptions[] = [];

beforeAll(async () => {
  const dataDir = await freshDir();
  session = new DesktopSession({ dataDir, scrypt: TEST_SCRYPT });
  server = await startEmbeddedServer({
    dataDir,
    port: 0,
    onRoute: (route) => registered.push(route),
    routes: async (app) => {
      await app.register(desktopRoutes({ session, playSecret: randomBytes(32) }));
      await app.register(desktopVaultRoutes({ session }));
    },
  });
});

afterAll(async () => {
  await server.close();
  await session.close();
});

const get = (path: string, token?: string) =>
  fetch(`${server.url}${path}`, token ? { headers: { authorization: `Bearer ${token}` } } : {});

/** `/v1/jobs/:id` as OpenAPI writes it: `/v1/jobs/{id}`. */
const openapiPath = (url: string) => url.replace(/:(\w+)/g, '{$1}');
const propertiesOf = (schema: unknown) =>
  Object.keys((schema as { properties?: object } | undefined)?.properties ?? {}).sort();

describe('GET /v1/openapi.json on the desktop engine', () => {
  it('needs the bearer token, like every /v1 route', async () => {
    const res = await get('/v1/openapi.json');
    expect(res.status).toBe(401);
    expect(await res.json()).toMatchObject({ code: 'UNAUTHORIZED' });
  });

  it('registers every /v1 route from the route table, and every table route', () => {
    const table = new Set(Object.values(DESKTOP_ROUTES).map((r) => `${r.method} ${r.url}`));
    const v1 = registered
      .filter((r) => r.method !== 'HEAD' && r.url.startsWith('/v1'))
      .map((r) => `${String(r.method)} ${r.url}`);
    expect(v1.length).toBeGreaterThan(30);
    for (const route of v1) expect(table, route).toContain(route);
    const all = new Set(registered.map((r) => `${String(r.method)} ${r.url}`));
    for (const route of table) expect(all, route).toContain(route);
  });

  it('documents each registered route with its request and response schemas', async () => {
    const res = await get('/v1/openapi.json', server.token);
    expect(res.status).toBe(200);
    const doc = (await res.json()) as Document;
    expect(doc.openapi).toMatch(/^3\./);
    // Only the API: playback and static files are not part of it.
    expect(Object.keys(doc.paths).every((p) => p === '/live' || p.startsWith('/v1/'))).toBe(true);

    for (const [name, route] of Object.entries(DESKTOP_ROUTES)) {
      const op = doc.paths[openapiPath(route.url)]?.[route.method.toLowerCase()];
      expect(op, `${name}: ${route.method} ${route.url}`).toBeDefined();
      if (!op) continue;
      const schema: {
        params?: unknown;
        querystring?: unknown;
        body?: unknown;
        consumes?: readonly string[];
        response: Record<string, unknown>;
      } = route.schema;
      const parameters = (where: string) =>
        (op.parameters ?? [])
          .filter((p) => p.in === where)
          .map((p) => p.name)
          .sort();
      expect(parameters('path'), name).toEqual(propertiesOf(schema.params));
      expect(parameters('query'), name).toEqual(propertiesOf(schema.querystring));
      if (schema.body) {
        const media = schema.consumes?.[0] ?? 'application/json';
        const body = op.requestBody?.content[media]?.schema;
        expect(body, `${name} body`).toBeDefined();
        expect(propertiesOf(body), name).toEqual(propertiesOf(schema.body));
      } else {
        expect(op.requestBody, name).toBeUndefined();
      }
      // Every status the table names, the error body's ranges included.
      expect(Object.keys(op.responses).sort(), name).toEqual(
        Object.keys(schema.response)
          .map((s) => s.toUpperCase())
          .sort(),
      );
      for (const range of ['4XX', '5XX']) {
        const error = op.responses[range]?.content?.['application/json']?.schema;
        expect(propertiesOf(error), `${name} ${range}`).toEqual(['code', 'message']);
      }
    }
  });

  it('documents reply shapes in full, as the server serialises by them', async () => {
    const doc = (await (await get('/v1/openapi.json', server.token)).json()) as Document;
    const reply = (path: string, method: string, status: string) =>
      doc.paths[path]?.[method]?.responses[status]?.content?.['application/json']?.schema;
    expect(propertiesOf(reply('/v1/vault', 'get', '200'))).toEqual([
      'dir',
      'exists',
      'lockPending',
      'unlocked',
    ]);
    expect(propertiesOf(reply('/v1/settings', 'get', '200'))).toEqual([
      'deliveryFolder',
      'encryptOnAdd',
    ]);
    const events = doc.paths['/v1/jobs/events']?.get?.responses['200']?.content;
    expect(Object.keys(events ?? {})).toEqual(['text/event-stream']);
    // The bearer token everywhere but the liveness probe.
    expect((doc as { security?: unknown }).security).toEqual([{ bearer: [] }]);
    expect((doc.paths['/live']?.get as { security?: unknown }).security).toEqual([]);
    const upload = doc.paths['/v1/library/uploads']?.post?.requestBody?.content;
    expect(Object.keys(upload ?? {})).toEqual(['application/octet-stream']);
  });
});
