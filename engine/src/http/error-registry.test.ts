// The one error registry (core/errors.ts), the server's error page (/v1/docs/errors), its
// OpenAPI document, the TypeScript union and the engine's own source must agree in both
// directions, as fastify checks its errors.js against its docs: a code added to one and
// not the others, or a code nothing can raise any more, fails here.

import { randomBytes } from 'node:crypto';
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Agent, request } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ERROR_CODES, type ErrorCode } from '../core/errors';
import type { ApiErrorBody } from '../net/contract';
import type { ApiError } from '../net/desktop-api';
import { startServe, type RunningServer } from '../serve/serve';
import { testScratch } from '../testing/media';
import { parseServeConfig } from './serve-config';

// Compile-time half: the union clients are typed with is exactly the registry's keys, on
// both APIs. `npm run typecheck` fails on these lines if either drifts.
type Same<A, B> = [A] extends [B] ? ([B] extends [A] ? true : false) : false;
const serverUnion: Same<ApiErrorBody['code'], ErrorCode> = true;
const desktopUnion: Same<ApiError['code'], ErrorCode> = true;

const registry = Object.entries(ERROR_CODES).map(([code, e]) => ({
  code,
  status: e.status,
  summary: e.summary,
}));

let server: RunningServer;
let agent: Agent;
let dataDir: string;

async function get(path: string): Promise<string> {
  const res = await request(`${server.url}${path}`, { dispatcher: agent });
  expect(res.statusCode).toBe(200);
  return res.body.text();
}

beforeAll(async () => {
  // Its own folder: freshDir's folders go after each test, and the server writes on close.
  dataDir = await mkdtemp(join(tmpdir(), 'keepsake-registry-'));
  server = await startServe({
    config: parseServeConfig({ port: 0 }),
    dataDir,
    kek: randomBytes(32),
    scratch: await testScratch(),
    logError: () => undefined,
  });
  agent = new Agent({ connect: { ca: server.tls.caCertPem } });
});

afterAll(async () => {
  await agent?.close();
  await server?.close();
  await rm(dataDir, { recursive: true, force: true });
});

describe('the error registry', () => {
  it('types every API error body with exactly the registry’s codes', () => {
    expect([serverUnion, desktopUnion]).toEqual([true, true]);
  });

  it('and the /v1/docs/errors page list the same codes, statuses and meanings', async () => {
    const page = await get('/v1/docs/errors');
    const rows = [...page.matchAll(/^ {4}([A-Z][A-Z0-9_]+) +(\d{3}) +(.+)$/gm)].map((m) => ({
      code: m[1],
      status: Number(m[2]),
      summary: m[3],
    }));
    // Both directions: nothing documented that the registry lacks, nothing missing.
    expect(rows).toEqual(registry);
  });

  it('and the OpenAPI document’s error schema allow exactly the registry’s codes', async () => {
    const doc: unknown = JSON.parse(await get('/v1/openapi.json'));
    const sets: string[][] = [];
    const walk = (node: unknown): void => {
      if (Array.isArray(node)) return node.forEach(walk);
      if (!node || typeof node !== 'object') return;
      type Choice = { const?: unknown; enum?: unknown[] };
      const code = (node as { properties?: { code?: { anyOf?: Choice[] } } }).properties?.code;
      // OpenAPI 3.0 has no `const`: @fastify/swagger writes each literal as a one-value enum.
      if (code?.anyOf) sets.push(code.anyOf.flatMap((s) => s.enum ?? [s.const]).map(String));
      Object.values(node).forEach(walk);
    };
    walk(doc);
    expect(sets.length).toBeGreaterThan(0);
    for (const set of sets) expect([...set].sort()).toEqual(Object.keys(ERROR_CODES).sort());
  });

  it('holds only codes the engine can raise, and the engine raises only registry codes', async () => {
    const root = fileURLToPath(new URL('..', import.meta.url));
    const sources: { file: string; text: string }[] = [];
    const walk = async (dir: string): Promise<void> => {
      for (const entry of await readdir(dir, { withFileTypes: true })) {
        const path = join(dir, entry.name);
        if (entry.isDirectory()) {
          if (entry.name !== 'testing') await walk(path);
        } else if (entry.name.endsWith('.ts') && !entry.name.endsWith('.test.ts')) {
          sources.push({ file: relative(root, path), text: await readFile(path, 'utf8') });
        }
      }
    };
    await walk(root);
    // The registry's own table names every code; what counts is a use elsewhere.
    const uses = sources
      .map(({ file, text }) =>
        file === join('core', 'errors.ts')
          ? text.slice(text.indexOf('} as const satisfies'))
          : text,
      )
      .join('\n');
    const unused = Object.keys(ERROR_CODES).filter((code) => !uses.includes(`'${code}'`));
    expect(unused).toEqual([]);
    // The other direction, for codes raised by name: `new KeepsakeError('X', …)`.
    const raised = new Set(
      [...uses.matchAll(/KeepsakeError\(\s*'([A-Z][A-Z0-9_]+)'/g)].map((m) => m[1]!),
    );
    expect(raised.size).toBeGreaterThan(30);
    expect([...raised].filter((code) => !(code in ERROR_CODES))).toEqual([]);
  });
});
